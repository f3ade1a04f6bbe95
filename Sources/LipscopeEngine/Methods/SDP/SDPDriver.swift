import Foundation
import LipscopeLinearAlgebra
import LipscopeSolvers

/// Options every SDP method reads from `BoundRequest.options`.
struct SDPMethodOptions: Sendable {
    enum Chordal: String, Sendable { case on, off, auto }

    var solverName = "dsdp"
    /// Whether the solver was chosen explicitly (no fallback to the other one then).
    var solverExplicit = false
    var chordal = Chordal.auto
    /// Explicit chunk size (weight matrices per chunk); nil = the whole network in one LMI.
    var split: Int?
    /// Input reduction (exact) and power-of-two layer balancing (exact); on unless turned off.
    var reduceInput = true
    var balanceLayers = true
    var gapTolerance: Double?
    /// Wall-clock limit per SDP solve, seconds.
    var timeLimit: Double?

    static let keys = ["solver", "chordal", "split", "reduce", "scale", "gap", "time_limit"]

    init(_ options: [String: String]) throws {
        if let s = options["solver"] {
            guard ["dsdp", "csdp"].contains(s.lowercased()) else {
                throw MethodFailure("unknown SDP solver '\(s)'; expected dsdp or csdp")
            }
            solverName = s.lowercased()
            solverExplicit = true
        }
        if let c = options["chordal"] {
            guard let choice = Chordal(rawValue: c.lowercased()) else {
                throw MethodFailure("chordal must be on, off or auto (got '\(c)')")
            }
            chordal = choice
        }
        if let s = options["split"] {
            guard let k = Int(s), k >= 1 else { throw MethodFailure("split must be a positive number of layers per chunk (got '\(s)')") }
            split = k
        }
        func flag(_ key: String) throws -> Bool? {
            guard let v = options[key]?.lowercased() else { return nil }
            switch v {
            case "on", "true", "yes", "1": return true
            case "off", "false", "no", "0": return false
            default: throw MethodFailure("\(key) must be on or off (got '\(v)')")
            }
        }
        reduceInput = try flag("reduce") ?? true
        balanceLayers = try flag("scale") ?? true
        if let g = options["gap"] {
            guard let v = Double(g), v > 0, v < 1 else { throw MethodFailure("gap must be a relative tolerance in (0, 1) (got '\(g)')") }
            gapTolerance = v
        }
        if let t = options["time_limit"] {
            guard let v = Double(t), v > 0 else { throw MethodFailure("time_limit must be a positive number of seconds (got '\(t)')") }
            timeLimit = v
        }
    }

    /// Chordal decomposition on this net. `auto` keeps the single LMI: the exact split needs a
    /// free symmetric matrix per shared layer (Σ n_k(n_k+1)/2 extra variables), and DSDP and
    /// csdp form a dense Schur complement over all variables, so on every net measured the split
    /// was slower (mnist_784: 5 251 variables, 408 s against 201 variables, 5.7 s; see
    /// `lipscope bench sdp`). `on` forces it (same value), from depth 3 (≥ 2 hidden layers; with
    /// one hidden layer there is a single clique).
    func useChordal(hiddenLayers: Int) -> Bool {
        switch chordal {
        case .on: return hiddenLayers >= 2
        case .off, .auto: return false
        }
    }

    static func solver(named name: String) -> any Solver { name == "csdp" ? CSDPSolver() : DSDPSolver() }
}

/// One SDP solve of a `SlopeLMI` followed by its certificate on the unscaled, unreduced LMI.
struct SDPSolveOutcome: Sendable {
    /// The solver's input term mapped to the network as given (ρ, or μ for ℓ∞).
    var solverInput: [Double]
    /// The certified input term, or nil with `failure` set.
    var certifiedInput: [Double]?
    var failure: String?
    var iterations: Int
    var details: [String: JSONValue]
}

enum SDPDriver {
    /// Solves the first of `solveForms` (equivalent formulations: balanced, unbalanced, …) and
    /// certifies on `original`. When the solver stops without an optimum (DSDP's "short steps"
    /// happens on a few nets), the next formulation is tried, then — unless the solver was
    /// chosen explicitly — the other solver (csdp when available). Every attempt is listed in
    /// the details; cancellation ends at once.
    static func solveAndCertify(solveForms: [SlopeLMI], original: SlopeLMI, input: LMIInputTerm, chordal: Bool,
                                options: SDPMethodOptions, context: JobContext) throws -> SDPSolveOutcome {
        var attempts: [(Int, String)] = solveForms.indices.map { ($0, options.solverName) }
        if !options.solverExplicit, options.solverName == "dsdp", CSDPSolver.findExecutable() != nil {
            attempts.append((0, "csdp"))
        }
        var failures: [String] = []
        for (index, solverName) in attempts {
            let label = "\(solverName) on formulation \(index + 1)"
            do {
                var outcome = try solveAndCertify(solveForm: solveForms[index], original: original, input: input,
                                                  chordal: chordal, solverName: solverName, options: options, context: context)
                if !failures.isEmpty { outcome.details["earlier_attempts"] = .array(failures.map { .string($0) }) }
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
                                solverName: String, options: SDPMethodOptions, context: JobContext) throws -> SDPSolveOutcome {
        try context.checkCancelled()
        let built = ContinuousClock.now
        let lmi = solveForm.sdpProblem(input: input, chordal: chordal)
        let buildSeconds = (ContinuousClock.now - built).seconds
        let solver = SDPMethodOptions.solver(named: solverName)
        let result: SolverResult
        do {
            result = try solver.solve(.sdp(lmi.problem), options: SolverOptions(relativeGapTolerance: options.gapTolerance, timeLimit: options.timeLimit),
                                      control: context.solverControl)
        } catch {
            throw SolverStop(description: error.message)
        }
        if result.status == .cancelled { throw CancelledError() }
        guard result.status == .optimal, result.x.count == lmi.problem.variableCount else {
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
        switch certificate {
        case .success(let cert):
            details["certificate_shift"] = .number(cert.shift)
            details["certificate_margin"] = .number(cert.margin)
            details["certificate_checks"] = .number(Double(cert.checks))
            return SDPSolveOutcome(solverInput: solverInput, certifiedInput: cert.inputDiagonal, failure: nil,
                                   iterations: result.iterations, details: details)
        case .failure(let why):
            return SDPSolveOutcome(solverInput: solverInput, certifiedInput: nil, failure: why.description,
                                   iterations: result.iterations, details: details)
        }
    }
}
