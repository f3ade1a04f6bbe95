import Foundation
import LipscopeEngine

/// Test fixtures live in Tests/Fixtures (copies of ../shared, so tests run without it).
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func load(_ relative: String) throws -> Network {
        try NetworkLoader.load(path: root.appendingPathComponent(relative).path)
    }

    /// The piecewise linear tiny nets of the reference suite.
    static let tinyNets = ["tiny_relu_1", "tiny_relu_2", "tiny_relu_3", "tiny_relu_4", "tiny_relu_5", "tiny_relu_6",
                           "tiny_relu_deep", "tiny_leaky"]
}
