import Foundation
import LipscopeEngine
import LipscopeTestSupport

/// Tests/Fixtures/testnets-lipopt is a copy of ../shared/testnets-lipopt.
enum LiPoptFixtures {
    static let root = Fixtures.root.appendingPathComponent("testnets-lipopt")

    static func load(_ file: String) throws -> Network { try Fixtures.load("testnets-lipopt/\(file)") }
}

/// One entry of expected.json.
struct LiPoptCase: Sendable, CustomStringConvertible {
    let file: String
    let method: String      // "lp" | "sdp"
    let cliques: String     // "dense" | "sparse"
    let degree: Int
    let output: Int?        // nil = "all"
    let value: Double
    let tolerance: Double
    let rows: Int?, cols: Int?, nnz: Int?
    let pstar: Double?
    let certified: Double?
    let inaccurate: Bool

    var description: String { "\(file) \(method) \(cliques) k=\(degree) output \(output.map(String.init) ?? "all")" }
    var size: Int { nnz ?? 0 }

    static func all() throws -> [LiPoptCase] {
        let data = try Data(contentsOf: LiPoptFixtures.root.appendingPathComponent("expected.json"))
        let root = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        var out: [LiPoptCase] = []
        for (file, entry) in root["networks"] as! [String: Any] {
            let net = entry as! [String: Any]
            let pstar = (net["pstar"] as? [String: Any])?["per_output"] as? [Double]
            let pstarAll = (net["pstar"] as? [String: Any])?["value"] as? Double
            var sizes: [String: (Int?, Int?, Int?)] = [:]
            let cases = net["cases"] as! [[String: Any]]
            for c in cases where c["output"] is Int {
                sizes["\(c["method"]!)/\(c["cliques"]!)/\(c["degree"]!)"] = (c["rows"] as? Int, c["cols"] as? Int, c["nnz"] as? Int)
            }
            for c in cases {
                let output = c["output"] as? Int
                let key = "\(c["method"]!)/\(c["cliques"]!)/\(c["degree"]!)"
                let s = sizes[key] ?? (nil, nil, nil)
                out.append(LiPoptCase(file: file, method: c["method"] as! String, cliques: c["cliques"] as! String,
                                      degree: c["degree"] as! Int, output: output, value: c["value"] as! Double,
                                      tolerance: c["tol_rel"] as! Double, rows: s.0, cols: s.1, nnz: s.2,
                                      pstar: output.map { pstar?[$0] } ?? pstarAll,
                                      certified: c["certified_value"] as? Double,
                                      inaccurate: (c["status"] as? String) == "optimal_inaccurate"))
            }
        }
        return out.sorted { ($0.file, $0.method, $0.cliques, $0.degree, $0.output ?? -1) < ($1.file, $1.method, $1.cliques, $1.degree, $1.output ?? -1) }
    }

    func request(_ network: Network) -> BoundRequest {
        // Each hierarchy gets only the options it declares (an undeclared one fails the run).
        BoundRequest(network: network, norm: .linf, degree: degree, output: output,
                     options: method == "lp" ? ["cliques": cliques, "max_lp_nonzeros": "100000000"] : ["cliques": cliques])
    }

    func matches(_ v: Double) -> Bool { abs(v - value) <= tolerance * max(1, abs(value)) }
}
