import Foundation
@testable import LipscopeEngine

/// Fixtures live in Tests/Fixtures (copies of ../shared, so the tests run without it).
enum ScaleFixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func load(_ relative: String) throws -> Network {
        try NetworkLoader.load(path: root.appendingPathComponent(relative).path)
    }

    static func run(_ id: String, _ network: Network, options: [String: String] = [:]) -> BoundResult {
        Job.run(MethodRegistry.method(named: id)!, BoundRequest(network: network, norm: .l2, options: options))
    }

    static func relativeError(_ a: Double?, _ b: Double) -> Double {
        guard let a else { return .infinity }
        return abs(a - b) / abs(b)
    }
}
