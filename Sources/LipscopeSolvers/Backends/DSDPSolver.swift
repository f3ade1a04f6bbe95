import CDSDP
import Foundation
import LipscopeLinearAlgebra
import Synchronization

/// DSDP 5.8 in-process (dual-scaling interior point). DSDP solves
///     maximize bᵀy  subject to  C − Σ yᵢAᵢ ⪰ 0,
/// which is the SDPA LMI form with C = −F₀, Aᵢ = −Fᵢ, b = −c. Diagonal blocks go to one
/// DSDP LP cone. Rank-one data (a single `SDPRankOneTerm` on a block with no sparse
/// entries) is passed to DSDP as rank-one matrices.
public struct DSDPSolver: Solver {
    public let name = "dsdp"

    /// Relative gap tolerance when the options give none.
    public var defaultGapTolerance = 1e-7
    /// DSDP sometimes stops on short steps or an indefinite Schur matrix right at the optimum
    /// (qap5, gpp100 with tight tolerances). Such a stop counts as `.optimal` when both
    /// objectives are finite and their relative gap is at most this.
    public var acceptedGapOnNumericalStop = 1e-6

    public init() {}

    public func supports(_ problem: ConicProblem) -> Bool {
        if case .sdp = problem { return true }
        return false
    }

    public func solve(_ problem: ConicProblem, options: SolverOptions, control: SolverControl) throws(SolverError) -> SolverResult {
        guard case .sdp(let sdp) = problem else { throw SolverError(solver: name, message: "DSDP solves SDPs only") }
        if let msg = sdp.validate() { throw SolverError(solver: name, message: "invalid problem: \(msg)") }
        if sdp.variableCount == 0 { throw SolverError(solver: name, message: "the problem has no variables") }
        let gapTol = options.relativeGapTolerance ?? defaultGapTolerance
        let accept = max(acceptedGapOnNumericalStop, gapTol)
        return SolveRun.run(solverName: name, options: options, control: control) { run in
            dsdpGlobalLock.withLock { _ in DSDPSolver.solveNow(sdp, gapTolerance: gapTol, acceptGap: accept, run: run) }
        }
    }

    /// DSDP keeps some global state (event log, output file); one solve at a time. The phases:
    /// lay the blocks out, prepare the data, hand it to DSDP's cones, set the options and the
    /// monitor, solve, read the solution back and classify how DSDP stopped.
    private static func solveNow(_ p: SDPProblem, gapTolerance: Double, acceptGap: Double, run: SolveRun) -> SolverResult {
        let m = p.variableCount
        func fail(_ msg: String) -> SolverResult {
            SolverResult(status: .numericalTrouble, seconds: run.elapsed, solver: "dsdp", message: msg)
        }
        if run.stopRequested { return SolverResult(status: run.stopReason, solver: "dsdp", message: "stopped before start") }

        let layout = BlockLayout(p)
        let data = PreparedData(p)

        // Buffers DSDP points into; freed after DSDPDestroy.
        let buffers = DataBuffers(sdpEntries: data.sdpNonzeros, lpEntries: data.lpNonzeros, variables: m)
        defer { buffers.deallocate() }

        var dsdpOpt: DSDP? = nil
        guard DSDPCreate(Int32(m), &dsdpOpt) == 0, let dsdp = dsdpOpt else { return fail("DSDPCreate failed") }
        defer { DSDPDestroy(dsdp) }

        for i in 0..<m { DSDPSetDualObjective(dsdp, Int32(i + 1), -p.objective[i]) }

        var cone: SDPCone? = nil
        if layout.sdpBlocks > 0 {
            switch loadSDPCone(dsdp, p, data.matrices, layout, buffers) {
            case .success(let c): cone = c
            case .failure(let message): return fail(message.text)
            }
        }
        var lpcone: LPCone? = nil
        if layout.lpRows > 0 {
            switch loadLPCone(dsdp, p, data.matrices, layout, buffers) {
            case .success(let c): lpcone = c
            case .failure(let message): return fail(message.text)
            }
        }

        setOptions(dsdp, p, lpRows: layout.lpRows, gapTolerance: gapTolerance, options: run.options)
        let ctx = DSDPMonitorContext(run: run)
        DSDPSetMonitor(dsdp, { d, raw in DSDPSolver.reportIteration(d, raw) }, Unmanaged.passUnretained(ctx).toOpaque())

        if DSDPSetup(dsdp) != 0 { return fail("DSDPSetup failed (insufficient memory or invalid data)") }
        let solveInfo = DSDPSolve(dsdp)
        var reason = DSDPTerminationReason(rawValue: 0)
        DSDPStopReason(dsdp, &reason)
        if reason != DSDP_INFEASIBLE_START { DSDPComputeX(dsdp) }
        var soltype = DSDPSolutionType(rawValue: 0)
        DSDPGetSolutionType(dsdp, &soltype)
        withExtendedLifetime(ctx) {}

        var y = [Double](repeating: 0, count: m)
        DSDPGetY(dsdp, &y, Int32(m))
        var ddobj = 0.0, ppobj = 0.0
        DSDPGetDObjective(dsdp, &ddobj)
        DSDPGetPObjective(dsdp, &ppobj)
        var its: Int32 = 0
        DSDPGetIts(dsdp, &its)
        let matrices = reason == DSDP_INFEASIBLE_START ? nil : dualMatrices(p, layout, cone: cone, lpcone: lpcone)

        let (finalStatus, message) = classify(reason: reason, solutionType: soltype, solveInfo: solveInfo,
                                              dualObjective: ddobj, primalObjective: ppobj, acceptGap: acceptGap, run: run)
        let feasibleVerdict = finalStatus == .primalInfeasible || finalStatus == .dualInfeasible
        return SolverResult(status: finalStatus,
                            primalObjective: feasibleVerdict ? nil : -ddobj,
                            dualObjective: feasibleVerdict ? nil : -ppobj,
                            x: y, dualMatrices: matrices, iterations: Int(its), seconds: run.elapsed,
                            solver: "dsdp", message: message)
    }

    // MARK: Layout and data

    /// Where each block goes: dense blocks become SDP cone blocks, diagonal blocks rows of
    /// one LP cone.
    private struct BlockLayout {
        /// Dense block → SDP cone block (−1 for diagonal blocks).
        var coneIndex: [Int]
        /// Diagonal block → its first LP row (−1 for dense blocks).
        var lpOffset: [Int]
        var sdpBlocks = 0
        var lpRows = 0

        init(_ p: SDPProblem) {
            coneIndex = [Int](repeating: -1, count: p.blocks.count)
            lpOffset = [Int](repeating: -1, count: p.blocks.count)
            for (b, blk) in p.blocks.enumerated() {
                if blk.isDiagonal { lpOffset[b] = lpRows; lpRows += blk.size } else { coneIndex[b] = sdpBlocks; sdpBlocks += 1 }
            }
        }
    }

    /// The constraint matrices as DSDP receives them, and the buffer sizes they need.
    private struct PreparedData {
        var matrices: [SDPMatrix] = []
        /// Sparse SDP entries plus rank-one vector entries.
        var sdpNonzeros = 0
        /// Entries of diagonal (LP) blocks.
        var lpNonzeros = 0

        init(_ p: SDPProblem) {
            matrices.reserveCapacity(p.variableCount + 1)
            for mat in p.matrices {
                let mm = Self.splittingLowRank(mat, p)
                for k in 0..<mm.value.count {
                    if p.blocks[Int(mm.block[k])].isDiagonal { lpNonzeros += 1 } else { sdpNonzeros += 1 }
                }
                for t in mm.lowRank { sdpNonzeros += t.indices.count }
                matrices.append(mm)
            }
        }

        /// Rank-one terms stay rank-one only when alone on their (dense) block; the others are
        /// expanded into sparse entries.
        static func splittingLowRank(_ mat: SDPMatrix, _ p: SDPProblem) -> SDPMatrix {
            guard !mat.lowRank.isEmpty else { return mat }
            var mm = mat
            var keep: [SDPRankOneTerm] = []
            var expand: [SDPRankOneTerm] = []
            var perBlock: [Int: Int] = [:]
            for t in mat.lowRank { perBlock[t.block, default: 0] += 1 }
            for t in mat.lowRank {
                if perBlock[t.block] == 1 && mat.entryRange(inBlock: t.block).isEmpty && !p.blocks[t.block].isDiagonal {
                    keep.append(t)
                } else { expand.append(t) }
            }
            if !expand.isEmpty {
                var tmp = mat
                tmp.lowRank = expand
                mm = tmp.expandingLowRank()
            }
            mm.lowRank = keep
            return mm
        }
    }

    /// Memory DSDP keeps pointers into until it is destroyed.
    private struct DataBuffers {
        let index: UnsafeMutablePointer<Int32>
        let value: UnsafeMutablePointer<Double>
        let lpBegin: UnsafeMutablePointer<Int32>
        let lpRow: UnsafeMutablePointer<Int32>
        let lpValue: UnsafeMutablePointer<Double>

        init(sdpEntries: Int, lpEntries: Int, variables m: Int) {
            index = .allocate(capacity: max(sdpEntries, 1))
            value = .allocate(capacity: max(sdpEntries, 1))
            lpBegin = .allocate(capacity: m + 2)
            lpRow = .allocate(capacity: max(lpEntries, 1))
            lpValue = .allocate(capacity: max(lpEntries, 1))
        }

        func deallocate() {
            index.deallocate(); value.deallocate(); lpBegin.deallocate(); lpRow.deallocate(); lpValue.deallocate()
        }
    }

    /// Why handing the data to DSDP failed.
    private struct SetupFailure: Error { let text: String }

    // MARK: Handing the data to DSDP

    private static func loadSDPCone(_ dsdp: DSDP, _ p: SDPProblem, _ prepared: [SDPMatrix], _ layout: BlockLayout,
                                    _ buffers: DataBuffers) -> Result<SDPCone, SetupFailure> {
        var coneOpt: SDPCone? = nil
        guard DSDPCreateSDPCone(dsdp, Int32(layout.sdpBlocks), &coneOpt) == 0, let cone = coneOpt else {
            return .failure(SetupFailure(text: "DSDPCreateSDPCone failed"))
        }
        // Per block: how many matrices have data there (sparsity hint).
        var counts = [Int](repeating: 0, count: p.blocks.count)
        for mat in prepared { for b in mat.blocks { counts[b] += 1 } }
        for (b, blk) in p.blocks.enumerated() where !blk.isDiagonal {
            let j = Int32(layout.coneIndex[b])
            if SDPConeSetBlockSize(cone, j, Int32(blk.size)) != 0 { return .failure(SetupFailure(text: "SDPConeSetBlockSize failed")) }
            SDPConeSetSparsity(cone, j, Int32(max(counts[b], 1)))
        }
        let idxBuf = buffers.index, valBuf = buffers.value
        var pos = 0
        for (vari, mat) in prepared.enumerated() {
            for b in mat.blocks where !p.blocks[b].isDiagonal {
                let j = Int32(layout.coneIndex[b]), n = Int32(p.blocks[b].size)
                let range = mat.entryRange(inBlock: b)
                if !range.isEmpty {
                    let start = pos
                    for k in range {
                        let r = Int(mat.row[k]), c = Int(mat.col[k])   // r ≤ c: packed index c(c+1)/2 + r
                        idxBuf[pos] = Int32(c * (c + 1) / 2 + r)
                        valBuf[pos] = mat.value[k]
                        pos += 1
                    }
                    let info = SDPConeSetASparseVecMat(cone, j, Int32(vari), n, -1.0, 0,
                                                       idxBuf + start, valBuf + start, Int32(pos - start))
                    if info != 0 { return .failure(SetupFailure(text: "SDPConeSetASparseVecMat failed (matrix \(vari), block \(b + 1))")) }
                }
                for t in mat.lowRank where t.block == b {
                    let start = pos
                    for a in 0..<t.indices.count { idxBuf[pos] = t.indices[a]; valBuf[pos] = t.values[a]; pos += 1 }
                    let info = SDPConeSetARankOneMat(cone, j, Int32(vari), n, -t.scale, 0,
                                                     idxBuf + start, valBuf + start, Int32(pos - start))
                    if info != 0 { return .failure(SetupFailure(text: "SDPConeSetARankOneMat failed (matrix \(vari), block \(b + 1))")) }
                }
            }
        }
        return .success(cone)
    }

    private static func loadLPCone(_ dsdp: DSDP, _ p: SDPProblem, _ prepared: [SDPMatrix], _ layout: BlockLayout,
                                   _ buffers: DataBuffers) -> Result<LPCone, SetupFailure> {
        var lpconeOpt: LPCone? = nil
        guard DSDPCreateLPCone(dsdp, &lpconeOpt) == 0, let lpcone = lpconeOpt else {
            return .failure(SetupFailure(text: "DSDPCreateLPCone failed"))
        }
        var pos = 0
        buffers.lpBegin[0] = 0
        for (vari, mat) in prepared.enumerated() {
            // Entries are sorted by (block, row) and LP offsets grow with block index.
            for k in 0..<mat.value.count {
                let b = Int(mat.block[k])
                guard p.blocks[b].isDiagonal else { continue }
                buffers.lpRow[pos] = Int32(layout.lpOffset[b] + Int(mat.row[k]))
                buffers.lpValue[pos] = -mat.value[k]
                pos += 1
            }
            buffers.lpBegin[vari + 1] = Int32(pos)
        }
        if LPConeSetData(lpcone, Int32(layout.lpRows), buffers.lpBegin, buffers.lpRow, buffers.lpValue) != 0 {
            return .failure(SetupFailure(text: "LPConeSetData failed"))
        }
        return .success(lpcone)
    }

    /// Options as DSDP's own SDPA driver sets them, plus ours.
    private static func setOptions(_ dsdp: DSDP, _ p: SDPProblem, lpRows: Int, gapTolerance: Double, options: SolverOptions) {
        let m = p.variableCount
        let sdpnmax = p.blocks.filter { !$0.isDiagonal }.map(\.size).max() ?? 1
        var reuse = (m - 2) / max(sdpnmax, 1)
        if p.totalDimension < 100 && reuse == 0 { reuse = 1 }
        if lpRows >= m && reuse == 0 { reuse = 1 }
        if reuse >= 1 { reuse += 1 }
        reuse = reuse * reuse
        if m < 2000 && reuse > 10 { reuse = 10 }
        if reuse > 12 { reuse = 12 }
        DSDPReuseMatrix(dsdp, Int32(reuse))
        DSDPSetGapTolerance(dsdp, gapTolerance)
        if let tol = options.feasibilityTolerance {
            DSDPSetRTolerance(dsdp, tol)
            DSDPSetPTolerance(dsdp, tol)
        }
        DSDPSetMaxIts(dsdp, Int32(options.maxIterations ?? 500))
        var norms = [Double](repeating: 0, count: 3)
        DSDPGetDataNorms(dsdp, &norms)
        if norms[0] == 0 {
            // C = 0: DSDP's driver starts from a scaled identity.
            DSDPSetR0(dsdp, Double(p.totalDimension))
        }
    }

    /// Reports each iteration (in the SDPA view) and passes a stop request on to DSDP.
    private static func reportIteration(_ d: DSDP?, _ raw: UnsafeMutableRawPointer?) -> Int32 {
        guard let d, let raw else { return 0 }
        let ctx = Unmanaged<DSDPMonitorContext>.fromOpaque(raw).takeUnretainedValue()
        var it: Int32 = 0, pobj = 0.0, dobj = 0.0, mu = 0.0, r = 0.0, pinf = 0.0, pstep = 0.0, dstep = 0.0
        DSDPGetIts(d, &it); DSDPGetPPObjective(d, &pobj); DSDPGetDDObjective(d, &dobj)
        DSDPGetBarrierParameter(d, &mu); DSDPGetR(d, &r); DSDPGetPInfeasibility(d, &pinf)
        DSDPGetStepLengths(d, &pstep, &dstep)
        // SDPA view: primal = cᵀy = −bᵀy (DSDP's D), dual = ⟨F₀,X⟩ = −⟨C,X⟩ (DSDP's P).
        let primal = -dobj
        let dual: Double? = abs(pobj) >= 1e10 ? nil : -pobj
        let gap = dual.map { abs(primal - $0) / max(1, abs(primal), abs($0)) }
        ctx.run.emit(SolverIteration(iteration: Int(it), elapsed: ctx.run.elapsed, primalObjective: primal,
                                     dualObjective: dual, relativeGap: gap, primalInfeasibility: r,
                                     dualInfeasibility: pinf, mu: mu,
                                     primalStep: it > 0 ? dstep : nil, dualStep: it > 0 ? pstep : nil))
        if ctx.run.stopRequested { DSDPSetConvergenceFlag(d, DSDP_USER_TERMINATION) }
        return 0
    }

    // MARK: Reading the result

    /// X per block: a column for diagonal blocks, the full symmetric matrix for dense ones.
    private static func dualMatrices(_ p: SDPProblem, _ layout: BlockLayout, cone: SDPCone?, lpcone: LPCone?) -> [Matrix] {
        var out: [Matrix] = []
        for (b, blk) in p.blocks.enumerated() {
            let n = blk.size
            if blk.isDiagonal {
                var col = [Double](repeating: 0, count: n)
                var xp: UnsafeMutablePointer<Double>? = nil
                var len: Int32 = 0
                if let lpcone, LPConeGetXArray(lpcone, &xp, &len) == 0, let xp {
                    for i in 0..<n where layout.lpOffset[b] + i < Int(len) { col[i] = xp[layout.lpOffset[b] + i] }
                }
                out.append(Matrix(rows: n, columns: 1, storage: col))
            } else {
                var dense = [Double](repeating: 0, count: n * n)
                var xp: UnsafeMutablePointer<Double>? = nil
                var len: Int32 = 0
                if let cone, SDPConeGetXArray(cone, Int32(layout.coneIndex[b]), &xp, &len) == 0, let xp,
                   Int(len) >= n * (n + 1) / 2 {
                    for i in 0..<n {
                        for j in 0...i {
                            let v = xp[i * (i + 1) / 2 + j]
                            dense[i + j * n] = v; dense[j + i * n] = v
                        }
                    }
                }
                out.append(Matrix(rows: n, columns: n, storage: dense))
            }
        }
        return out
    }

    /// Our status from DSDP's stop reason and solution type; a numerical stop right at the
    /// optimum (feasible, gap ≤ acceptGap) counts as optimal.
    private static func classify(reason: DSDPTerminationReason, solutionType soltype: DSDPSolutionType, solveInfo: Int32,
                                 dualObjective ddobj: Double, primalObjective ppobj: Double, acceptGap: Double,
                                 run: SolveRun) -> (SolverStatus, String) {
        let status: SolverStatus
        var message: String
        switch reason {
        case DSDP_CONVERGED: status = .optimal; message = "converged"
        case DSDP_USER_TERMINATION: status = run.stopReason; message = "stopped on request"
        case DSDP_MAX_IT: status = .iterationLimit; message = "maximum iterations reached"
        case DSDP_UPPERBOUND: status = .unbounded; message = "dual objective exceeded its bound"
        case DSDP_SMALL_STEPS: status = .numericalTrouble; message = "short steps"
        case DSDP_INDEFINITE_SCHUR_MATRIX: status = .numericalTrouble; message = "indefinite Schur matrix"
        case DSDP_INFEASIBLE_START: status = .numericalTrouble; message = "infeasible starting point"
        default: status = .numericalTrouble; message = "numerical error (reason \(reason.rawValue), info \(solveInfo))"
        }
        var finalStatus = status
        if reason != DSDP_USER_TERMINATION {
            if soltype == DSDP_UNBOUNDED {
                // DSDP's (D) unbounded, its (P) infeasible: our LMI problem is unbounded,
                // the SDPA dual (max ⟨F₀,X⟩) infeasible.
                finalStatus = .dualInfeasible; message += "; (D) unbounded, (P) infeasible in DSDP's form"
            } else if soltype == DSDP_INFEASIBLE {
                finalStatus = .primalInfeasible; message += "; (D) infeasible in DSDP's form"
            }
        }
        if finalStatus == .numericalTrouble, soltype == DSDP_PDFEASIBLE, reason != DSDP_INFEASIBLE_START,
           ddobj.isFinite, ppobj.isFinite {
            let gap = abs(ddobj - ppobj) / max(1, abs(ddobj), abs(ppobj))
            if gap <= acceptGap {
                finalStatus = .optimal
                message = "stopped on \(message) at relative gap \(String(format: "%.1e", gap)) (accepted)"
            }
        }
        return (finalStatus, message)
    }
}

private let dsdpGlobalLock = Mutex<Void>(())

private final class DSDPMonitorContext {
    let run: SolveRun
    init(run: SolveRun) { self.run = run }
}
