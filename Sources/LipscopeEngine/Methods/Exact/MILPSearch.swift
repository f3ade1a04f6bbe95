import CCbcExt
import Foundation

/// Solves `LipMIPProblem` with COIN-OR CBC in-process, streaming the incumbent and CBC's bound
/// as iterations (at most every 0.2 s) and stopping within one node of a cancel or the time
/// limit. Every incumbent is re-checked before it counts: the true Jacobian at its input, and
/// the deepest point of its activation pattern's region (`RegionLP`) with its true Jacobian, so
/// the lower bound is always ‖J(witness)‖ of a real input. CBC's bound is the solver's word
/// (its branch-and-cut tree is not re-verified) and is reported as such.
struct MILPSearch {
    struct Outcome {
        var lower = 0.0
        var witness: [Double] = []
        /// CBC's best possible objective: an upper bound on its own problem, not certified.
        var solverBound = Double.infinity
        var solverIncumbent = Double.nan
        var nodes = 0
        var binaries = 0
        var status = "optimal"
        var cancelled = false
        /// Iteration rows streamed (the next phase numbers its rows after these).
        var iterations = 0
        var seconds = 0.0
    }

    let net: PiecewiseLinearNet
    let box: InputRegion
    /// Region LPs run inside this (the asked region; nil over all of Rⁿ).
    let region: InputRegion?
    let patterns: PatternSearch
    let relativeGap: Double
    let timeLimit: Double

    /// Mutable state the C callback reaches through its context pointer.
    final class Progress {
        let search: MILPSearch
        let context: JobContext
        let inputColumns: [Int]
        let bitColumns: [Int?]
        let fixedBits: [Int8]
        var outcome = Outcome()
        var lastReport = -1.0
        var iteration = 0
        init(search: MILPSearch, context: JobContext, problem: LipMIPProblem) {
            self.search = search; self.context = context
            inputColumns = problem.inputColumns; bitColumns = problem.bitColumns; fixedBits = problem.fixedBits
        }

        func offer(_ solution: UnsafePointer<Double>?, columns: Int) {
            guard let solution else { return }
            let x = inputColumns.map { solution[$0] }
            let bits = zip(bitColumns, fixedBits).map { c, f in c.map { solution[$0] > 0.5 ? Int8(1) : 0 } ?? f }
            search.verify(x, bits: bits, into: &outcome)
        }

        func report(force: Bool) {
            let now = context.elapsed
            guard force || now - lastReport >= 0.2 else { return }
            lastReport = now
            iteration += 1
            let upper = outcome.solverBound
            let gap = upper > 0 && upper.isFinite ? max(0, (upper - outcome.lower) / upper) : 1
            context.iteration(iteration, [Metric("lower", outcome.lower), Metric("upper", upper),
                                          Metric("gap", gap), Metric("nodes", Double(outcome.nodes))])
        }
    }

    /// The true Jacobian at x, then at the deepest point of the region of the MILP's pattern
    /// (x may sit on a boundary, or inside the solver's tolerances of the big-M rows, where
    /// the MILP's bits and the function's pattern disagree).
    func verify(_ x: [Double], bits: [Int8], into out: inout Outcome) {
        var o = PatternSearch.Outcome()
        o.lower = out.lower
        try? patterns.offer(x, node: nil, to: &o)
        var node = PatternSearch.Node(bits: bits, branched: .init(repeating: true, count: bits.count), bound: .infinity)
        for k in 0..<net.hiddenLayerCount {
            for i in 0..<net.weights[k].rows where net.negativeSlope[k][i] == net.positiveSlope[k][i] {
                node.branched[net.layerStart[k] + i] = false
            }
        }
        let (rows, _) = patterns.affineRows(&node)
        if case .interior(let inside, _) = RegionLP(operations: net.productRoundingOperations)
            .solve(rows: rows, inputSize: net.inputSize, box: region) {
            try? patterns.offer(inside, node: nil, to: &o)
        }
        if o.lower > out.lower { out.lower = o.lower; out.witness = o.witness }
    }

    func run(context: JobContext, seed: (value: Double, witness: [Double])?) throws -> Outcome {
        let started = context.elapsed
        let problem = try LipMIPProblem(net: net, box: box)
        let (start, index, value) = problem.columnMajor()
        let cols = problem.columns
        let progress = Progress(search: self, context: context, problem: problem)
        progress.outcome.binaries = problem.binaryCount
        if let seed { progress.outcome.lower = seed.value; progress.outcome.witness = seed.witness }
        var solution = [Double](repeating: 0, count: cols.count)
        let callback: cbcx_progress_fn = { ctx, event, incumbent, bound, nodes, solution, columns in
            let p = Unmanaged<MILPSearch.Progress>.fromOpaque(ctx!).takeUnretainedValue()
            p.outcome.nodes = Int(nodes)
            if bound.isFinite { p.outcome.solverBound = bound }
            if event == 1 || (incumbent.isFinite && !(incumbent <= p.outcome.solverIncumbent)) {
                if incumbent.isFinite { p.outcome.solverIncumbent = incumbent }
                p.offer(solution, columns: Int(columns))
            }
            p.report(force: false)
            if p.context.isCancelled || p.context.elapsed >= p.search.timeLimit { return 1 }
            return 0
        }
        let remaining = max(0.01, timeLimit - context.elapsed)
        let result = withExtendedLifetime(progress) {
            cbcx_solve(Int32(cols.count), Int32(problem.rows.count), start, index, value,
                       cols.map(\.lower), cols.map(\.upper), cols.map(\.cost),
                       problem.rows.map(\.lower), problem.rows.map(\.upper), cols.map { $0.integer ? 1 : 0 },
                       1, relativeGap, remaining, callback, Unmanaged.passUnretained(progress).toOpaque(), &solution)
        }
        var out = progress.outcome
        out.nodes = Int(result.nodes)
        if result.bound.isFinite { out.solverBound = result.bound }
        if result.has_solution != 0 {
            out.solverIncumbent = result.objective
            progress.outcome = out
            solution.withUnsafeBufferPointer { progress.offer($0.baseAddress, columns: cols.count) }
            out = progress.outcome
        }
        switch result.status {
        case 0: out.status = "optimal"
        case 1: out.status = context.isCancelled ? "cancelled" : "time limit"
        case 2: out.status = "infeasible"
        default: out.status = "solver status \(result.status)"
        }
        out.cancelled = context.isCancelled
        progress.outcome = out
        progress.report(force: true)
        out.iterations = progress.iteration
        out.seconds = context.elapsed - started
        return out
    }
}
