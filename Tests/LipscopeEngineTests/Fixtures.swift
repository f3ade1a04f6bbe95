import Foundation
import LipscopeEngine

/// Test fixtures live in Tests/Fixtures (copies of ../shared, so tests run without it).
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    static func load(_ relative: String) throws -> Network { try NetworkLoader.load(path: path(relative)) }

    /// A scratch file with the given contents; removed by the caller's `defer`.
    static func temporaryFile(_ name: String, _ contents: String) -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lipscope-tests-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent(name)
        try! Data(contents.utf8).write(to: url)
        return url.path
    }

    static func temporaryFile(_ name: String, bytes: [UInt8]) -> String {
        let path = temporaryFile(name, "")
        try! Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }
}

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
