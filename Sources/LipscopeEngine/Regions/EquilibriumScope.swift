import Foundation
import LipscopeLinearAlgebra

/// What a local run of the equilibrium methods (contraction, contraction-weighted, implicit-sdp)
/// works on: the system z = ψ(Az + Bu + b), y = Cz + Du restricted to an output or a margin, and
/// per state the slope interval of ψ (the activation rescaled to slopes ≤ 1, as in
/// `EquilibriumSystem`) over the region.
///  - implicit nets: slopes from the pre-activation bounds of a proven fixed-point box
///    (`FixedPointBox`), which needs well-posedness; without a proof the global slopes stay and
///    `details` say why;
///  - feedforward nets: slopes from the feedforward pre-activation bounds (`LocalScope`), the
///    states being the stacked hidden layers (a strictly lower-triangular A is always well-posed).
public struct EquilibriumScope: Sendable {
    public let system: EquilibriumSystem
    public let region: InputRegion?
    public let margin: (c: Int, j: Int)?
    public let slopes: [SlopeIntervals.Interval]
    /// The proven fixed-point box (implicit nets with a region), in the network's own units.
    public let box: FixedPointBox?
    public var details: [String: JSONValue]
    /// A region was given but no proof of well-posedness was found (global slopes are used).
    public let needsWellPosedness: Bool

    public var isLocal: Bool { region != nil || margin != nil }
    /// Whether the slopes are the region's (false: global ones, a region without a proof).
    public var hasLocalSlopes: Bool { region != nil && details["local_fallback"] == nil }

    /// The scope of a request that sets a region or a margin, nil otherwise. `wellPosedBy` names
    /// a proof of well-posedness the caller already holds (the global implicit-SDP certificate);
    /// without one, a certified contraction measure μ_η(A) < 1 is looked for.
    static func ifLocal(_ request: BoundRequest, parsed: ParsedOptions, wellPosedBy: String? = nil) throws -> EquilibriumScope? {
        switch request.network {
        case .implicit(let net):
            let scope = try EquilibriumScope(request, parsed: parsed, implicit: net, wellPosedBy: wellPosedBy)
            return scope.isLocal ? scope : nil
        case .feedforward(let ff):
            let local = try LocalScope(request, parsed: parsed, network: ff)
            guard local.isLocal else { return nil }
            return try EquilibriumScope(feedforward: local)
        case .graph(let g):
            // A chain graph is a feedforward net; other graphs would need the embedded network
            // in topological order (interval propagation over the DAG), not written yet.
            if let chain = g.chain {
                let local = try LocalScope(request, parsed: parsed, network: chain)
                return local.isLocal ? try EquilibriumScope(feedforward: local) : nil
            }
            let set = LocalScope.options.map(\.key).filter { parsed.isSet($0) }
            guard set.isEmpty else {
                throw MethodFailure("option '\(set[0])': regions and margins are not supported by \(parsed.method) on graphs with skip connections or branches yet (chains of layers and implicit nets take them)")
            }
            return nil
        }
    }

    init(_ request: BoundRequest, parsed: ParsedOptions, implicit net: ImplicitNetwork, wellPosedBy: String?) throws {
        try self.init(implicit: net, region: try InputRegion.from(parsed, inputSize: net.inputSize),
                      margin: try LocalScope.margin(request, parsed: parsed, outputCount: net.outputSize),
                      output: request.output, wellPosedBy: wellPosedBy)
    }

    /// The scope of an implicit net for a region and/or margin given directly. `knownBox` is the
    /// region's fixed-point box when the caller already computed it (the certifier shares one box
    /// across its classes); it is used only together with a proof of well-posedness.
    init(implicit net: ImplicitNetwork, region: InputRegion?, margin: (c: Int, j: Int)?, output: Int?, wellPosedBy: String?,
         knownBox: Result<FixedPointBox, FixedPointBox.Failure>? = nil) throws {
        guard let full = EquilibriumSystem(net) else { throw MethodFailure("an activation has a negative slope") }
        self.region = region
        self.margin = margin
        system = Self.restrict(full, output: output, margin: margin)
        let (alpha, beta) = net.activation.slopeBounds
        let global = SlopeIntervals.Interval(alpha: alpha / beta, beta: 1)
        var d: [String: JSONValue] = [:]
        if let (c, j) = margin { d["margin"] = .string("f_\(c) − f_\(j)") }
        guard let region else {
            slopes = Array(repeating: global, count: net.stateSize); box = nil; details = d
            needsWellPosedness = false
            return
        }
        d["region"] = .string(Self.describe(region))
        let proof = try wellPosedBy ?? Self.contractionProof(full)
        guard let proof else {
            d["local_fallback"] = .string("global slopes used: well-posedness is not proven by a certified contraction measure μ_η(A) < 1, so the fixed-point box proves nothing")
            slopes = Array(repeating: global, count: net.stateSize); box = nil; details = d
            needsWellPosedness = true
            return
        }
        needsWellPosedness = false
        d["well_posed_by"] = .string(proof)
        switch knownBox ?? FixedPointBox.compute(net, region: region) {
        case .failure(let why):
            d["local_fallback"] = .string("global slopes used: \(why.description)")
            slopes = Array(repeating: global, count: net.stateSize); box = nil
        case .success(let b):
            box = b
            slopes = (0..<net.stateSize).map { i in
                let iv = SlopeIntervals.interval(net.activation, lower: b.preLower[i], upper: b.preUpper[i])
                return SlopeIntervals.Interval(alpha: iv.alpha / beta, beta: iv.beta / beta)
            }
            d["fixed_point_box"] = .string("proven: one step of the embedded network maps the widened box into itself (\(b.iterations) iterations, \(b.widenings) widening\(b.widenings == 1 ? "" : "s")); with well-posedness every fixed point of the region lies in it (Brouwer)")
            d["fixed_point_box_width"] = .number(b.width)
        }
        details = d
        recordCounts()
    }

    init(feedforward local: LocalScope) throws {
        guard let eq = EquilibriumSystem(local.network) else { throw MethodFailure("an activation has a negative slope") }
        system = eq
        region = local.region
        margin = local.margin
        box = nil
        needsWellPosedness = false
        let betas = local.network.withLinearOutput.hiddenLayers.map { $0.activation.slopeBounds.beta }
        slopes = zip(local.slopes.hidden, betas).flatMap { layer, beta in
            layer.map { SlopeIntervals.Interval(alpha: $0.alpha / beta, beta: $0.beta / beta) }
        }
        details = local.details
        if region != nil { recordCounts() }
    }

    mutating func recordCounts() {
        guard region != nil else { return }
        let unstable = slopes.filter { !$0.isFixed }.count
        details["unstable_neurons"] = .number(Double(unstable))
        details["stable_neurons"] = .number(Double(slopes.count - unstable))
        details["inactive_neurons"] = .number(Double(slopes.filter { $0.alpha == 0 && $0.beta == 0 }.count))
    }

    /// The states whose slope is not [0, 0]: a stably inactive neuron has Δzᵢ = 0 for every pair
    /// of inputs of the region, so deleting it (row and column of A, row of B, column of C) is exact.
    var live: [Int] { slopes.indices.filter { !(slopes[$0].alpha == 0 && slopes[$0].beta == 0) } }

    /// The system restricted to the live states.
    var liveSystem: EquilibriumSystem { system.keepingStates(live) }

    static func restrict(_ s: EquilibriumSystem, output: Int?, margin: (c: Int, j: Int)?) -> EquilibriumSystem {
        if let (c, j) = margin { return s.restricted(toMargin: c, minus: j) }
        return output.map { s.restricted(toOutput: $0) } ?? s
    }

    static func describe(_ region: InputRegion) -> String {
        let half = zip(region.lower, region.upper).map { ($1 - $0) / 2 }
        return half.allSatisfy({ $0 == half.first }) ? "ℓ∞ ball of radius \(region.radius) around the given center"
                                                      : "box of \(region.dimension) inputs, largest half-width \(region.radius)"
    }

    /// A proof of well-posedness from contraction: some η with certified μ_η(A) < 1 (rounding
    /// margin included) among η = 1, the Perron weights of ⌈A⌉ and the least weights at level
    /// (1 + α(⌈A⌉))/2. nil when none is found.
    static func contractionProof(_ s: EquilibriumSystem) throws -> String? {
        let analysis = try ContractionAnalysis(s)
        let n = s.stateSize
        let ones = [Double](repeating: 1, count: n)
        if analysis.certifiedMeasureBelowOne(ones) { return "certified μ∞(A) < 1 (rounding margin included)" }
        guard analysis.metzlerAbscissa < 1 else { return nil }
        if analysis.certifiedMeasureBelowOne(analysis.perronVector) {
            return "certified μ_η(A) < 1 at the Perron weights of ⌈A⌉ (rounding margin included)"
        }
        let level = (1 + max(analysis.metzlerAbscissa, 0)) / 2
        if let eta = analysis.leastWeights(level: level, floor: ones), analysis.certifiedMeasureBelowOne(eta) {
            return "certified μ_η(A) < 1 at weights with μ_η ≈ \(level) (rounding margin included)"
        }
        return nil
    }
}

extension ContractionAnalysis {
    /// μ_η(A) plus its rounding margin is below 1 (the test of `certifiedBound`).
    func certifiedMeasureBelowOne(_ eta: [Double]) -> Bool {
        guard eta.allSatisfy({ $0 > 0 && $0.isFinite }) else { return false }
        let (mu, magnitude) = measureAndMagnitude(eta)
        return mu + 8 * Double(system.stateSize + 1) * RoundingMargin.unit * magnitude < 1
    }
}

extension EquilibriumSystem {
    /// The scalar output y_c − y_j (row c minus row j of C and D).
    func restricted(toMargin c: Int, minus j: Int) -> EquilibriumSystem {
        var copy = self
        copy.C = Matrix(rows: 1, columns: C.columns, storage: (0..<C.columns).map { C[c, $0] - C[j, $0] })
        copy.D = Matrix(rows: 1, columns: D.columns, storage: (0..<D.columns).map { D[c, $0] - D[j, $0] })
        return copy
    }

    /// The system on a subset of its states (the others' increments are 0 on the region).
    func keepingStates(_ keep: [Int]) -> EquilibriumSystem {
        if keep.count == stateSize { return self }
        var copy = self
        var a = Matrix(rows: keep.count, columns: keep.count)
        var c = Matrix(rows: C.rows, columns: keep.count)
        for (q, j) in keep.enumerated() {
            for (r, i) in keep.enumerated() { a[r, q] = A[i, j] }
            for r in 0..<C.rows { c[r, q] = C[r, j] }
        }
        copy.A = a
        copy.B = B.selectingRows(keep)
        copy.C = c
        return copy
    }
}
