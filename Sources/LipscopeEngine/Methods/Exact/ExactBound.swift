import Foundation

/// The exact Lipschitz constant of a small piecewise linear feedforward net (ReLU, leaky ReLU,
/// identity), globally or over an input box, for the whole output, one output, or a margin
/// f_c − f_j. The constant is the largest ‖J‖ over the linear regions that are realized by a
/// full-dimensional set of inputs (relaxed-exact ignores realizability, hence its upper bound).
/// `PatternSearch` brackets it: lower bounds are true Jacobians at witness inputs, upper bounds
/// slope-box norms with rounding margins; kind `exact` once the gap closes.
public struct ExactBound: BoundMethod {
    public let id = "exact"
    public let label = "Exact (pattern B&B)"
    public let kind = BoundKind.exact
    public let norms: [Norm] = [.l2, .linf]
    /// Above this many hidden neurons sampling seeds the search's lower side.
    static let samplingSeedNeurons = 24
    /// Beyond this many hidden neurons the search is hopeless in interactive time.
    public static let maximumHiddenNeurons = 64
    public init() {}

    public var options: [MethodOption] {
        InputRegion.options + [
            MethodOption("margin", .list, default: nil, help: "c,j: the constant of the scalar margin f_c − f_j (0-based outputs) instead of the output vector"),
            MethodOption("gap", .double(min: 0, max: 1, open: false), default: "1e-6", help: "stop when (upper − lower)/upper is at most this"),
            MethodOption("max_nodes", .int(min: 1, max: nil), default: "2000000", help: "branch-and-bound node limit"),
            MethodOption("time_limit", .double(min: 0, max: nil, open: true), default: "60", help: "wall-clock limit, seconds"),
            MethodOption("engine", .choice(Engine.allCases.map(\.rawValue)), default: "auto",
                         help: "pattern: branch and bound over activation patterns; milp: CBC on the LipMIP MILP (ℓ∞ only) for the lower side, then the pattern search seeded with its incumbent certifies the upper side; auto: pattern (faster in both norms on the measured nets)"),
            MethodOption("milp_radius", .double(min: 0, max: nil, open: true), default: "100",
                         help: "over all of Rⁿ the MILP searches the ℓ∞ ball of this radius (its incumbents are lower bounds either way)"),
        ]
    }

    public func applicability(_ request: BoundRequest) -> Applicability {
        if let why = PiecewiseLinearNet.reasonNotApplicable(request.network) { return .notApplicable(why) }
        let n = request.network.hiddenNeuronCount
        if n > Self.maximumHiddenNeurons {
            return .tooLarge("\(n) hidden neurons (the pattern search is for nets up to \(Self.maximumHiddenNeurons))")
        }
        return .applicable
    }

    /// Which search finds the lower side. Measured (`lipscope bench exact`): see `defaultEngine`.
    public enum Engine: String, CaseIterable, Sendable { case auto, pattern, milp }

    /// Measured (release, `lipscope bench exact --engines pattern,milp`): the pattern search
    /// alone is faster in ℓ∞ too (small_relu_20 0.38 s vs 1.5 s; fnn2 both end at the same 9.5 %
    /// gap after 60 s, CBC's incumbent staying below the pattern search's), so auto = pattern.
    /// ℓ2 has no MILP form (the spectral norm is not piecewise linear).
    static func defaultEngine(_ norm: Norm) -> Engine { .pattern }

    struct Settings {
        var engine: Engine = .pattern
        var milpRadius = 100.0
        var region: InputRegion?
        var target: PiecewiseLinearNet.Target
        var search: PatternSearch.Settings
    }

    func settings(_ request: BoundRequest) throws -> Settings {
        let parsed = try parseOptions(request)
        let region = try InputRegion.from(parsed, inputSize: request.network.inputSize)
        var target = PiecewiseLinearNet.Target.all
        let m = request.network.outputSize
        if let pair = parsed.isSet("margin") ? parsed.list("margin") : nil {
            let ints = pair.compactMap { Int($0) }
            guard ints.count == 2, pair.count == 2, ints.allSatisfy({ (0..<m).contains($0) }), ints[0] != ints[1] else {
                throw OptionError(method: id, key: "margin", expected: "two different output indices c,j in 0..<\(m)",
                                  found: pair.joined(separator: ","))
            }
            if request.output != nil {
                throw OptionError(method: id, key: "margin", expected: "no output restriction together with a margin",
                                  found: "output \(request.output!) and margin \(ints[0]),\(ints[1])")
            }
            target = .margin(ints[0], ints[1])
        } else if let j = request.output {
            target = .output(j)
        }
        var search = PatternSearch.Settings()
        search.relativeGap = parsed.double("gap") ?? search.relativeGap
        search.maxNodes = parsed.int("max_nodes") ?? search.maxNodes
        search.timeLimit = parsed.double("time_limit") ?? search.timeLimit
        search.seed = request.seed
        var engine: Engine = parsed.choice("engine") ?? .auto
        if engine == .auto { engine = Self.defaultEngine(request.norm) }
        if engine == .milp && request.norm != .linf {
            throw OptionError(method: id, key: "engine", expected: "pattern or auto in ℓ2 (the MILP form is for ℓ∞)",
                              found: "milp")
        }
        return Settings(engine: engine, milpRadius: parsed.double("milp_radius") ?? 100, region: region, target: target,
                        search: search)
    }

    public func run(_ request: BoundRequest, context: JobContext) throws -> BoundResult {
        guard let ff = request.network.layerChain else { throw MethodFailure("a chain of layers only") }
        let s = try settings(request)
        let net = try PiecewiseLinearNet(ff, target: s.target, norm: request.norm)
        var searchSettings = s.search
        var milp: MILPSearch.Outcome? = nil
        if s.engine == .milp {
            // Phase 1: CBC finds the optimal pattern (its incumbents re-checked as true
            // Jacobians); phase 2: the pattern search, seeded with it, proves the upper side.
            let box = try s.region ?? InputRegion(center: [Double](repeating: 0, count: net.inputSize), radius: s.milpRadius)
            let helper = PatternSearch(net: net, norm: request.norm, region: s.region, settings: s.search)
            let phase = MILPSearch(net: net, box: box, region: s.region, patterns: helper,
                                   relativeGap: s.search.relativeGap, timeLimit: s.search.timeLimit * 2 / 3)
            let m = try phase.run(context: context, seed: nil)
            milp = m
            if !m.witness.isEmpty { searchSettings.incumbentWitnesses.append(m.witness) }
            searchSettings.iterationOffset = m.iterations
        }
        if net.neuronCount > Self.samplingSeedNeurons {
            // Past a couple of dozen neurons the search rarely closes, and its lower side comes
            // from the regions it happens to open; sampling's region hopping finds better inputs
            // (glipsdp fnn2 ℓ∞: 36.67 against the search's 35.65 after 60 s).
            let regionKeys = Set(InputRegion.options.map(\.key))
            let sampling = Job.run(SamplingBound(), BoundRequest(network: .feedforward(net.network), norm: request.norm,
                                                                 seed: request.seed,
                                                                 options: request.options.filter { regionKeys.contains($0.key) }),
                                   token: context.token)
            if case .array(let w)? = sampling.details["witness"] {
                searchSettings.incumbentWitnesses.append(w.compactMap { if case .number(let v) = $0 { v } else { nil } })
            }
        }
        let search = PatternSearch(net: net, norm: request.norm, region: s.region, settings: searchSettings)
        var out = try search.run(context: context)
        var upperFrom = "pattern search"
        if out.relativeGap > s.search.relativeGap && !out.cancelled {
            // The slope-box bounds are weak on wide nets: a certified LipSDP bound of the same
            // map (global, so valid on any region) may be lower than the search's.
            let sdp: any BoundMethod = request.norm == .l2 ? LipSDPBound(.neuron) : LipSDPLinfBound()
            context.log("exact: gap \(out.relativeGap) left; trying \(sdp.id) for the upper side")
            let r = Job.run(sdp, BoundRequest(network: .feedforward(net.network), norm: request.norm, seed: request.seed),
                            token: context.token)
            if r.status == .optimal, r.certified, let v = r.value, v < out.upper, v >= out.lower {
                out.upper = v
                out.certifiedUpper = min(out.certifiedUpper, v)
                upperFrom = sdp.id
            }
            // A cancel during the SDP is a cancel of the whole run: both sides are kept.
            if context.isCancelled || r.status == .cancelled { out.cancelled = true; out.stop = "cancelled" }
        }
        let closed = out.relativeGap <= s.search.relativeGap
        // Over all of Rⁿ the regions pruned on CLP's word keep their slope-box bounds in
        // certified_upper; when even that meets the lower bound, the value is certified.
        let certifiedClosed = out.certifiedUpper <= out.upper
            || (out.certifiedUpper > 0 && (out.certifiedUpper - out.lower) / out.certifiedUpper <= s.search.relativeGap)
        let certified = out.emptyUncertified == 0 || upperFrom != "pattern search" || certifiedClosed
        var details: [String: JSONValue] = [
            "lower": .number(out.lower),
            "upper": .number(out.upper),
            "gap": .number(out.relativeGap),
            "witness": .numbers(out.witness),
            "witness_pattern_matches": .bool(out.witnessPatternMatches),
            "nodes": .number(Double(out.nodes)),
            "leaves": .number(Double(out.leaves)),
            "open_nodes": .number(Double(out.openNodes)),
            "regions_empty_certified": .number(Double(out.emptyCertified)),
            "regions_empty_exact": .number(Double(out.emptyExact)),
            "regions_empty_uncertified": .number(Double(out.emptyUncertified)),
            "stopped_by": .string(out.stop),
            "upper_from": .string(upperFrom),
            "region": s.region.map { .object(["lower": .numbers($0.lower), "upper": .numbers($0.upper)]) } ?? .string("global"),
            "upper_certificate": .string(upperFrom != "pattern search"
                ? "\(upperFrom)'s own certificate (re-verified LMI), lower than the pattern search's bound"
                : certified && s.region == nil
                ? "slope-box norms of every open or bound-closed node with rounding margins; every pruned region shown empty over all of Rⁿ by an exact Farkas certificate (λ ≥ 0, Σλᵢaᵢ = 0, Σλᵢbᵢ ≤ 0 checked in exact rational arithmetic on the region's affine forms, computed exactly from the network's doubles)"
                : certified
                ? "slope-box norms of every open or bound-closed node with rounding margins; every pruned region shown empty by LP multipliers checked with a rounding margin"
                : s.region == nil
                    ? "slope-box norms with rounding margins; \(out.emptyExact) pruned regions were proven empty by exact Farkas certificates, but \(out.emptyUncertified) were not (no exact certificate found in the time given to proofs): their multipliers prove them empty inside the ℓ∞ ball of radius certified_radius, so the value is certified as the constant over that ball; certified_upper keeps them and is a certified global bound"
                    : "slope-box norms with rounding margins, but \(out.emptyUncertified) regions were pruned as empty on CLP's word; certified_upper keeps them and is certified"),
            "lower_certificate": .string("‖J(witness)‖ of the true Jacobian recomputed at the witness input"),
        ]
        switch s.target {
        case .all: break
        case .output(let j): details["target"] = .string("output \(j)")
        case .margin(let c, let j): details["target"] = .string("margin f\(c) − f\(j)")
        }
        if !certified || out.emptyUncertified > 0 { details["certified_upper"] = .number(out.certifiedUpper) }
        details["engine"] = .string(s.engine.rawValue)
        if let m = milp {
            details["milp"] = .object([
                "status": .string(m.status),
                "lower": .number(m.lower),
                "solver_bound": m.solverBound.isFinite ? .number(m.solverBound) : .null,
                "solver_bound_note": .string("CBC's dual bound over the box below, not re-verified: the upper side comes from the pattern search"),
                "nodes": .number(Double(m.nodes)),
                "binaries": .number(Double(m.binaries)),
                "seconds": .number(m.seconds),
                "box_radius": .number(s.region?.radius ?? s.milpRadius),
            ])
        }
        if s.region == nil && out.emptyUncertified > 0 { details["certified_radius"] = .number(out.emptyRadius) }
        if out.cancelled {
            details["reason"] = .string("cancelled by the user")
            return result(request, value: nil, certified: false, status: .cancelled, iterations: out.nodes, details: details)
        }
        // Certified through certified_upper: print that (it may exceed the search's bound).
        let value = out.emptyUncertified > 0 && upperFrom == "pattern search" && certifiedClosed
            ? out.certifiedUpper : out.upper
        var r = result(request, value: value, certified: certified, iterations: out.nodes, details: details)
        r.kind = closed ? .exact : .upper
        return r
    }
}
