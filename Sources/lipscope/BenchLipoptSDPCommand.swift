import ArgumentParser
import Foundation
import LipscopeEngine

/// LiPopt-SDP on every SDP entry of a testnets-lipopt expected.json: time, value against the
/// oracle's (within its tolerance), certification, sizes.
struct BenchLipoptSDPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lipopt-sdp",
        abstract: "Time LiPopt-SDP (the moment SDP) on the SDP entries of a testnets-lipopt expected.json, with its default limits.")

    @Option(name: .long, help: "The expected.json (its network files next to it).")
    var expected: String = "Tests/Fixtures/testnets-lipopt/expected.json"

    @Option(name: .long, help: "SDP solver: ipm, dsdp or csdp (default: the method's default).")
    var solver: String?

    @Option(name: .long, help: "Only networks whose file name contains this text.")
    var only: String?

    @Option(name: .long, help: "Only cases with at least this many moments (the oracle's cols).")
    var minMoments: Int = 0

    @Flag(name: .long, help: "Print the results as JSON.")
    var json = false

    struct Row: Encodable {
        var network: String, cliques: String, degree: Int, output: String
        var moments: Int?
        var status: String
        var value: Double?, expected: Double
        /// |value − expected| / (tol · max(1, |expected|)): ≤ 1 passes.
        var error: Double?
        var certified: Bool
        var seconds: Double
        var solveSeconds: Double?
    }

    func run() throws {
        let url = URL(fileURLWithPath: expected)
        let data = try Data(contentsOf: url)
        guard let root = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let networks = root["networks"] as? [String: Any] else {
            throw ValidationError("\(expected): expected an object with \"networks\"")
        }
        let dir = url.deletingLastPathComponent()
        var rows: [Row] = []
        for file in networks.keys.sorted() {
            if let only, !file.contains(only) { continue }
            guard let entry = networks[file] as? [String: Any], let cases = entry["cases"] as? [[String: Any]] else { continue }
            var moments: [String: Int] = [:]
            for c in cases where c["output"] is Int {
                if let cols = c["cols"] as? Int { moments["\(c["method"] ?? "")/\(c["cliques"] ?? "")/\(c["degree"] ?? "")"] = cols }
            }
            var network: Network?
            for c in cases where (c["method"] as? String) == "sdp" {
                guard let cliques = c["cliques"] as? String, let degree = c["degree"] as? Int,
                      let value = c["value"] as? Double, let tol = c["tol_rel"] as? Double else { continue }
                let size = moments["sdp/\(cliques)/\(degree)"]
                if (size ?? 0) < minMoments { continue }
                if network == nil { network = try NetworkLoader.load(path: dir.appendingPathComponent(file).path) }
                let output = c["output"] as? Int
                var options = ["cliques": cliques]
                if let solver { options["solver"] = solver }
                let request = BoundRequest(network: network!, norm: .linf, degree: degree, output: output, options: options)
                let r = Job.run(LiPoptSDPBound(), request)
                var solveSeconds: Double? = nil
                if case .number(let s)? = r.details["solve_seconds"] { solveSeconds = s }
                let err = r.value.map { abs($0 - value) / (tol * max(1, abs(value))) }
                let row = Row(network: file.replacingOccurrences(of: ".json", with: ""), cliques: cliques, degree: degree,
                              output: output.map(String.init) ?? "all", moments: size, status: r.status.rawValue,
                              value: r.value, expected: value, error: err, certified: r.certified,
                              seconds: r.seconds, solveSeconds: solveSeconds)
                rows.append(row)
                if !json {
                    FileHandle.standardError.write(Data("\(row.network) \(cliques) r=\(degree) output \(row.output): \(row.status) \(Presentation.duration(r.seconds))\n".utf8))
                }
            }
        }
        if json {
            print(Display.json(rows))
            return
        }
        let table = rows.map { r -> [String] in
            [r.network, r.cliques, String(r.degree), r.output, r.moments.map(String.init) ?? "—", r.status,
             Presentation.number(r.value), Presentation.number(r.expected),
             r.error.map { String(format: "%.2f", $0) } ?? "—", r.certified ? "yes" : "no",
             r.solveSeconds.map(Presentation.duration) ?? "—", Presentation.duration(r.seconds)]
        }
        print("LiPopt-SDP on \(expected), ℓ∞, solver: \(solver ?? "default")  (error = |value − expected| / tolerance; ≤ 1 passes)")
        print(Display.table(["network", "cliques", "r", "output", "moments", "status", "bound", "expected", "error", "certified", "solve", "total"], table))
        let worst = rows.map(\.seconds).max() ?? 0
        print("cases: \(rows.count), failing: \(rows.filter { ($0.error ?? .infinity) > 1 || !$0.certified }.count), slowest: \(Presentation.duration(worst)), total: \(Presentation.duration(rows.map(\.seconds).reduce(0, +)))")
    }
}
