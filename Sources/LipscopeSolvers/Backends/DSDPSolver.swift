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

    /// DSDP keeps some global state (event log, output file); one solve at a time.
    private static func solveNow(_ p: SDPProblem, gapTolerance: Double, acceptGap: Double, run: SolveRun) -> SolverResult {
        let m = p.variableCount
        func fail(_ msg: String) -> SolverResult {
            SolverResult(status: .numericalTrouble, seconds: run.elapsed, solver: "dsdp", message: msg)
        }
        if run.stopRequested { return SolverResult(status: run.stopReason, solver: "dsdp", message: "stopped before start") }

        // Block maps.
        var coneIndex = [Int](repeating: -1, count: p.blocks.count)   // dense block -> SDP cone block
        var lpOffset = [Int](repeating: -1, count: p.blocks.count)    // diagonal block -> LP row offset
        var nSDP = 0, nLP = 0
        for (b, blk) in p.blocks.enumerated() {
            if blk.isDiagonal { lpOffset[b] = nLP; nLP += blk.size } else { coneIndex[b] = nSDP; nSDP += 1 }
        }

        // Count buffer sizes: sparse SDP entries, rank-one vectors, LP entries.
        var sdpNNZ = 0, lpNNZ = 0
        var prepared: [SDPMatrix] = []
        prepared.reserveCapacity(m + 1)
        for mat in p.matrices {
            // Rank-one terms stay rank-one only when alone on their block.
            var mm = mat
            if !mat.lowRank.isEmpty {
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
            }
            for k in 0..<mm.value.count {
                if p.blocks[Int(mm.block[k])].isDiagonal { lpNNZ += 1 } else { sdpNNZ += 1 }
            }
            for t in mm.lowRank { sdpNNZ += t.indices.count }
            prepared.append(mm)
        }

        // Buffers DSDP points into; freed after DSDPDestroy.
        let idxBuf = UnsafeMutablePointer<Int32>.allocate(capacity: max(sdpNNZ, 1))
        let valBuf = UnsafeMutablePointer<Double>.allocate(capacity: max(sdpNNZ, 1))
        let lpBeg = UnsafeMutablePointer<Int32>.allocate(capacity: m + 2)
        let lpRow = UnsafeMutablePointer<Int32>.allocate(capacity: max(lpNNZ, 1))
        let lpVal = UnsafeMutablePointer<Double>.allocate(capacity: max(lpNNZ, 1))
        defer {
            idxBuf.deallocate(); valBuf.deallocate(); lpBeg.deallocate(); lpRow.deallocate(); lpVal.deallocate()
        }

        var dsdpOpt: DSDP? = nil
        guard DSDPCreate(Int32(m), &dsdpOpt) == 0, let dsdp = dsdpOpt else { return fail("DSDPCreate failed") }
        defer { DSDPDestroy(dsdp) }

        for i in 0..<m { DSDPSetDualObjective(dsdp, Int32(i + 1), -p.objective[i]) }

        var cone: SDPCone? = nil
        if nSDP > 0 {
            guard DSDPCreateSDPCone(dsdp, Int32(nSDP), &cone) == 0, let cone else { return fail("DSDPCreateSDPCone failed") }
            // Per block: how many matrices have data there (sparsity hint).
            var counts = [Int](repeating: 0, count: p.blocks.count)
            for mat in prepared { for b in mat.blocks { counts[b] += 1 } }
            for (b, blk) in p.blocks.enumerated() where !blk.isDiagonal {
                let j = Int32(coneIndex[b])
                if SDPConeSetBlockSize(cone, j, Int32(blk.size)) != 0 { return fail("SDPConeSetBlockSize failed") }
                SDPConeSetSparsity(cone, j, Int32(max(counts[b], 1)))
            }
            var pos = 0
            for (vari, mat) in prepared.enumerated() {
                for b in mat.blocks where !p.blocks[b].isDiagonal {
                    let j = Int32(coneIndex[b]), n = Int32(p.blocks[b].size)
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
                        if info != 0 { return fail("SDPConeSetASparseVecMat failed (matrix \(vari), block \(b + 1))") }
                    }
                    for t in mat.lowRank where t.block == b {
                        let start = pos
                        for a in 0..<t.indices.count { idxBuf[pos] = t.indices[a]; valBuf[pos] = t.values[a]; pos += 1 }
                        let info = SDPConeSetARankOneMat(cone, j, Int32(vari), n, -t.scale, 0,
                                                         idxBuf + start, valBuf + start, Int32(pos - start))
                        if info != 0 { return fail("SDPConeSetARankOneMat failed (matrix \(vari), block \(b + 1))") }
                    }
                }
            }
        }

        var lpcone: LPCone? = nil
        if nLP > 0 {
            guard DSDPCreateLPCone(dsdp, &lpcone) == 0, let lpcone else { return fail("DSDPCreateLPCone failed") }
            var pos = 0
            lpBeg[0] = 0
            for (vari, mat) in prepared.enumerated() {
                // Entries are sorted by (block, row) and LP offsets grow with block index.
                for k in 0..<mat.value.count {
                    let b = Int(mat.block[k])
                    guard p.blocks[b].isDiagonal else { continue }
                    lpRow[pos] = Int32(lpOffset[b] + Int(mat.row[k]))
                    lpVal[pos] = -mat.value[k]
                    pos += 1
                }
                lpBeg[vari + 1] = Int32(pos)
            }
            if LPConeSetData(lpcone, Int32(nLP), lpBeg, lpRow, lpVal) != 0 { return fail("LPConeSetData failed") }
        }

        // Options (as DSDP's own SDPA driver, plus ours).
        let sdpnmax = p.blocks.filter { !$0.isDiagonal }.map(\.size).max() ?? 1
        var reuse = (m - 2) / max(sdpnmax, 1)
        if p.totalDimension < 100 && reuse == 0 { reuse = 1 }
        if nLP >= m && reuse == 0 { reuse = 1 }
        if reuse >= 1 { reuse += 1 }
        reuse = reuse * reuse
        if m < 2000 && reuse > 10 { reuse = 10 }
        if reuse > 12 { reuse = 12 }
        DSDPReuseMatrix(dsdp, Int32(reuse))
        DSDPSetGapTolerance(dsdp, gapTolerance)
        if let tol = run.options.feasibilityTolerance {
            DSDPSetRTolerance(dsdp, tol)
            DSDPSetPTolerance(dsdp, tol)
        }
        DSDPSetMaxIts(dsdp, Int32(run.options.maxIterations ?? 500))
        var norms = [Double](repeating: 0, count: 3)
        DSDPGetDataNorms(dsdp, &norms)
        if norms[0] == 0 {
            // C = 0: DSDP's driver starts from a scaled identity.
            DSDPSetR0(dsdp, Double(p.totalDimension))
        }

        let ctx = DSDPMonitorContext(run: run)
        let monitor: @convention(c) (DSDP?, UnsafeMutableRawPointer?) -> Int32 = { d, raw in
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
        DSDPSetMonitor(dsdp, monitor, Unmanaged.passUnretained(ctx).toOpaque())

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

        var matrices: [Matrix]? = nil
        if reason != DSDP_INFEASIBLE_START {
            var out: [Matrix] = []
            for (b, blk) in p.blocks.enumerated() {
                let n = blk.size
                if blk.isDiagonal {
                    var col = [Double](repeating: 0, count: n)
                    var xp: UnsafeMutablePointer<Double>? = nil
                    var len: Int32 = 0
                    if let lpcone, LPConeGetXArray(lpcone, &xp, &len) == 0, let xp {
                        for i in 0..<n where lpOffset[b] + i < Int(len) { col[i] = xp[lpOffset[b] + i] }
                    }
                    out.append(Matrix(rows: n, columns: 1, storage: col))
                } else {
                    var dense = [Double](repeating: 0, count: n * n)
                    var xp: UnsafeMutablePointer<Double>? = nil
                    var len: Int32 = 0
                    if let cone, SDPConeGetXArray(cone, Int32(coneIndex[b]), &xp, &len) == 0, let xp,
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
            matrices = out
        }

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
        let feasibleVerdict = finalStatus == .primalInfeasible || finalStatus == .dualInfeasible
        return SolverResult(status: finalStatus,
                            primalObjective: feasibleVerdict ? nil : -ddobj,
                            dualObjective: feasibleVerdict ? nil : -ppobj,
                            x: y, dualMatrices: matrices, iterations: Int(its), seconds: run.elapsed,
                            solver: "dsdp", message: message)
    }
}

private let dsdpGlobalLock = Mutex<Void>(())

private final class DSDPMonitorContext {
    let run: SolveRun
    init(run: SolveRun) { self.run = run }
}
