import Foundation
import LipscopeEngine

/// Test fixtures live in Tests/Fixtures (copies of ../shared, so tests run without it).
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    static func feedforward(_ relative: String) throws -> FeedforwardNetwork {
        guard case .feedforward(let net) = try NetworkLoader.load(path: path(relative)) else { fatalError("not feedforward") }
        return net
    }

    static func temporaryFile(_ name: String, _ contents: String) -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lipscope-tests-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent(name)
        try! Data(contents.utf8).write(to: url)
        return url.path
    }
}
