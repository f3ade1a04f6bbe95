import Foundation
@testable import LipscopeEngine
import LipscopeTestSupport

/// What the scale suites share beyond the fixture files (`Fixtures` of LipscopeTestSupport).
enum ScaleFixtures {
    static func run(_ id: String, _ network: Network, options: [String: String] = [:]) -> BoundResult {
        Job.run(MethodRegistry.method(named: id)!, BoundRequest(network: network, norm: .l2, options: options))
    }

    static func relativeError(_ a: Double?, _ b: Double) -> Double {
        guard let a else { return .infinity }
        return abs(a - b) / abs(b)
    }
}
