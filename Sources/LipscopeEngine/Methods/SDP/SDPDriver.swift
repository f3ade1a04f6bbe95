import Foundation
import LipscopeLinearAlgebra
import LipscopeSolvers

/// One SDP solve of a `SlopeLMI` followed by its certificate on the unscaled, unreduced LMI.
struct SDPSolveOutcome: Sendable {
    /// The solver's input term mapped to the network as given (ρ, or μ for ℓ∞).
    var solverInput: [Double]
    /// The certified input term, or nil with `failure` set.
    var certifiedInput: [Double]?
    var failure: String?
    var iterations: Int
    var details: [String: JSONValue]
    /// The solver's multipliers per group, mapped to the network as given (clipped ≥ 0).
    var multipliers: [Double] = []
}

extension SDPSolveOutcome {
    /// The outcome of a solve whose point went to `LMICertifier`: certified with the shift, margin
    /// and checks in `details`, or not with the certifier's reason.
    init(_ certificate: Result<LMICertifier.Certificate, CertificationFailure>, solverInput: [Double], iterations: Int,
         details: [String: JSONValue], multipliers: [Double]) {
        var details = details
        switch certificate {
        case .success(let cert):
            details["certificate_shift"] = .number(cert.shift)
            details["certificate_margin"] = .number(cert.margin)
            details["certificate_checks"] = .number(Double(cert.checks))
            self.init(solverInput: solverInput, certifiedInput: cert.inputDiagonal, failure: nil,
                      iterations: iterations, details: details, multipliers: multipliers)
        case .failure(let why):
            self.init(solverInput: solverInput, certifiedInput: nil, failure: why.description,
                      iterations: iterations, details: details, multipliers: multipliers)
        }
    }
}

enum SDPDriver {
    /// Solves the first of `solveForms` (equivalent formulations: balanced, unbalanced, …) and
    /// certifies on `original`. When the solver stops without an optimum (DSDP's "short steps"
    /// happens on a few nets), the next formulation is tried, then — unless the solver was
    /// chosen explicitly — the other solver (csdp when available). Every attempt is listed in
    /// the details; cancellation ends at once.
    static func solveAndCertify(solveForms: [SlopeLMI], original: SlopeLMI, input: LMIInputTerm, chordal: Bool,
                                options: SDPMethodOptions, context: JobContext) throws -> SDPSolveOutcome {
        var attempts: [(Int, SDPBackend, Bool)] = solveForms.indices.map { ($0, options.solver, chordal) }
        if !options.solverExplicit, options.solver.backend == .dsdp, let csdp = SDPBackend(.csdp),
           CSDPSolver.findExecutable() != nil {
            attempts.append((0, csdp, chordal))
            // csdp once more with the chordal split flipped, when the split was left to the rule
            // and stays within its size: the split is the same LMI, but on deep nets the two forms
            // fail differently (deep_8x30's LipSDP-Layer: exit code 7 whole, 6 092.25 certified split).
            if options.chordal == .auto, let widths = solveForms[0].layerWidths, widths.count >= 2,
               chordal || SDPChordalRule.splitVariables(hiddenWidths: widths) <= LipSDPBound.maximumChordalVariables {
                attempts.append((0, csdp, !chordal))
            }
        }
        var failures: [String] = []
        for (index, backend, split) in attempts {
            let label = "\(backend.name) on formulation \(index + 1)\(split == chordal ? "" : split ? " (chordal split)" : " (whole)")"
            do {
                var outcome = try solveAndCertify(solveForm: solveForms[index], original: original, input: input,
                                                  chordal: split, backend: backend, options: options, context: context)
                if !failures.isEmpty { outcome.details["earlier_attempts"] = .array(failures.map { .string($0) }) }
                if split != chordal {
                    outcome.details["chordal_flipped"] = .string("csdp certified the \(split ? "chordal split" : "whole LMI") after every attempt on the \(chordal ? "split" : "whole LMI") failed")
                }
                return outcome
            } catch let failure as SolverStop {
                failures.append("\(label): \(failure.description)")
                context.log("SDP attempt failed (\(label)): \(failure.description)")
            }
        }
        throw MethodFailure("SDP solver failed: " + failures.joined(separator: "; "))
    }

    /// The solver ended without an optimum (not cancelled).
    struct SolverStop: Error, CustomStringConvertible { let description: String }

    static func solveAndCertify(solveForm: SlopeLMI, original: SlopeLMI, input: LMIInputTerm, chordal: Bool,
                                backend: SDPBackend, options: SDPMethodOptions, context: JobContext) throws -> SDPSolveOutcome {
        try context.checkCancelled()
        let built = ContinuousClock.now
        let lmi = solveForm.sdpProblem(input: input, chordal: chordal)
        let buildSeconds = (ContinuousClock.now - built).seconds
        let solver = backend.makeSolver()
        let result: SolverResult
        do {
            result = try solver.solve(.sdp(lmi.problem), options: SolverOptions(relativeGapTolerance: options.gapTolerance, timeLimit: options.timeLimit),
                                      control: context.solverControl)
        } catch {
            throw SolverStop(description: error.message)
        }
        if result.status == .cancelled { throw CancelledError() }
        // A point of reduced accuracy (csdp's "partial success") is still worth certifying: the
        // certificate decides; the status is kept in the details.
        let usable = result.status == .optimal || (result.status == .numericalTrouble && result.message.contains("artial success"))
        guard usable, result.x.count == lmi.problem.variableCount else {
            throw SolverStop(description: "status \(result.status.rawValue)\(result.message.isEmpty ? "" : " (\(result.message))")")
        }
        try context.checkCancelled()
        let y = result.x
        let inputCount = original.inputSize
        let solverInput: [Double] = input == .uniform
            ? Array(repeating: y[0] * solveForm.inputScale, count: inputCount)
            : (0..<inputCount).map { y[$0] * solveForm.inputScale }
        let multipliers = (0..<solveForm.groupCount).map { max(0, y[lmi.inputVariables + $0]) * solveForm.groupScale[$0] }
        let certifyStart = ContinuousClock.now
        let certificate = try LMICertifier.certify(original, base: solverInput, groupMultipliers: multipliers,
                                                   checkCancelled: { try context.checkCancelled() })
        let certifySeconds = (ContinuousClock.now - certifyStart).seconds
        var details: [String: JSONValue] = [
            "solver": .string(solver.name),
            "solver_status": .string(result.status.rawValue),
            "solver_message": .string(result.message),
            "solver_seconds": .number(result.seconds),
            "build_seconds": .number(buildSeconds),
            "certify_seconds": .number(certifySeconds),
            "sdp_blocks": .numbers(lmi.blockSizes.map(Double.init)),
            "sdp_variables": .number(Double(lmi.problem.variableCount)),
            "chordal": .bool(lmi.chordal),
            "multipliers": .number(Double(lmi.multiplierCount)),
        ]
        if lmi.chordal { details["chordal_split_variables"] = .number(Double(lmi.splitVariables)) }
        if solveForm.inputSize != original.inputSize {
            details["input_reduction"] = .string("\(original.inputSize) → \(solveForm.inputSize) input coordinates")
        }
        return SDPSolveOutcome(certificate, solverInput: solverInput, iterations: result.iterations, details: details, multipliers: multipliers)
    }
}

/// The `--chordal auto` rule. The exact chordal split (Xue et al. 2022, τ = 0) shrinks the PSD
/// blocks to one per pair of adjacent layers but adds a free symmetric coupling matrix per
/// shared hidden layer, so the Schur system of the interior-point solvers grows from N + 1 to
/// N + 1 + Σ nₖ(nₖ+1)/2 variables. Whether that pays is an empirical question; the rule is a
/// log-linear model of the time ratio chordal/full fitted to `lipscope bench sdp --grid`
/// (random ReLU nets 2-w×h-2, 2–59 hidden layers of width 4–32, paired runs, release build,
/// 2 shared cores):
///     log(t_chordal / t_full) = a + b·log(w) + c·log(h),
/// h = hidden layers, w = root-mean-square width of the hidden layers shared by two cliques
/// (all but the last). Chordal is chosen exactly when the predicted ratio is below 1.
///   csdp: a = −1.264, b = 0.752, c = −0.089 (33 pairs, 8 of them with OMP_NUM_THREADS=1; rms
///         error of the log ratio 0.29): chordal wins for width ≤ 5, 6 from 3 layers (measured 0.42–0.93, e.g.
///         29×4 0.44–0.53) and width 8 from ≈ 30 layers; width ≥ 16 always loses (1.5–4.8×).
///   dsdp: a = −0.069, b = 0.823, c = −0.221 (23 pairs, rms 0.73): predicted ratio ≥ 1.19 on
///         every measured net; only beyond ≈ 130 layers of width 4 would it choose chordal.
/// Nets with one hidden layer have a single clique; nets whose split exceeds
/// `LipSDPBound.maximumChordalVariables` are never split.
public enum SDPChordalRule {
    public struct Decision: Sendable {
        public var chordal: Bool
        public var reason: String
        /// Predicted time ratio chordal / full (auto only).
        public var predictedRatio: Double?

        /// Adds `chordal_setting` (auto | on | off), `chordal_reason` and, for auto,
        /// `chordal_predicted_ratio` to a result's details (`chordal` itself says what was solved).
        func record(in details: inout [String: JSONValue], setting: SDPMethodOptions.Chordal) {
            details["chordal_setting"] = .string(setting.rawValue)
            details["chordal_reason"] = .string(reason)
            if case .string(let flipped)? = details["chordal_flipped"] { details["chordal_reason"] = .string(reason + "; then " + flipped) }
            if let predictedRatio { details["chordal_predicted_ratio"] = .number(predictedRatio) }
        }
    }

    /// (a, b, c) of the fitted model per solver.
    static let coefficients: [String: (Double, Double, Double)] = [
        "csdp": (-1.264, 0.752, -0.089),
        "dsdp": (-0.069, 0.823, -0.221),
    ]

    /// SDP variables of the chordal split: one multiplier per hidden neuron, ρ, and a symmetric
    /// coupling matrix per hidden layer shared by two cliques (all but the last).
    public static func splitVariables(hiddenWidths: [Int]) -> Int {
        hiddenWidths.dropLast().reduce(0) { $0 + $1 * ($1 + 1) / 2 } + hiddenWidths.reduce(0, +) + 1
    }

    /// Root-mean-square width of the hidden layers shared by two cliques (all but the last).
    static func sharedWidth(_ hiddenWidths: [Int]) -> Double {
        let shared = hiddenWidths.dropLast()
        return (shared.reduce(0.0) { $0 + Double($1 * $1) } / Double(max(shared.count, 1))).squareRoot()
    }

    public static func predictedRatio(hiddenWidths: [Int], solver: String) -> Double? {
        guard hiddenWidths.count >= 2, let (a, b, c) = coefficients[solver.lowercased()] else { return nil }
        return exp(a + b * log(max(sharedWidth(hiddenWidths), 1)) + c * log(Double(hiddenWidths.count)))
    }

    public static func decide(hiddenWidths: [Int], solver: String) -> Decision {
        let h = hiddenWidths.count
        guard h >= 2 else {
            return Decision(chordal: false, reason: "auto: one hidden layer, a single clique", predictedRatio: nil)
        }
        let variables = splitVariables(hiddenWidths: hiddenWidths)
        guard let ratio = predictedRatio(hiddenWidths: hiddenWidths, solver: solver) else {
            return Decision(chordal: false, reason: "auto: no cost model for solver \(solver)", predictedRatio: nil)
        }
        if variables > LipSDPBound.maximumChordalVariables {
            return Decision(chordal: false, reason: "auto: the split would need \(variables) SDP variables (limit \(LipSDPBound.maximumChordalVariables))", predictedRatio: ratio)
        }
        let verdict = ratio < 1 ? "faster: chordal" : "not faster: full LMI"
        let text = String(format: "auto: %d hidden layers, rms shared width %.1f, %@ model predicts chordal/full time %.2f (%@)",
                          h, sharedWidth(hiddenWidths),
                          solver, ratio, verdict)
        return Decision(chordal: ratio < 1, reason: text, predictedRatio: ratio)
    }
}
