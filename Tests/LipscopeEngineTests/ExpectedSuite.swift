import Foundation
import LipscopeEngine
import LipscopeTestSupport

/// The reference suite ../shared/testnets/expected.json (copied): one check per
/// (network, method, norm) with its tolerance.
struct ExpectedSuite: @unchecked Sendable {
    struct Check: @unchecked Sendable {
        let network: String
        let file: String
        let method: String
        let norm: Norm
        let entry: [String: Any]
        var value: Double { entry["value"] as? Double ?? .nan }
        var kind: String { entry["check"] as! String }
    }

    let checks: [Check]
    let invariantTolerance: Double
    let invariants: [(network: String, file: String, norm: Norm, chain: [String])]

    init(directory: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("\(directory)/expected.json")))
        let root = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        invariantTolerance = root["invariant_rel_tol"] as! Double
        var checks: [Check] = []
        var invariants: [(String, String, Norm, [String])] = []
        for case let c as [String: Any] in root["cases"] as! [Any] {
            let name = c["name"] as! String, file = c["file"] as! String
            for (method, byNorm) in c["checks"] as! [String: Any] {
                for (normName, entry) in byNorm as! [String: Any] {
                    checks.append(Check(network: name, file: file, method: method, norm: Norm(name: normName)!,
                                        entry: entry as! [String: Any]))
                }
            }
            for case let inv as [String: Any] in c["invariants"] as? [Any] ?? [] {
                invariants.append((name, file, Norm(name: inv["norm"] as! String)!, inv["chain"] as! [String]))
            }
        }
        self.checks = checks.sorted { ($0.network, $0.method, $0.norm.rawValue) < ($1.network, $1.method, $1.norm.rawValue) }
        self.invariants = invariants
    }

    /// Whether `result` passes the check, with a message for the failure case.
    static func verify(_ check: Check, _ result: BoundResult) -> (Bool, String) {
        let e = check.entry
        let describe = "\(check.network) \(check.method) \(check.norm.rawValue): got \(result.value.map { "\($0)" } ?? "nil") (\(result.status.rawValue)), expected \(check.value)"
        switch check.kind {
        case "approx":
            guard let v = result.value else { return (false, describe) }
            let tol = (e["abs_tol"] as! Double) + (e["rel_tol"] as! Double) * abs(check.value)
            return (abs(v - check.value) <= tol, describe)
        case "optimum":
            guard let v = result.value else { return (false, describe) }
            let low = check.value * (1 - (e["rel_tol_below"] as! Double))
            let high = check.value * (1 + (e["rel_tol_above"] as! Double))
            return (v >= low && v <= high, describe)
        case "lower_bound":
            guard let v = result.value else { return (false, describe) }
            let upper = (e["upper"] as! Double) * (1 + (e["rel_tol_above"] as! Double))
            let floor = e["floor"] as! Double
            return (v <= upper && v >= floor, describe + " (must lie in [\(floor), \(upper)])")
        case "status":
            return (result.status == .notContractive, describe)
        default:
            return (false, "unknown check kind \(check.kind)")
        }
    }
}
