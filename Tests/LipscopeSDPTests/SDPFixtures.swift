import Foundation
import LipscopeLinearAlgebra
@testable import LipscopeEngine
import LipscopeTestSupport

/// Running the SDP methods the way these tests do (files come from the shared `Fixtures`).
enum SDPFixtures {
    static func run(_ id: String, _ network: Network, norm: Norm = .l2, output: Int? = nil,
                    options: [String: String] = [:]) -> BoundResult {
        Job.run(MethodRegistry.method(named: id)!, BoundRequest(network: network, norm: norm, output: output, options: options))
    }

    static func relativeError(_ a: Double?, _ b: Double) -> Double {
        guard let a else { return .infinity }
        return abs(a - b) / abs(b)
    }
}

/// The SDP part of ../shared/testnets/expected.json.
struct SDPExpected: @unchecked Sendable {
    struct Check: @unchecked Sendable, CustomStringConvertible {
        let network: String, file: String, method: String
        let value: Double, relTol: Double, absTol: Double
        var description: String { "\(network) \(method)" }
    }

    let checks: [Check]
    let invariantTolerance: Double
    /// ℓ2 ordering chains per file.
    let chains: [String: [String]]
    let root: [String: Any]

    static let sdpMethods: Set<String> = ["lipsdp-neuron", "lipsdp-layer", "implicit-sdp"]

    init() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("testnets/expected.json")))
        root = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        invariantTolerance = root["invariant_rel_tol"] as! Double
        var checks: [Check] = []
        var chains: [String: [String]] = [:]
        for case let c as [String: Any] in root["cases"] as! [Any] {
            let name = c["name"] as! String, file = c["file"] as! String
            for (method, byNorm) in c["checks"] as! [String: Any] where Self.sdpMethods.contains(method) {
                for (_, entry) in byNorm as! [String: Any] {
                    let e = entry as! [String: Any]
                    checks.append(Check(network: name, file: file, method: method, value: e["value"] as! Double,
                                        relTol: e["rel_tol"] as? Double ?? 1e-3, absTol: e["abs_tol"] as? Double ?? 0))
                }
            }
            for case let inv as [String: Any] in c["invariants"] as? [Any] ?? [] where (inv["norm"] as! String) == "l2" {
                chains[file] = inv["chain"] as? [String]
            }
        }
        self.checks = checks.sorted { ($0.file, $0.method) < ($1.file, $1.method) }
        self.chains = chains
    }

    func reference(_ name: String) -> [String: Any] {
        let c = (root["cases"] as! [[String: Any]]).first { ($0["name"] as! String) == name }!
        return c["reference"] as! [String: Any]
    }
}
