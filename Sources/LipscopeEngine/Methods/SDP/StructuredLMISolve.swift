import Foundation
import LipscopeLinearAlgebra
import LipscopeSolvers

extension SlopeLMI {
    /// This LMI for the structured backend: consecutive neurons whose rows share a column range
    /// (a layer of a feedforward net, the whole row of an implicit one) form one band.
    func rankTwoLMI() -> RankTwoLMI {
        let r = inputSize
        func range(_ row: LMIRow) -> (Int, Int) {
            let lo = row.input.isEmpty ? r + row.stateStart : 0
            let hi = row.state.isEmpty ? (row.input.isEmpty ? lo : r) : r + row.stateStart + row.state.count
            return (lo, max(hi, lo))
        }
        func dense(_ rows: [LMIRow], from lo: Int, to hi: Int) -> Matrix {
            var m = Matrix(rows: rows.count, columns: hi - lo)
            for (i, row) in rows.enumerated() {
                row.forEachEntry(inputCount: r) { column, value in m[i, column - lo] = value }
            }
            return m
        }
        var bands: [RankTwoLMI.Band] = []
        var start = 0
        while start < rows.count {
            let key = range(rows[start])
            var end = start + 1
            while end < rows.count, range(rows[end]) == key { end += 1 }
            bands.append(RankTwoLMI.Band(firstRow: start, columnStart: key.0,
                                         weights: dense(Array(rows[start..<end]), from: key.0, to: key.1)))
            start = end
        }
        let outLo = outputs.map { range($0).0 }.min() ?? 0
        let outHi = outputs.map { range($0).1 }.max() ?? 0
        let output = RankTwoLMI.Band(firstRow: 0, columnStart: outLo, weights: dense(outputs, from: outLo, to: max(outHi, outLo)))
        return RankTwoLMI(inputCount: r, neuronCount: stateSize, bands: bands, output: output,
                          p: slopes.map { 2 * $0.alpha * $0.beta }, q: slopes.map { -($0.alpha + $0.beta) },
                          s: Array(repeating: 2, count: stateSize), group: group, groupCount: groupCount)
    }
}

/// One solve of a LipSDP LMI by the structured backend, certified like every SDP solve
/// (`LMICertifier` on the LMI of the network as given, no scaling, no reduction).
enum StructuredLMISolve {
    /// `start` is a strictly feasible point of `original` (ρ, λ per group, e.g. ECLipsE-Fast's);
    /// it is mapped into `solveForm`'s scaling. Throws `SDPDriver.SolverStop` when the solver
    /// ends without an optimum.
    static func solveAndCertify(solveForm: SlopeLMI, original: SlopeLMI, startRho: Double, startMultipliers: [Double],
                                options: SDPMethodOptions, context: JobContext) throws -> SDPSolveOutcome {
        try context.checkCancelled()
        let built = ContinuousClock.now
        let lmi = solveForm.rankTwoLMI()
        let buildSeconds = (ContinuousClock.now - built).seconds
        let rho0 = startRho / solveForm.inputScale
        let lambda0 = (0..<solveForm.groupCount).map { startMultipliers[$0] / solveForm.groupScale[$0] }
        let result: SolverResult
        do {
            result = try StructuredLMISolver().solve(lmi, startRho: rho0, startMultipliers: lambda0,
                                                     options: SolverOptions(relativeGapTolerance: options.gapTolerance,
                                                                            timeLimit: options.timeLimit),
                                                     control: context.solverControl)
        } catch {
            throw SDPDriver.SolverStop(description: error.message)
        }
        if result.status == .cancelled { throw CancelledError() }
        guard result.status == .optimal, result.x.count == 1 + solveForm.groupCount else {
            throw SDPDriver.SolverStop(description: "status \(result.status.rawValue)\(result.message.isEmpty ? "" : " (\(result.message))")")
        }
        try context.checkCancelled()
        let rho = result.x[0] * solveForm.inputScale
        let solverInput = Array(repeating: rho, count: original.inputSize)
        let multipliers = (0..<solveForm.groupCount).map { max(0, result.x[1 + $0]) * solveForm.groupScale[$0] }
        let certifyStart = ContinuousClock.now
        let certificate = try LMICertifier.certify(original, base: solverInput, groupMultipliers: multipliers,
                                                   checkCancelled: { try context.checkCancelled() })
        let certifySeconds = (ContinuousClock.now - certifyStart).seconds
        var details: [String: JSONValue] = [
            "solver": .string("structured"),
            "solver_status": .string(result.status.rawValue),
            "solver_message": .string(result.message),
            "solver_seconds": .number(result.seconds),
            "build_seconds": .number(buildSeconds),
            "certify_seconds": .number(certifySeconds),
            "sdp_blocks": .numbers([Double(lmi.dimension)]),
            "sdp_variables": .number(Double(1 + solveForm.groupCount)),
            "chordal": .bool(false),
            "multipliers": .number(Double(solveForm.groupCount)),
            "start": .string("ECLipsE-Fast's certified point, ρ = \(startRho)"),
        ]
        if let gap = result.relativeGap { details["solver_gap_estimate"] = .number(gap) }
        if solveForm.inputSize != original.inputSize {
            details["input_reduction"] = .string("\(original.inputSize) → \(solveForm.inputSize) input coordinates")
        }
        switch certificate {
        case .success(let cert):
            details["certificate_shift"] = .number(cert.shift)
            details["certificate_margin"] = .number(cert.margin)
            details["certificate_checks"] = .number(Double(cert.checks))
            return SDPSolveOutcome(solverInput: solverInput, certifiedInput: cert.inputDiagonal, failure: nil,
                                   iterations: result.iterations, details: details, multipliers: multipliers)
        case .failure(let why):
            return SDPSolveOutcome(solverInput: solverInput, certifiedInput: nil, failure: why.description,
                                   iterations: result.iterations, details: details, multipliers: multipliers)
        }
    }
}
