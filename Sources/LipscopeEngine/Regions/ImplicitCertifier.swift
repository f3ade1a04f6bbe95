import Foundation
import LipscopeLinearAlgebra

/// Robustness certification of an implicit (equilibrium) network x = σ(Ax + Bu + b),
/// y = Cx + Du + c over an input box, with the feedforward `Certifier`'s contract:
///   holds     — for every other class j a certified lower bound of f_c − f_j over the box is > 0;
///   violated  — an attack found a point of the box where f_j ≥ f_c, confirmed by a tight forward
///               pass and by a proven enclosure of the fixed point at that point;
///   unknown   — neither, or well-posedness (one fixed point per input) could not be proven.
///
/// Both sources of lower bounds rest on a proof of well-posedness (a certified weighted
/// contraction measure μ_η(A) < 1, else the global implicit-SDP certificate):
///  - box: the proven fixed-point box [x̲, x̄] ∋ x*(u) for every u of the region (`FixedPointBox`);
///    f_c − f_j = w·x + d·u + (c_c − c_j) with w = C_c − C_j, d = D_c − D_j is bounded below by
///    interval arithmetic over x ∈ [x̲, x̄], u ∈ U, moved outward by a rounding margin;
///  - Lipschitz: m_j(x₀) − L_cj·r, with L_cj the local ℓ∞→|·| bound of the margin over the region
///    (contraction-weighted's local run, slopes from the same box) and m_j(x₀) the box bound of the
///    degenerate region {x₀}: the center's fixed point is only computed approximately, and the
///    proven point box is its a-posteriori enclosure.
public enum ImplicitCertifier {
    public enum Method: String, Sendable, CaseIterable {
        /// Per class the better of `box` and `contraction` (the default).
        case equilibrium
        /// Interval arithmetic over the proven fixed-point box of the region.
        case box
        /// m_j(x₀) − L_cj·r with L_cj the local contraction-weighted bound of f_c − f_j.
        case contraction

        public static let standard = Method.equilibrium
        public var usesBox: Bool { self != .contraction }
        public var usesLipschitz: Bool { self != .box }

        /// What a `holds` of this method rests on.
        public var certificate: String {
            let wellPosed = "well-posedness proven (certified weighted contraction μ_η(A) < 1, or the global implicit-sdp certificate)"
            let box = "direct lower bound of each margin f_c − f_j by interval arithmetic over the proven fixed-point box of the region (embedded network, Brouwer check with outward rounding) and the input box, moved outward by a rounding margin"
            let lipschitz = "m_j(x₀) − L_cj·r with L_cj the certified local ℓ∞→|·| contraction-weighted bound of f_c − f_j over the region and m_j(x₀) bounded below over the proven fixed-point box of the single point x₀"
            switch self {
            case .box: return "\(box); \(wellPosed)"
            case .contraction: return "\(lipschitz); \(wellPosed)"
            case .equilibrium: return "per class the larger of (1) \(box) and (2) \(lipschitz); \(wellPosed)"
            }
        }
    }

    public struct Problem: Sendable {
        public var network: ImplicitNetwork
        public var region: InputRegion
        public var label: Int
        public var others: [Int]
        public init(network: ImplicitNetwork, region: InputRegion, label: Int, others: [Int]) {
            self.network = network; self.region = region; self.label = label; self.others = others
        }
    }

    /// A proof that the network has exactly one fixed point per input (needed by every bound
    /// here, and by "the" output the verdict speaks of), or why none was found.
    public struct WellPosedness: Sendable {
        public let proof: String?
        public let note: String?
    }

    public struct Outcome: Sendable {
        public var verdict: Certifier.Verdict
        public var method: Method
        /// The ℓ∞ radius of the box around its center (its largest half-width, rounded up).
        public var radius: Double
        /// Per other class j (in `others` order): a certified lower bound of f_c(x₀) − f_j(x₀).
        public var margins: [Double]
        /// Per j: L_cj for contraction and equilibrium; the box lower bound of the margin for box.
        public var bounds: [Double]
        /// Per j: the certified lower bound of f_c − f_j over the box (what the verdict rests on).
        public var lowerMargins: [Double]
        /// Per j: the box source's and the Lipschitz source's lower bounds (−∞ when not computed).
        public var boxMargins: [Double]
        public var lipschitzMargins: [Double]
        /// Per j: "box", "lipschitz" or "none" — which source gave `lowerMargins[j]`.
        public var sources: [String]
        /// Neurons whose slope is not fixed over the region's fixed-point box (all without a box).
        public var unstableNeurons: Int
        public var seconds: Double
        public var counterexample: Certifier.Counterexample?
        public var note: String?
        public var wellPosedBy: String?
        /// Largest side of the region's fixed-point box (nil when none was proven).
        public var fixedPointBoxWidth: Double?
    }

    /// A certified contraction measure μ_η(A) < 1, else (when `sdp`) the global implicit-SDP
    /// certificate, which proves 2Λ − ΛA − AᵀΛ ≻ 0.
    public static func wellPosedness(_ net: ImplicitNetwork, sdp: Bool = true) -> WellPosedness {
        guard let system = EquilibriumSystem(net) else {
            return WellPosedness(proof: nil, note: "an activation has a negative slope; no well-posedness proof is available")
        }
        if let proof = try? EquilibriumScope.contractionProof(system) { return WellPosedness(proof: proof, note: nil) }
        var why = "no weighting η with a certified μ_η(A) < 1"
        if sdp {
            let request = BoundRequest(network: .implicit(net), norm: .l2)
            if case .applicable = ImplicitSDPBound().applicability(request),
               let result = try? ImplicitSDPBound().run(request, context: JobContext()), result.certified {
                return WellPosedness(proof: "the global implicit-sdp certificate (2Λ − ΛA − AᵀΛ ≻ 0)", note: nil)
            }
            why += ", and the global implicit-sdp LMI was not certified"
        }
        return WellPosedness(proof: nil, note: "well-posedness not proven (\(why)): without one fixed point per input neither the fixed-point box nor the contraction bound says anything, so the verdict stays unknown")
    }

    /// `progress` sees the stages and each class once its lower bound is final, as the feedforward
    /// certifier reports them (`Certifier.Progress`); a listener that throws stops the run there.
    public static func certify(_ p: Problem, method: Method, attack: Bool = true, seed: UInt64 = 1,
                               wellPosedness known: WellPosedness? = nil,
                               progress: ((Certifier.Progress) throws -> Void)? = nil) throws -> Outcome {
        let start = Date()
        let report = progress ?? { _ in }
        let net = p.network
        let m = net.outputSize
        guard p.region.dimension == net.inputSize else {
            throw RegionError("the region has \(p.region.dimension) coordinates but the network has \(net.inputSize) inputs")
        }
        guard (0..<m).contains(p.label) else { throw RegionError("label \(p.label) is not an output (the network has \(m))") }
        for j in p.others where !(0..<m).contains(j) || j == p.label {
            throw RegionError("class \(j) is not another output (the network has \(m), label \(p.label))")
        }
        let center = p.region.center
        let r = Certifier.radius(p.region, center: center)
        let k = p.others.count
        let none = [Double](repeating: -.infinity, count: k)
        var outcome = Outcome(verdict: .unknown, method: method, radius: r, margins: none,
                              bounds: [Double](repeating: .nan, count: k), lowerMargins: none, boxMargins: none,
                              lipschitzMargins: none, sources: [String](repeating: "none", count: k),
                              unstableNeurons: net.stateSize, seconds: 0, counterexample: nil, note: nil, wellPosedBy: nil)
        var notes: [String] = []
        try report(.phase("proving well-posedness"))
        let posed = known ?? wellPosedness(net)
        guard let proof = posed.proof else {
            for q in 0..<k { try report(.settled(index: q, margin: -.infinity, bound: .nan, lowerMargin: -.infinity)) }
            outcome.note = posed.note
            outcome.seconds = Date().timeIntervalSince(start)
            return outcome
        }
        outcome.wellPosedBy = proof

        try report(.phase("bounding the fixed points of the region"))
        // Certified margins at the center: the proven box of the single point x₀.
        switch FixedPointBox.compute(net, region: try InputRegion(lower: center, upper: center)) {
        case .success(let point):
            outcome.margins = intervalMargins(net, state: point.lower, point.upper, region: try InputRegion(lower: center, upper: center),
                                              label: p.label, others: p.others)
        case .failure(let why):
            notes.append("no proven fixed-point box at the center (\(why.description)): the center margins are unknown")
        }

        // The region's proven fixed-point box, shared by both sources.
        let regionBox = FixedPointBox.compute(net, region: p.region)
        switch regionBox {
        case .success(let box):
            outcome.fixedPointBoxWidth = box.width
            outcome.unstableNeurons = (0..<net.stateSize).filter {
                !SlopeIntervals.interval(net.activation, lower: box.preLower[$0], upper: box.preUpper[$0]).isFixed
            }.count
            if method.usesBox {
                outcome.boxMargins = intervalMargins(net, state: box.lower, box.upper, region: p.region, label: p.label, others: p.others)
            }
        case .failure(let why):
            notes.append("no proven fixed-point box for the region (\(why.description))" + (method.usesLipschitz ? "; the contraction bound uses the global slopes" : ""))
        }

        if method.usesLipschitz {
            try report(.phase("contraction bounds"))
            for (q, j) in p.others.enumerated() {
                let scope = try EquilibriumScope(implicit: net, region: p.region, margin: (p.label, j), output: nil,
                                                 wellPosedBy: proof, knownBox: regionBox)
                let request = BoundRequest(network: .implicit(net), norm: .linf)
                let result = try ContractionBound(weighted: true).runLocal(request, scope: scope, context: JobContext())
                if let l = result.value, result.certified, result.kind == .upper {
                    outcome.bounds[q] = l
                    guard outcome.margins[q].isFinite else { continue }
                    // Rounded up (the product) and down (the difference): a lower bound of m_j(x₀) − L·r.
                    let v = outcome.margins[q] - l * r * (1 + 4 * Double.ulpOfOne)
                    outcome.lipschitzMargins[q] = v - 2 * Double.ulpOfOne * abs(v)
                } else {
                    if case .string(let why)? = result.details["reason"] { notes.append("contraction for class \(j): \(why)") }
                    else { notes.append("contraction for class \(j): \(result.status.rawValue)") }
                }
            }
        }
        if method == .box { outcome.bounds = outcome.boxMargins }
        for q in 0..<k {
            let b = outcome.boxMargins[q], l = outcome.lipschitzMargins[q]
            if b == -.infinity && l == -.infinity { continue }
            if b >= l { outcome.lowerMargins[q] = b; outcome.sources[q] = "box" }
            else { outcome.lowerMargins[q] = l; outcome.sources[q] = "lipschitz" }
        }
        // Positive classes are final now; the others after the attack.
        for q in 0..<k where outcome.lowerMargins[q] > 0 {
            try report(.settled(index: q, margin: outcome.margins[q], bound: outcome.bounds[q], lowerMargin: outcome.lowerMargins[q]))
        }
        if outcome.lowerMargins.allSatisfy({ $0 > 0 }) {
            outcome.verdict = .holds
        } else if attack {
            try report(.phase("attack"))
            let targets = p.others.indices.filter { outcome.lowerMargins[$0] <= 0 }.map { p.others[$0] }
            if let found = Self.attack(p, targets: targets, seed: seed) {
                outcome.verdict = .violated
                outcome.counterexample = found
            }
        }
        for q in 0..<k where !(outcome.lowerMargins[q] > 0) {
            try report(.settled(index: q, margin: outcome.margins[q], bound: outcome.bounds[q], lowerMargin: outcome.lowerMargins[q]))
        }
        var unique: [String] = []
        for n in notes where !unique.contains(n) { unique.append(n) }
        outcome.note = unique.isEmpty ? nil : unique.joined(separator: "; ")
        outcome.seconds = Date().timeIntervalSince(start)
        return outcome
    }

    /// Certified lower bounds of f_c − f_j = (C_c − C_j)x + (D_c − D_j)u + (c_c − c_j) over
    /// x ∈ [lo, hi] and u in the region: interval arithmetic, then a rounding margin covering the
    /// rounded differences of rows, the rounded products and the summation (γ·Σ|terms|).
    static func intervalMargins(_ net: ImplicitNetwork, state lo: [Double], _ hi: [Double], region: InputRegion,
                                label c: Int, others: [Int]) -> [Double] {
        let n = net.stateSize, p = net.inputSize
        let gamma = 8 * Double(n + p + 8) * Double.ulpOfOne
        return others.map { j in
            var low = net.outputBias[c] - net.outputBias[j]
            var magnitude = abs(net.outputBias[c]) + abs(net.outputBias[j])
            for i in 0..<n {
                let w = net.C[c, i] - net.C[j, i]
                guard w != 0 else { continue }
                low += min(w * lo[i], w * hi[i])
                magnitude += (abs(net.C[c, i]) + abs(net.C[j, i])) * max(abs(lo[i]), abs(hi[i]))
            }
            for i in 0..<p {
                let d = net.D[c, i] - net.D[j, i]
                guard d != 0 else { continue }
                low += min(d * region.lower[i], d * region.upper[i])
                magnitude += (abs(net.D[c, i]) + abs(net.D[j, i])) * max(abs(region.lower[i]), abs(region.upper[i]))
            }
            return low - gamma * magnitude - Double(n + p + 2) * Double.leastNormalMagnitude
        }
    }

    /// The outputs at u with the fixed point solved to a tight tolerance (nil when it does not converge).
    static func outputs(_ net: ImplicitNetwork, _ u: [Double], tolerance: Double, maxIterations: Int) -> (y: [Double], state: [Double])? {
        let scale = max(1, u.map(abs).max() ?? 0)
        let fp = net.fixedPoint(input: u, tolerance: tolerance * scale, maxIterations: maxIterations)
        guard fp.converged else { return nil }
        let cx = net.C * fp.state, du = net.D * u
        return ((0..<net.outputSize).map { cx[$0] + du[$0] + net.outputBias[$0] }, fp.state)
    }

    /// A violation at u, confirmed twice: a forward pass with the fixed point solved to 1e-13
    /// shows f_j(u) ≥ f_c(u), and the proven fixed-point box of the single point u (the solve's
    /// certified error enclosure) gives a lower bound of f_j − f_c that is ≥ 0.
    public static func confirm(_ p: Problem, _ u: [Double]) -> Certifier.Counterexample? {
        guard p.region.contains(u), let (y, _) = outputs(p.network, u, tolerance: 1e-13, maxIterations: 200_000) else { return nil }
        let candidates = p.others.filter { y[$0] >= y[p.label] }.sorted { y[$0] > y[$1] }
        guard !candidates.isEmpty, let point = try? InputRegion(lower: u, upper: u),
              case .success(let box) = FixedPointBox.compute(p.network, region: point) else { return nil }
        for j in candidates {
            let lower = intervalMargins(p.network, state: box.lower, box.upper, region: point, label: j, others: [p.label])[0]
            if lower >= 0 { return Certifier.Counterexample(input: u, outputs: y, winner: j) }
        }
        return nil
    }

    /// Projected sign-gradient ascent on f_j − f_c (gradient through the fixed point:
    /// (C_j − C_c)(I − SA)⁻¹SB + D_j − D_c, one transposed solve) from the center and seeded
    /// random points, for each target class; a point counts only once `confirm` accepts it.
    public static func attack(_ p: Problem, targets: [Int]? = nil, seed: UInt64 = 1, restarts: Int = 6, steps: Int = 60) -> Certifier.Counterexample? {
        let net = p.network, region = p.region, c = p.label
        let n = net.stateSize
        let half = zip(region.lower, region.upper).map { ($1 - $0) / 2 }
        let drive = { (u: [Double]) in zip(net.B * u, net.bias).map(+) }
        var rng = SeededGenerator(seed: seed)
        for j in targets ?? p.others {
            let w = (0..<n).map { net.C[j, $0] - net.C[c, $0] }
            let d = (0..<net.inputSize).map { net.D[j, $0] - net.D[c, $0] }
            for restart in 0..<restarts {
                var x = restart == 0 ? region.center : (0..<region.dimension).map { rng.uniform(region.lower[$0], region.upper[$0]) }
                for step in 0...steps {
                    guard let (y, z) = outputs(net, x, tolerance: 1e-10, maxIterations: 20_000) else { break }
                    if p.others.contains(where: { y[$0] >= y[c] }), let found = confirm(p, x) { return found }
                    if step == steps { break }
                    let v = zip(net.A * z, drive(x)).map(+)
                    let s = v.map { net.activation.derivative($0) }
                    let system = (Matrix.identity(n) - net.A.scalingRows(by: s)).transposed
                    guard let lambda = try? LinearAlgebra.solve(system, w) else { break }
                    let g = zip(net.B.transposed * zip(lambda, s).map(*), d).map(+)
                    let size = 0.5 * (1 - Double(step) / Double(steps)) + 0.02
                    x = region.clamp(x.indices.map { i in
                        g[i] == 0 ? x[i] : x[i] + (g[i] > 0 ? 1 : -1) * size * 2 * half[i]
                    })
                }
            }
        }
        return nil
    }

    /// The largest ℓ∞ radius around `center` the method certifies (doubling from `start` while it
    /// holds, at most 30 times, then bisection); 0 when none. Well-posedness is proven once.
    public static func largestCertifiedRadius(network: ImplicitNetwork, center: [Double], label: Int, others: [Int],
                                              method: Method, start: Double, iterations: Int = 20) throws -> Double {
        let posed = wellPosedness(network)
        guard posed.proof != nil else { return 0 }
        func holds(_ r: Double) throws -> Bool {
            let p = Problem(network: network, region: try InputRegion(center: center, radius: r), label: label, others: others)
            return try certify(p, method: method, attack: false, wellPosedness: posed).verdict == .holds
        }
        return try Certifier.largestRadius(start: start, iterations: iterations, holds: holds)
    }
}
