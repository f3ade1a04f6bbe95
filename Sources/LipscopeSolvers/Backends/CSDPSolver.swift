import Foundation
import LipscopeLinearAlgebra

/// The `csdp` binary (COIN-OR CSDP 6.x) as a subprocess on an exported SDPA file in a
/// temporary directory. Its `Iter:` lines are parsed live; cancellation kills the process.
/// CSDP's primal is SDPA's dual: csdp's Pobj = ⟨F₀, X⟩, Dobj = cᵀy, and its exit codes 1/2
/// ("primal/dual infeasible") map to `.dualInfeasible` / `.primalInfeasible` here.
public struct CSDPSolver: Solver {
    public let name = "csdp"
    /// Path of the binary; nil searches PATH for `csdp`.
    public var executable: String?

    public init(executable: String? = nil) {
        self.executable = executable
    }

    public func supports(_ problem: ConicProblem) -> Bool {
        if case .sdp = problem { return true }
        return false
    }

    public static func findExecutable() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/csdp"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    public func solve(_ problem: ConicProblem, options: SolverOptions, control: SolverControl) throws(SolverError) -> SolverResult {
        guard case .sdp(let sdp) = problem else { throw SolverError(solver: name, message: "csdp solves SDPs only") }
        if let msg = sdp.validate() { throw SolverError(solver: name, message: "invalid problem: \(msg)") }
        guard let exe = executable ?? CSDPSolver.findExecutable() else {
            throw SolverError(solver: name, message: "the csdp binary was not found on PATH (Debian package coinor-csdp)")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lipscope-csdp-\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try SDPAFormat.write(sdp, to: dir.appendingPathComponent("problem.dat-s").path)
            try CSDPSolver.parameterFile(options).write(to: dir.appendingPathComponent("param.csdp"), atomically: true, encoding: .utf8)
        } catch {
            try? FileManager.default.removeItem(at: dir)
            throw SolverError(solver: name, message: "cannot prepare the csdp input in \(dir.path): \(error)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: exe)
        process.arguments = ["problem.dat-s", "solution.sol"]
        process.currentDirectoryURL = dir
        // Debian's csdp is built with OpenMP, whose spinning threads made solves 5–30× slower
        // when the 2 cores were shared (mnist_weights 24.9 s vs 0.50 s) and gave nothing on an
        // idle machine (dnn_d3 0.57 s vs 0.53 s): one thread unless the user chose otherwise.
        var environment = ProcessInfo.processInfo.environment
        if environment["OMP_NUM_THREADS"] == nil { environment["OMP_NUM_THREADS"] = "1" }
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            try? FileManager.default.removeItem(at: dir)
            throw SolverError(solver: name, message: "cannot start \(exe): \(error)")
        }
        let pid = process.processIdentifier
        let m = sdp.variableCount
        let blocks = sdp.blocks
        return SolveRun.run(solverName: name, options: options, control: control) { run in
            run.onStop { kill(pid, SIGKILL) }
            defer { try? FileManager.default.removeItem(at: dir) }
            var output = CSDPOutput()
            let handle = pipe.fileHandleForReading
            var pending = Data()
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                pending.append(chunk)
                while let nl = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = String(decoding: pending[pending.startIndex..<nl], as: UTF8.self)
                    pending.removeSubrange(pending.startIndex...nl)
                    if let it = output.consume(line, elapsed: run.elapsed) { run.emit(it) }
                }
            }
            process.waitUntilExit()
            run.clearStopAction()
            let code = process.terminationStatus
            if run.stopRequested && (process.terminationReason == .uncaughtSignal || code != 0) {
                return SolverResult(status: run.stopReason, iterations: output.lastIteration, seconds: run.elapsed,
                                    solver: "csdp", message: "killed on request")
            }
            let status: SolverStatus
            var message: String
            switch (process.terminationReason, code) {
            case (.uncaughtSignal, _): status = .numericalTrouble; message = "csdp killed by signal \(code)"
            case (_, 0): status = .optimal; message = "success"
            case (_, 1): status = .dualInfeasible; message = "csdp: primal infeasible (SDPA dual infeasible)"
            case (_, 2): status = .primalInfeasible; message = "csdp: dual infeasible (SDPA primal infeasible)"
            case (_, 3): status = .numericalTrouble; message = "csdp: partial success (reduced accuracy)"
            case (_, 4): status = .iterationLimit; message = "csdp: maximum iterations reached"
            default: status = .numericalTrouble; message = "csdp exit code \(code)"
            }
            if let last = output.lastStatusLine { message += " — \(last)" }
            var y: [Double] = []
            var matrices: [Matrix]? = nil
            if status == .optimal || status == .numericalTrouble || status == .iterationLimit {
                if let sol = try? String(contentsOf: dir.appendingPathComponent("solution.sol"), encoding: .utf8) {
                    (y, matrices) = CSDPSolver.parseSolution(sol, m: m, blocks: blocks)
                }
            }
            let verdict = status == .primalInfeasible || status == .dualInfeasible
            // csdp prints 8 digits; recompute cᵀy and ⟨F₀, X⟩ from the full-precision solution.
            var primal = output.finalDual ?? output.lastDobj
            var dual = output.finalPrimal ?? output.lastPobj
            if y.count == m { primal = sdp.objectiveValue(y) }
            if let matrices { dual = CSDPSolver.innerProduct(sdp.matrices[0], matrices, blocks: blocks) }
            return SolverResult(status: status,
                                primalObjective: verdict ? nil : primal,
                                dualObjective: verdict ? nil : dual,
                                x: y, dualMatrices: matrices, iterations: output.lastIteration,
                                seconds: run.elapsed, solver: "csdp", message: message)
        }
    }

    static func parameterFile(_ o: SolverOptions) -> String {
        let feas = o.feasibilityTolerance ?? 1e-8
        let gap = o.relativeGapTolerance ?? 1e-8
        return """
        axtol=\(feas)
        atytol=\(feas)
        objtol=\(gap)
        pinftol=1.0e8
        dinftol=1.0e8
        maxiter=\(o.maxIterations ?? 100)
        minstepfrac=0.90
        maxstepfrac=0.97
        minstepp=1.0e-8
        minstepd=1.0e-8
        usexzgap=1
        tweakgap=0
        affine=0
        printlevel=1
        perturbobj=1
        fastmode=0

        """
    }

    /// ⟨F, X⟩ for block matrices X as returned in `SolverResult.dualMatrices`.
    static func innerProduct(_ f: SDPMatrix, _ x: [Matrix], blocks: [SDPBlock]) -> Double {
        let f = f.expandingLowRank()
        var s = 0.0
        for k in 0..<f.value.count {
            let b = Int(f.block[k]), i = Int(f.row[k]), j = Int(f.col[k])
            if blocks[b].isDiagonal { s += f.value[k] * x[b].storage[i] }
            else { s += f.value[k] * x[b][i, j] * (i == j ? 1 : 2) }
        }
        return s
    }

    /// y from the first line; X (matrix 2 in csdp's file) per block.
    static func parseSolution(_ text: String, m: Int, blocks: [SDPBlock]) -> ([Double], [Matrix]) {
        var lines = LineReader(text)
        var y: [Double] = []
        if let (_, first) = lines.next() {
            y = first.split(separator: " ").compactMap { parseNumber($0) }
        }
        if y.count != m { y = [] }
        var dense = blocks.map { [Double](repeating: 0, count: $0.isDiagonal ? $0.size : $0.size * $0.size) }
        while let (_, line) = lines.next() {
            let t = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard t.count >= 5, t[0] == "2", let b = Int(t[1]), b >= 1, b <= blocks.count,
                  let i = Int(t[2]), let j = Int(t[3]), let v = parseNumber(t[4]) else { continue }
            let n = blocks[b - 1].size
            guard i >= 1, j >= 1, i <= n, j <= n else { continue }
            if blocks[b - 1].isDiagonal { dense[b - 1][i - 1] = v } else {
                dense[b - 1][(i - 1) + (j - 1) * n] = v
                dense[b - 1][(j - 1) + (i - 1) * n] = v
            }
        }
        let mats = blocks.enumerated().map { (b, blk) in
            Matrix(rows: blk.size, columns: blk.isDiagonal ? 1 : blk.size, storage: dense[b])
        }
        return (y, mats)
    }
}

/// Parses csdp's stdout: `Iter: 12 Ap: 1.00e+00 Pobj: 2.58e-01 Ad: 1.00e+00 Dobj: 3.39e-01`,
/// optional `mu:`/`pinfeas:` fields at higher print levels, and the final summary.
struct CSDPOutput {
    var lastIteration = 0
    var lastPobj: Double?
    var lastDobj: Double?
    var finalPrimal: Double?
    var finalDual: Double?
    var lastStatusLine: String?

    mutating func consume(_ line: String, elapsed: Double) -> SolverIteration? {
        let t = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        if t.first == "Iter:" {
            var fields: [String: Double] = [:]
            var k = 0
            while k + 1 < t.count {
                if t[k].hasSuffix(":"), let v = parseNumber(t[k + 1]) { fields[String(t[k].dropLast())] = v; k += 2 } else { k += 1 }
            }
            guard let it = fields["Iter"] else { return nil }
            lastIteration = Int(it)
            lastPobj = fields["Pobj"]; lastDobj = fields["Dobj"]
            // SDPA view: primal = cᵀy = csdp's Dobj; dual = ⟨F₀,X⟩ = csdp's Pobj.
            let gap: Double? = {
                guard let p = lastDobj, let d = lastPobj else { return nil }
                return abs(p - d) / max(1, abs(p), abs(d))
            }()
            return SolverIteration(iteration: Int(it), elapsed: elapsed, primalObjective: lastDobj,
                                   dualObjective: lastPobj, relativeGap: gap,
                                   primalInfeasibility: fields["dinfeas"], dualInfeasibility: fields["pinfeas"],
                                   mu: fields["mu"],
                                   primalStep: Int(it) > 0 ? fields["Ad"] : nil, dualStep: Int(it) > 0 ? fields["Ap"] : nil)
        }
        if line.hasPrefix("Primal objective value:"), let v = t.last.flatMap({ parseNumber($0) }) { finalPrimal = v }
        else if line.hasPrefix("Dual objective value:"), let v = t.last.flatMap({ parseNumber($0) }) { finalDual = v }
        else if line.hasPrefix("Success:") || line.hasPrefix("Partial Success:") || line.hasPrefix("Failure:")
                    || line.hasPrefix("Stuck") || line.hasPrefix("Declaring") {
            lastStatusLine = line.trimmingCharacters(in: .whitespaces)
        }
        return nil
    }
}
