import ArgumentParser
import Dispatch
import Foundation
import LipscopeSolvers

/// `lipscope solve FILE.dat-s|FILE.mps [--solver dsdp|csdp|clp|clp-barrier] [--json]`
struct SolveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "solve",
        abstract: "Solve a standalone SDP (SDPA .dat-s) or LP (MPS) with DSDP, csdp or CLP.",
        discussion: """
        The live iteration table goes to stderr when it is a terminal; the summary goes to \
        stdout. Objectives are in the file's own convention: SDPA's minimization of c'y, the MPS \
        objective row including its constant (minus the RHS on the objective row). Ctrl-C stops \
        the solver and reports status "cancelled". Exit status: 0 the solver reported a status \
        (including infeasible), 1 usage error, 2 input error, 3 solver failure.
        """
    )

    @Argument(help: "Problem file: .dat-s (SDPA sparse) or .mps (free or fixed MPS).")
    var file: String

    @Option(name: .long, help: ArgumentHelp("Backend: dsdp or csdp for SDPs (default dsdp); clp (dual simplex, the LP default) or clp-barrier (interior point, no crossover) for LPs.",
                                            valueName: SolverBackend.allValueStrings.joined(separator: "|")))
    var solver: SolverBackend?

    @Flag(name: .long, help: "Print exactly one JSON object on stdout.")
    var json = false

    @Flag(name: .long, help: "Read MPS in fixed-column layout only (default: free, falling back to fixed).")
    var fixedMps = false

    @Option(name: .long, help: "Relative duality gap tolerance (interior-point backends).")
    var gapTolerance: Double?

    @Option(name: .long, help: "Iteration limit.")
    var maxIterations: Int?

    @Option(name: .long, help: "Wall-clock limit in seconds.")
    var timeLimit: Double?

    func run() throws {
        let problem: ConicProblem
        let lower = file.lowercased()
        do {
            if lower.hasSuffix(".dat-s") {
                problem = .sdp(try SDPAFormat.read(path: file))
            } else if lower.hasSuffix(".mps") {
                problem = .lp(try MPSFormat.read(path: file, layout: fixedMps ? .fixed : .auto))
            } else {
                solveFail("\(file): unknown problem format: expected a .dat-s (SDPA) or .mps file")
                throw ExitCode(2)
            }
        } catch let e as ProblemFileError {
            solveFail(e.description)
            throw ExitCode(2)
        }
        let chosen = solver ?? Solvers.defaultBackend(for: problem)
        guard chosen.solves(problem) else {
            let kind = problem.kind
            let fitting = SolverBackend.solving(kind).map(\.name).joined(separator: ", ")
            solveFail("solver '\(chosen.name)' cannot solve \(kind == .sdp ? "an SDP" : "an LP") (\(kind.rawValue.uppercased())s: \(fitting))")
            throw ExitCode(1)
        }
        let backend = chosen.makeSolver()

        let options = SolverOptions(relativeGapTolerance: gapTolerance, maxIterations: maxIterations, timeLimit: timeLimit)
        let interrupted = StopFlag()
        signal(SIGINT, SIG_IGN)
        let sigint = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        sigint.setEventHandler { interrupted.set() }
        sigint.resume()
        defer { sigint.cancel(); signal(SIGINT, SIG_DFL) }

        let table = LiveIterationTable(enabled: Display.stderrIsTerminal)
        let control = SolverControl(isCancelled: { interrupted.isSet }, onIteration: { table.row($0) })
        let result: SolverResult
        do {
            result = try backend.solve(problem, options: options, control: control)
        } catch {
            solveFail("\(error)")
            throw ExitCode(3)
        }
        table.finish()
        // A cancelled backend may still be finishing its iteration; let it end before exit.
        SolverWorkers.waitUntilIdle(timeout: 5)

        // Objectives in the file's convention (LP results already include the constant).
        let summary = SolveSummary(status: result.status.rawValue, objective: result.primalObjective,
                                   dualObjective: result.dualObjective, iterations: result.iterations,
                                   seconds: result.seconds, solver: result.solver)
        if json {
            print(Display.json(summary))
        } else {
            print("status          \(result.status.rawValue)")
            print("objective       \(solveNumber(result.primalObjective))")
            print("dual objective  \(solveNumber(result.dualObjective))")
            print("iterations      \(result.iterations)")
            print("time            \(String(format: "%.3f s", result.seconds))")
            print("solver          \(result.solver)")
            if !result.message.isEmpty { print("message         \(result.message)") }
        }
    }
}

/// The `--json` object of `lipscope solve` (README: `status`, `objective`, `dual_objective`,
/// `iterations`, `seconds`, `solver`; a missing or non-finite number is null).
struct SolveSummary: Encodable {
    var status: String
    var objective: Double?
    var dualObjective: Double?
    var iterations: Int
    var seconds: Double
    var solver: String

    enum CodingKeys: String, CodingKey {
        case status, objective, dualObjective = "dual_objective", iterations, seconds, solver
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        func number(_ x: Double?, _ key: CodingKeys) throws {
            if let x, x.isFinite { try c.encode(x, forKey: key) } else { try c.encodeNil(forKey: key) }
        }
        try c.encode(status, forKey: .status)
        try number(objective, .objective)
        try number(dualObjective, .dualObjective)
        try c.encode(iterations, forKey: .iterations)
        try number(seconds, .seconds)
        try c.encode(solver, forKey: .solver)
    }
}

/// Plain-text iteration table on stderr (the workbench will draw the same columns).
final class LiveIterationTable: @unchecked Sendable {
    private let enabled: Bool
    private let lock = NSLock()
    private var rows = 0

    init(enabled: Bool) { self.enabled = enabled }

    static let header = ["iter", "time", "primal obj", "dual obj", "rel gap", "p.infeas", "d.infeas", "mu", "p.step", "d.step"]
    static let widths = [5, 8, 15, 15, 9, 9, 9, 9, 6, 6]

    private func line(_ cells: [String]) -> String {
        zip(cells, LiveIterationTable.widths).map { c, w in
            String(repeating: " ", count: max(0, w - c.count)) + c
        }.joined(separator: " ") + "\n"
    }

    func row(_ it: SolverIteration) {
        guard enabled else { return }
        lock.lock(); defer { lock.unlock() }
        var out = ""
        if rows % 40 == 0 { out += line(LiveIterationTable.header) }
        rows += 1
        func e(_ x: Double?, _ f: String = "%.2e") -> String { x.map { String(format: f, $0) } ?? "-" }
        out += line([String(it.iteration), String(format: "%.2f", it.elapsed), e(it.primalObjective, "%.8e"),
                     e(it.dualObjective, "%.8e"), e(it.relativeGap), e(it.primalInfeasibility), e(it.dualInfeasibility),
                     e(it.mu), e(it.primalStep, "%.3f"), e(it.dualStep, "%.3f")])
        FileHandle.standardError.write(Data(out.utf8))
    }

    func finish() {
        guard enabled else { return }
        lock.withLock { rows = 0 }
    }
}

func solveFail(_ message: String) {
    FileHandle.standardError.write(Data("lipscope: \(message)\n".utf8))
}

func solveNumber(_ x: Double?) -> String {
    guard let x else { return "-" }
    return String(format: "%.10g", x)
}
