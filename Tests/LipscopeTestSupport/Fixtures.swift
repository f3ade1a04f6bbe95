import Foundation
import LipscopeEngine

/// Where the tests' data lives, shared by every test target. Paths are found from this file's
/// own location, so the tests run from any working directory and without ../shared:
/// Tests/Fixtures holds copies of the shared files the tests need.
public enum Fixtures {
    /// The repository root (the directory holding Package.swift).
    public static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// Tests/Fixtures.
    public static let root = repository.appendingPathComponent("Tests/Fixtures")

    /// A file under Tests/Fixtures, e.g. `path("testnets/tiny_relu_1.json")`.
    public static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    /// A file anywhere in the repository, e.g. `repositoryPath("examples/tiny_relu_1.json")`.
    public static func repositoryPath(_ relative: String) -> String { repository.appendingPathComponent(relative).path }

    /// The network stored in a file under Tests/Fixtures.
    public static func load(_ relative: String) throws -> Network { try NetworkLoader.load(path: path(relative)) }

    /// A scratch file with the given bytes, alone in a fresh temporary directory (so two tests
    /// never share one); the caller removes it if it cares.
    public static func temporaryFile(_ name: String, bytes: [UInt8]) -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lipscope-tests-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent(name)
        try! Data(bytes).write(to: url)
        return url.path
    }

    /// A scratch text file (see `temporaryFile(_:bytes:)`).
    public static func temporaryFile(_ name: String, _ contents: String) -> String {
        temporaryFile(name, bytes: Array(contents.utf8))
    }
}
