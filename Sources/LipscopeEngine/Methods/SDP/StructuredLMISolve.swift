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

/// One solve of a LipSDP LMI by the structured or the factored backend, certified like every SDP solve
/// (`LMICertifier` on the LMI of the network as given, no scaling, no reduction).
enum StructuredLMISolve {
    /// `start` is a strictly feasible point of `original` (ρ, λ per group, e.g. ECLipsE-Fast's);
    /// it is mapped into `solveForm`'s scaling. Throws `SDPDriver.SolverStop` when the solver
    /// ends without an optimum.
    /// `chain`: the network's layer chain, when the certificate may be taken block by block.
    static func solveAndCertify(solveForm: SlopeLMI, original: SlopeLMI, startRho: Double, startMultipliers: [Double],
                                chain: LayerChain? = nil, options: SDPMethodOptions, context: JobContext) throws -> SDPSolveOutcome {
        try context.checkCancelled()
        let built = ContinuousClock.now
        let lmi = solveForm.rankTwoLMI()
        let buildSeconds = (ContinuousClock.now - built).seconds
        let rho0 = startRho / solveForm.inputScale
        let lambda0 = startMultipliers.count == solveForm.groupCount ? (0..<solveForm.groupCount).map { startMultipliers[$0] / solveForm.groupScale[$0] } : []
        let result: SolverResult
        let factored = options.solver.backend == .factored
        let descent = options.solver.backend == .descent
        let solverOptions = SolverOptions(relativeGapTolerance: options.gapTolerance, timeLimit: options.timeLimit)
        do {
            switch options.solver.backend {
            case .factored:
                result = try FactoredLMISolver().solve(lmi, feasible: lambda0.isEmpty ? nil : lambda0, options: solverOptions, control: context.solverControl)
            case .descent:
                result = try DescentLMISolver().solve(lmi, start: lambda0, options: solverOptions, control: context.solverControl)
            default:
                result = try StructuredLMISolver().solve(lmi, startRho: rho0, startMultipliers: lambda0, options: solverOptions,
                                                         control: context.solverControl)
            }
        } catch {
            throw SDPDriver.SolverStop(description: error.message)
        }
        if result.status == .cancelled { throw CancelledError() }
        // The factored method's point is feasible whatever its gap (ρ*(λ) is exact for its λ), so a
        // run that stopped short still goes to the certificate; the gap is reported with it.
        // So is every point the descent evaluated.
        let usable = result.status == .optimal
            || ((factored || descent) && [.iterationLimit, .timeLimit, .numericalTrouble].contains(result.status))
        guard usable, result.x.count == 1 + solveForm.groupCount else {
            throw SDPDriver.SolverStop(description: "status \(result.status.rawValue)\(result.message.isEmpty ? "" : " (\(result.message))")")
        }
        try context.checkCancelled()
        let rho = result.x[0] * solveForm.inputScale
        let solverInput = Array(repeating: rho, count: original.inputSize)
        let multipliers = (0..<solveForm.groupCount).map { max(0, result.x[1 + $0]) * solveForm.groupScale[$0] }
        let certifyStart = ContinuousClock.now
        // The chain certificate takes one multiplier per neuron (a layer's are all its group's).
        let perNeuron = original.group.map { multipliers[$0] }
        if let chain, perNeuron.count == chain.hidden.reduce(0, { $0 + $1.width }) {
            var perLayer: [[Double]] = [], offset = 0
            for layer in chain.hidden { perLayer.append(Array(perNeuron[offset..<(offset + layer.width)])); offset += layer.width }
            if case .success(let cert) = try ChainCertificate.certify(chain, multipliers: perLayer, rho: rho, inputShifts: true, context: context) {
                var details = baseDetails(result, solveForm: solveForm, original: original, lmi: lmi, factored: factored,
                                          startRho: startRho, buildSeconds: buildSeconds)
                details["certify_seconds"] = .number((ContinuousClock.now - certifyStart).seconds)
                details["certificate_margin"] = .number(cert.margin)
                details["certificate_checks"] = .number(Double(cert.checks))
                let scale = cert.multiplierScale
                details["certificate_form"] = .string(scale == 1
                    ? "block Cholesky along the layer chain, ρ'/ρ = \(cert.rho / rho), multipliers as solved"
                    : "block Cholesky along the layer chain, multipliers scaled by ρ'/ρ = \(scale)")
                return SDPSolveOutcome(solverInput: solverInput, certifiedInput: Array(repeating: cert.rho, count: original.inputSize),
                                       failure: nil, iterations: result.iterations, details: details,
                                       multipliers: multipliers.map { $0 * scale })
            }
        }
        let certificate = try LMICertifier.certify(original, base: solverInput, groupMultipliers: multipliers,
                                                   checkCancelled: { try context.checkCancelled() })
        let certifySeconds = (ContinuousClock.now - certifyStart).seconds
        var details = baseDetails(result, solveForm: solveForm, original: original, lmi: lmi, factored: factored,
                                  startRho: startRho, buildSeconds: buildSeconds)
        details["certify_seconds"] = .number(certifySeconds)
        return SDPSolveOutcome(certificate, solverInput: solverInput, iterations: result.iterations, details: details, multipliers: multipliers)
    }

    /// What every outcome reports about the solve.
    static func baseDetails(_ result: SolverResult, solveForm: SlopeLMI, original: SlopeLMI, lmi: RankTwoLMI, factored: Bool,
                            startRho: Double, buildSeconds: Double) -> [String: JSONValue] {
        var details: [String: JSONValue] = [
            "solver": .string(result.solver),
            "solver_status": .string(result.status.rawValue),
            "solver_message": .string(result.message),
            "solver_seconds": .number(result.seconds),
            "build_seconds": .number(buildSeconds),
            "sdp_blocks": .numbers([Double(lmi.dimension)]),
            "sdp_variables": .number(Double(1 + solveForm.groupCount)),
            "chordal": .bool(false),
            "multipliers": .number(Double(solveForm.groupCount)),
        ]
        if factored {
            // The dual objective is a lower bound on the LMI's optimum ρ (weak duality, up to the
            // rounding of the forward pass): with the certified value it brackets LipSDP-Neuron's.
            let lower = max(0, result.dualObjective ?? 0) * solveForm.inputScale
            details["lmi_lower_bound"] = .number(lower.squareRoot())
            details["dual_rank"] = .number(16)
            if let p = result.primalObjective, p > 0 { details["solver_gap"] = .number(max(0, p - (result.dualObjective ?? 0)) / p) }
        } else {
            details["start"] = .string("ECLipsE-Fast's certified point, ρ = \(startRho)")
        }
        if let gap = result.relativeGap { details["solver_gap_estimate"] = .number(gap) }
        if solveForm.inputSize != original.inputSize {
            details["input_reduction"] = .string("\(original.inputSize) → \(solveForm.inputSize) input coordinates")
        }
        return details
    }
}
