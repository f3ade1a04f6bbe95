// swift-tools-version:6.0
import PackageDescription

// Layout (one target per responsibility):
//   CLapack, CDSDP, CClpExt  C libraries (OpenBLAS/LAPACKE, DSDP, COIN-OR CLP + stop/quiet shim)
//   CCbcExt                  COIN-OR CBC (MILP) with a progress/stop event handler
//   LipscopeLinearAlgebra    dense/sparse matrices and the LAPACK calls the engine needs
//   LipscopeSolvers          conic problems (LP, SDP), their file formats and solver backends
//   LipscopeEngine           networks, formats, bound methods, certificates, jobs (no UI)
//   lipscope                 the CLI (and the workbench), thin clients of the engine
let package = Package(
    name: "lipscope",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "lipscope", targets: ["lipscope"]),
        .library(name: "LipscopeEngine", targets: ["LipscopeEngine"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.28.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        // Exact integers for the emptiness certificates of `exact` over all of Rⁿ.
        .package(url: "https://github.com/attaswift/BigInt", from: "6.0.1"),
    ],
    targets: [
        .systemLibrary(name: "CLapack", path: "Sources/CLapack"),
        .systemLibrary(name: "CDSDP", path: "Sources/CDSDP"),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        // Generated from onnx.proto once and committed (see Sources/ONNXProto/Generation.swift).
        .target(
            name: "ONNXProto",
            dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")]
        ),
        .systemLibrary(name: "CNcurses", path: "Sources/CNcurses"),
        .target(
            name: "CClpExt",
            path: "Sources/CClpExt",
            linkerSettings: [.linkedLibrary("Clp"), .linkedLibrary("CoinUtils"), .linkedLibrary("amd")]
        ),
        // COIN-OR CBC with an event handler for live incumbent/bound and a stop (not in its C API).
        .target(
            name: "CCbcExt",
            path: "Sources/CCbcExt",
            linkerSettings: [.linkedLibrary("Cbc"), .linkedLibrary("Cgl"), .linkedLibrary("OsiClp"),
                             .linkedLibrary("Osi"), .linkedLibrary("Clp"), .linkedLibrary("CoinUtils")]
        ),
        .target(name: "LipscopeLinearAlgebra", dependencies: ["CLapack"]),
        .target(
            name: "LipscopeSolvers",
            dependencies: ["LipscopeLinearAlgebra", "CDSDP", "CClpExt", "CLapack"]
        ),
        .target(
            name: "LipscopeEngine",
            dependencies: [
                "LipscopeLinearAlgebra", "LipscopeSolvers", "ONNXProto", "CZlib", "CClpExt", "CCbcExt",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "BigInt", package: "BigInt"),
            ]
        ),
        .target(name: "LipscopeTUI", dependencies: ["LipscopeEngine", "CNcurses"]),
        .executableTarget(
            name: "lipscope",
            dependencies: [
                "LipscopeEngine",
                "LipscopeSolvers",
                "LipscopeTUI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Fixture paths and scratch files, shared by every test target.
        .target(
            name: "LipscopeTestSupport",
            dependencies: ["LipscopeEngine"],
            path: "Tests/LipscopeTestSupport"
        ),
        .testTarget(
            name: "LipscopeEngineTests",
            dependencies: ["LipscopeTestSupport", "LipscopeEngine", "LipscopeLinearAlgebra"],
            path: "Tests/LipscopeEngineTests"
        ),
        .testTarget(
            name: "LipscopeFormatsTests",
            dependencies: ["LipscopeTestSupport", "LipscopeEngine", "LipscopeLinearAlgebra", "ONNXProto"],
            path: "Tests/LipscopeFormatsTests"
        ),
        .testTarget(
            name: "LipscopeSolversTests",
            dependencies: ["LipscopeTestSupport", "LipscopeSolvers", "LipscopeLinearAlgebra"],
            path: "Tests/LipscopeSolversTests"
        ),
        .testTarget(
            name: "LipscopeLiPoptTests",
            dependencies: ["LipscopeTestSupport", "LipscopeEngine", "LipscopeSolvers"],
            path: "Tests/LipscopeLiPoptTests"
        ),
        .testTarget(
            name: "LipscopeSDPTests",
            dependencies: ["LipscopeTestSupport", "LipscopeEngine", "LipscopeSolvers", "LipscopeLinearAlgebra"],
            path: "Tests/LipscopeSDPTests"
        ),
        .testTarget(
            name: "LipscopeTrainingTests",
            dependencies: ["LipscopeTestSupport", "LipscopeEngine", "LipscopeLinearAlgebra", "lipscope"],
            path: "Tests/LipscopeTrainingTests"
        ),
        .testTarget(
            name: "LipscopeScaleTests",
            dependencies: ["LipscopeTestSupport", "LipscopeEngine", "LipscopeLinearAlgebra"],
            path: "Tests/LipscopeScaleTests"
        ),
        .testTarget(
            name: "LipscopeLocalTests",
            dependencies: ["LipscopeTestSupport", "LipscopeEngine", "LipscopeLinearAlgebra"],
            path: "Tests/LipscopeLocalTests"
        ),
        .testTarget(
            name: "LipscopeExactTests",
            dependencies: ["LipscopeTestSupport", "LipscopeEngine", "LipscopeSolvers", "LipscopeLinearAlgebra",
                           .product(name: "BigInt", package: "BigInt")],
            path: "Tests/LipscopeExactTests"
        ),
        .testTarget(
            name: "LipscopeCLITests",
            dependencies: ["LipscopeTestSupport", "lipscope"],
            path: "Tests/LipscopeCLITests"
        ),
        .testTarget(
            name: "LipscopeTUITests",
            dependencies: ["LipscopeTestSupport", "LipscopeTUI", "LipscopeEngine", "lipscope"],
            path: "Tests/LipscopeTUITests"
        ),
    ],
    swiftLanguageModes: [.v6]
)
