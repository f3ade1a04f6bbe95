import ArgumentParser
import Foundation
import LipscopeSolvers

/// `lipscope bench solvers`: DSDP (with csdp on the same file) over the SDPLIB acceptance
/// set, CLP over the NETLIB acceptance set; time, iterations, relative error to the known
/// optimum, DSDP/csdp time ratio.
struct BenchSolversCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "solvers",
        abstract: "Benchmark the SDP and LP backends on SDPLIB and NETLIB instances.",
        discussion: """
        Looks for sdplib/ and netlib/ under --data, then ../shared/data, /work/shared/data and \
        Tests/Fixtures. Relative error is |obj - opt| / max(1, |opt|) against the SDPLIB table \
        (SDPA sign convention) and the Netlib table (objective constant included).
        """
    )

    @Option(name: .long, help: "Directory holding sdplib/ and netlib/.")
    var data: String?

    @Flag(name: .long, help: "Only the SDP instances.")
    var sdpOnly = false

    @Flag(name: .long, help: "Only the LP instances.")
    var lpOnly = false

    @Flag(name: .long, help: "Skip the csdp cross-check.")
    var noCsdp = false

    @Option(name: .long, help: "Per-solve time limit in seconds.")
    var timeLimit: Double = 600

    /// SDPLIB 1.2 table values (SDPA convention); nil = expected infeasible.
    static let sdpInstances: [(name: String, optimum: Double?, expected: SolverStatus)] = [
        ("truss1", -8.999996, .optimal), ("truss3", -9.109996, .optimal), ("truss4", -9.009996, .optimal),
        ("hinf1", 2.0326, .optimal), ("control1", 17.78463, .optimal), ("control2", 8.3, .optimal),
        ("theta1", 23.0, .optimal), ("qap5", -436.0, .optimal), ("mcp100", 226.1574, .optimal),
        ("gpp100", -44.9435, .optimal), ("arch0", 0.566517, .optimal),
        ("infp1", nil, .primalInfeasible), ("infd1", nil, .dualInfeasible),
    ]

    /// Netlib readme optima (MINOS 5.3; objective-row RHS constants are zero for these).
    static let lpInstances: [(name: String, optimum: Double)] = [
        ("afiro", -4.6475314286e+02), ("sc50a", -6.4575077059e+01), ("sc50b", -7.0000000000e+01),
        ("adlittle", 2.2549496316e+05), ("blend", -3.0812149846e+01), ("kb2", -1.7499001299e+03),
        ("sc105", -5.2202061212e+01), ("share2b", -4.1573224074e+02), ("stocfor1", -4.1131976219e+04),
    ]

    func dataDirectory(_ sub: String, _ probe: String) -> String? {
        var candidates: [String] = []
        if let data { candidates.append(data) }
        if let env = ProcessInfo.processInfo.environment["LIPSCOPE_DATA"] { candidates.append(env) }
        candidates += ["../shared/data", "/work/shared/data", "Tests/Fixtures"]
        for c in candidates where FileManager.default.fileExists(atPath: "\(c)/\(sub)/\(probe)") { return "\(c)/\(sub)" }
        return nil
    }

    func run() throws {
        let options = SolverOptions(timeLimit: timeLimit)
        if !lpOnly {
            guard let dir = dataDirectory("sdplib", "truss1.dat-s") else {
                solveFail("no sdplib/ directory found (use --data DIR)")
                throw ExitCode(2)
            }
            print("SDPLIB (\(dir)): DSDP vs csdp, relative error to the SDPLIB optimum")
            var rows: [[String]] = []
            for inst in Self.sdpInstances {
                let path = "\(dir)/\(inst.name).dat-s"
                let p: SDPProblem
                do { p = try SDPAFormat.read(path: path) } catch {
                    solveFail("\(error)"); throw ExitCode(2)
                }
                let d = benchSolve(DSDPSolver(), .sdp(p), options)
                let c = noCsdp ? nil : benchSolve(CSDPSolver(), .sdp(p), options)
                let ratio: String
                if let c, let ct = c.result?.seconds, let dt = d.result?.seconds, ct > 0 { ratio = String(format: "%.2f", dt / ct) } else { ratio = "-" }
                let row = [inst.name, "\(p.variableCount)", "\(p.totalDimension)",
                           d.statusText, errorText(d.result, inst.optimum, inst.expected), d.itersText, d.timeText,
                           c?.statusText ?? "-", c.map { errorText($0.result, inst.optimum, inst.expected) } ?? "-",
                           c?.itersText ?? "-", c?.timeText ?? "-", ratio]
                rows.append(row)
                FileHandle.standardError.write(Data("  \(inst.name): dsdp \(d.statusText) \(d.timeText)\(c.map { ", csdp \($0.statusText) \($0.timeText)" } ?? "")\n".utf8))
            }
            print(Display.table(["instance", "m", "n", "dsdp", "rel.err", "iter", "time", "csdp", "rel.err", "iter", "time", "dsdp/csdp"], rows))
            print("")
        }
        if !sdpOnly {
            guard let dir = dataDirectory("netlib", "afiro.mps") else {
                solveFail("no netlib/ directory found (use --data DIR)")
                throw ExitCode(2)
            }
            print("NETLIB (\(dir)): CLP dual simplex, relative error to the Netlib optimum")
            var rows: [[String]] = []
            for inst in Self.lpInstances {
                let p: LPProblem
                do { p = try MPSFormat.read(path: "\(dir)/\(inst.name).mps") } catch {
                    solveFail("\(error)"); throw ExitCode(2)
                }
                let r = benchSolve(CLPSolver(), .lp(p), options)
                rows.append([inst.name, "\(p.rowCount)", "\(p.columnCount)", r.statusText,
                             solveNumber(r.result?.primalObjective), errorText(r.result, inst.optimum, .optimal),
                             r.itersText, r.timeText])
            }
            print(Display.table(["instance", "rows", "cols", "clp", "objective", "rel.err", "iter", "time"], rows))
        }
    }

    struct Outcome {
        var result: SolverResult?
        var error: String?
        var statusText: String { result?.status.rawValue ?? "error" }
        var itersText: String { result.map { "\($0.iterations)" } ?? "-" }
        var timeText: String { result.map { String(format: "%.3f", $0.seconds) } ?? "-" }
    }

    func benchSolve(_ s: any Solver, _ p: ConicProblem, _ o: SolverOptions) -> Outcome {
        do { return Outcome(result: try s.solve(p, options: o, control: .silent)) } catch {
            return Outcome(result: nil, error: "\(error)")
        }
    }

    func errorText(_ r: SolverResult?, _ optimum: Double?, _ expected: SolverStatus) -> String {
        guard let r else { return "-" }
        guard let optimum else { return r.status == expected ? "ok" : "WRONG" }
        guard let obj = r.primalObjective else { return "-" }
        return String(format: "%.1e", abs(obj - optimum) / max(1, abs(optimum)))
    }
}
