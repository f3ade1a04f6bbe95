import Foundation
import LipscopeLinearAlgebra

/// Robustness certification over an input box: the label c stays strictly above every other
/// class j at every point of the box. Verdicts promise what they say:
///   holds     — every certified lower bound of f_c − f_j over the box is > 0;
///   violated  — an attack found a point of the box where f_j ≥ f_c, re-checked by a forward pass;
///   unknown   — neither.
public enum Certifier {
    public enum Method: String, Sendable, CaseIterable {
        /// alpha-crown, then (when the attack finds nothing) branch and bound on unstable ReLUs for
        /// the margins still not positive, within a time limit.
        case bab
        /// α-CROWN-style: back-substitution with the lower slopes of unstable ReLUs optimised by
        /// projected gradient, for the intermediate bounds and for each margin (the tightest here).
        case alphaCrown = "alpha-crown"
        /// Back-substitution (CROWN-style) lower bound of each margin over the box, intersected with IBP.
        case crown
        /// Interval propagation only.
        case interval
        /// m_j(x₀) − L_cj·r with L_cj the local naive / relaxed-exact ℓ∞→|·| bound of f_c − f_j.
        case naive
        case relaxedExact = "relaxed-exact"

        public var usesLipschitz: Bool { self == .naive || self == .relaxedExact }

        /// How the method's pre-activation bounds over the region are computed (once for all classes).
        var propagation: PreActivationBounds.Propagation { self == .interval ? .interval : .both }
        var tightensIntermediateBounds: Bool { self != .interval && self != .crown }
        /// The default: the tightest.
        public static let standard = Method.bab

        /// What a `holds` of this method rests on.
        public var certificate: String {
            switch self {
            case .bab, .alphaCrown, .crown, .interval:
                "direct lower bound of each margin f_c − f_j over the box by bound propagation, every bound moved outward by a floating-point rounding margin"
            case .naive, .relaxedExact:
                "m_j(x₀) − L_cj·r with a certified local ℓ∞→|·| Lipschitz bound L_cj (rounding margin included) and a certified center margin"
            }
        }
    }

    public enum Verdict: String, Sendable, Codable { case holds, violated, unknown }

    public struct Problem: Sendable {
        public var network: FeedforwardNetwork
        public var region: InputRegion
        public var label: Int
        public var others: [Int]
        public init(network: FeedforwardNetwork, region: InputRegion, label: Int, others: [Int]) {
            self.network = network; self.region = region; self.label = label; self.others = others
        }
    }

    public struct Counterexample: Sendable, Equatable {
        public var input: [Double]
        public var outputs: [Double]
        /// The class j with f_j(input) ≥ f_c(input).
        public var winner: Int
    }

    public struct Outcome: Sendable {
        public var verdict: Verdict
        public var method: Method
        /// The ℓ∞ radius of the box around its center (its largest half-width, rounded up).
        public var radius: Double
        /// Per other class j (in `others` order): a certified lower bound of f_c(x₀) − f_j(x₀) at the center.
        public var margins: [Double]
        /// Per j: L_cj for the Lipschitz methods; the certified lower bound of the margin over the box for crown/interval.
        public var bounds: [Double]
        /// Per j: the certified lower bound of f_c − f_j over the box (what the verdict rests on).
        public var lowerMargins: [Double]
        public var unstableNeurons: Int
        public var seconds: Double
        public var counterexample: Counterexample?
        /// A note when a bound could not be computed (e.g. too many unstable neurons).
        public var note: String?
        /// bab: the sub-domains it bounded (1 when no branching was needed).
        public var domains: Int = 1
    }

    /// What `certify` reports while it works (the workbench's live progress). A class is
    /// reported once, when its lower bound of f_c − f_j over the box is final: at once when it is
    /// positive, else after the attack and (bab) its branching. The computation is the same with
    /// or without a listener; a listener that throws (a cancel) stops the certification there.
    public enum Progress: Sendable {
        /// A stage shared by the classes ("bounding the region", "attack", "branching on class 3").
        case phase(String)
        /// Class `others[index]` is settled with this final certified lower bound over the box.
        case settled(index: Int, margin: Double, bound: Double, lowerMargin: Double)
    }

    /// The ℓ∞ radius of the box around the computed center, rounded up so ‖x − x₀‖∞ ≤ r holds
    /// for every x of the box despite the rounding of the center itself.
    static func radius(_ region: InputRegion, center: [Double]) -> Double {
        var r = 0.0
        for i in center.indices { r = max(r, region.upper[i] - center[i], center[i] - region.lower[i]) }
        return r * (1 + 4 * Double.ulpOfOne)
    }

    public static func certify(_ p: Problem, method: Method, attack: Bool = true, seed: UInt64 = 1,
                               search: PreActivationBounds.SlopeSearch = .init(), timeLimit: Double = 6,
                               progress: ((Progress) throws -> Void)? = nil) throws -> Outcome {
        let start = Date()
        let report = progress ?? { _ in }
        var settled = Set<Int>()
        // Classes settle in any order; each is reported once.
        func settle(_ k: Int, _ margin: Double, _ bound: Double, _ lower: Double) throws {
            guard settled.insert(k).inserted else { return }
            try report(.settled(index: k, margin: margin, bound: bound, lowerMargin: lower))
        }
        let net = p.network.withLinearOutput
        let m = net.outputSize
        guard (0..<m).contains(p.label) else { throw RegionError("label \(p.label) is not an output (the network has \(m))") }
        for j in p.others where !(0..<m).contains(j) || j == p.label {
            throw RegionError("class \(j) is not another output (the network has \(m), label \(p.label))")
        }
        let center = p.region.center
        let r = radius(p.region, center: center)
        let last = net.layers.count - 1
        let w = net.layers[last].weight.dense, b = net.layers[last].bias
        let rows = Matrix(rowArrays: p.others.map { j in (0..<w.columns).map { w[p.label, $0] - w[j, $0] } })
        let constant = p.others.map { b[p.label] - b[$0] }
        // Certified margins at the center: interval propagation over the one-point box, all classes at once.
        let point = try PreActivationBounds(net, region: try InputRegion(lower: center, upper: center), propagation: .interval)
        let margins = Self.intervalMargins(point, rows: rows, constant: constant, label: p.label, others: p.others)
        var bounds: [Double] = [], lowerMargins: [Double] = []
        var note: String?
        // The region's pre-activation bounds: computed once, shared by every class.
        try report(.phase("bounding the region"))
        var full = try PreActivationBounds(net, region: p.region, propagation: method.propagation)
        if method.tightensIntermediateBounds { full.tightenWithOptimizedSlopes(search) }
        let unstable = full.unstableCount
        switch method {
        case .bab, .alphaCrown, .crown, .interval:
            let ibp = Self.intervalMargins(full, rows: rows, constant: constant, label: p.label, others: p.others)
            switch method {
            case .bab, .alphaCrown:
                let opt = full.optimizedLowerBounds(rows, constant: constant, below: last, search: search)
                lowerMargins = zip(ibp, opt).map { max($0, $1) }
            case .crown:
                let crown = full.backSubstitute(rows, constant: constant, below: last, upperBound: false)
                lowerMargins = zip(ibp, crown).map { max($0, $1) }
            default:
                lowerMargins = ibp
            }
            bounds = lowerMargins
            for k in p.others.indices where lowerMargins[k] > 0 { try settle(k, margins[k], bounds[k], lowerMargins[k]) }
        case .naive, .relaxedExact:
            let slopes = full.slopes
            for (k, j) in p.others.enumerated() {
                let scope = LocalScope(network: net, region: p.region, slopes: slopes, margin: (p.label, j))
                let request = BoundRequest(network: .feedforward(net), norm: .linf)
                let result = method == .naive
                    ? try NaiveBound().runLocal(request, scope: scope, context: JobContext())
                    : try RelaxedExactBound().runLocal(request, scope: scope, context: JobContext())
                if let l = result.value, result.certified, result.kind == .upper {
                    bounds.append(l)
                    lowerMargins.append(margins[k] - l * r * (1 + 4 * Double.ulpOfOne))
                } else {
                    bounds.append(.nan)
                    lowerMargins.append(-.infinity)
                    if case .string(let why)? = result.details["reason"] { note = why } else { note = "\(method.rawValue): \(result.status.rawValue)" }
                }
                // Nothing later changes these margins (the attack only finds counterexamples).
                try settle(k, margins[k], bounds[k], lowerMargins[k])
            }
        }
        var verdict: Verdict = lowerMargins.allSatisfy { $0 > 0 } ? .holds : .unknown
        var counterexample: Counterexample?
        if verdict == .unknown, attack {
            try report(.phase("attack"))
            if let found = Self.attack(p, seed: seed) {
                verdict = .violated
                counterexample = found
            }
        }
        var domains = 1
        if verdict == .unknown, method == .bab {
            // The margins not yet positive, easiest first, sharing one deadline.
            let deadline = start.addingTimeInterval(timeLimit)
            for k in p.others.indices.sorted(by: { lowerMargins[$0] > lowerMargins[$1] }) where lowerMargins[k] <= 0 {
                try report(.phase("branching on class \(p.others[k])"))
                let o = ReluBranching.lowerBound(row: rows.row(k), constant: constant[k], root: full, rootBound: lowerMargins[k],
                                                 search: .init(iterations: max(1, search.iterations / 2),
                                                               learningRate: search.learningRate, decay: search.decay),
                                                 deadline: deadline)
                lowerMargins[k] = max(lowerMargins[k], o.bound)
                domains += o.domains - 1
                try settle(k, margins[k], lowerMargins[k], lowerMargins[k])
                if !o.proven { break }
            }
            bounds = lowerMargins
            if lowerMargins.allSatisfy({ $0 > 0 }) { verdict = .holds }
        }
        // The rest are final as they stand (a counterexample was found, or the method is done).
        for k in p.others.indices { try settle(k, margins[k], bounds[k], lowerMargins[k]) }
        return Outcome(verdict: verdict, method: method, radius: r, margins: margins, bounds: bounds,
                       lowerMargins: lowerMargins, unstableNeurons: unstable,
                       seconds: Date().timeIntervalSince(start), counterexample: counterexample, note: note,
                       domains: domains)
    }

    /// Lower bounds of the margin rows over the activation box of the last hidden layer (interval
    /// arithmetic, tighter than lower_c − upper_j), with a rounding margin.
    static func intervalMargins(_ b: PreActivationBounds, rows: Matrix, constant: [Double], label: Int, others: [Int]) -> [Double] {
        let last = b.network.layers.count - 1
        let (hl, hu) = b.activationBox(last)
        return others.indices.map { k in
            let row = rows.row(k)
            var lo = constant[k], mag = abs(constant[k])
            for i in row.indices where row[i] != 0 {
                lo += min(row[i] * hl[i], row[i] * hu[i])
                mag += abs(row[i]) * b.magnitude[last][i]
            }
            return max(b.lower[last][label] - b.upper[last][others[k]], lo - b.gamma * mag)
        }
    }

    /// Projected sign-gradient ascent on f_j − f_c from the center, its corners and seeded random
    /// points; a point counts only when a fresh forward pass confirms f_j ≥ f_c inside the box.
    public static func attack(_ p: Problem, seed: UInt64 = 1, restarts: Int = 6, steps: Int = 60) -> Counterexample? {
        let net = p.network.withLinearOutput
        let region = p.region
        let half = zip(region.lower, region.upper).map { ($1 - $0) / 2 }
        var rng = SeededGenerator(seed: seed)
        func confirm(_ x: [Double]) -> Counterexample? {
            guard region.contains(x) else { return nil }
            let y = net.forward(x)
            for j in p.others where y[j] >= y[p.label] { return Counterexample(input: x, outputs: y, winner: j) }
            return nil
        }
        for j in p.others {
            let diff = net.restricted(toMargin: j, minus: p.label)
            let weights = diff.layers.map(\.weight.dense)
            for restart in 0..<restarts {
                var x: [Double]
                switch restart {
                case 0: x = region.center
                default: x = (0..<region.dimension).map { rng.uniform(region.lower[$0], region.upper[$0]) }
                }
                for step in 0..<steps {
                    if let found = confirm(x) { return found }
                    let size = 0.5 * (1 - Double(step) / Double(steps)) + 0.02
                    guard let g = diff.jacobian(at: x, denseWeights: weights) else {
                        x = region.clamp(x.indices.map { x[$0] + 1e-9 * half[$0] * rng.gaussian() })
                        continue
                    }
                    x = region.clamp(x.indices.map { i in
                        let d = g[0, i]
                        return d == 0 ? x[i] : x[i] + (d > 0 ? 1 : -1) * size * 2 * half[i]
                    })
                }
                if let found = confirm(x) { return found }
            }
        }
        return nil
    }

    /// The largest ℓ∞ radius around `center` the method certifies: doubling from `start` while it
    /// holds (at most 30 times), then bisection; the returned radius is one the method certified
    /// (0 when none).
    public static func largestCertifiedRadius(network: FeedforwardNetwork, center: [Double], label: Int, others: [Int],
                                              method: Method, start: Double, iterations: Int = 20,
                                              search: PreActivationBounds.SlopeSearch = .init(), timeLimit: Double = 6) throws -> Double {
        func holds(_ r: Double) throws -> Bool {
            let p = Problem(network: network, region: try InputRegion(center: center, radius: r), label: label, others: others)
            return try certify(p, method: method, attack: false, search: search, timeLimit: timeLimit).verdict == .holds
        }
        return try largestRadius(start: start, iterations: iterations, holds: holds)
    }

    /// Doubling from `start` while `holds` (at most 30 times), then `iterations` bisection steps;
    /// the returned radius is one `holds` accepted (0 when none). Shared with the implicit certifier.
    static func largestRadius(start: Double, iterations: Int, holds: (Double) throws -> Bool) throws -> Double {
        var lo = 0.0, hi = start
        var doublings = 0
        while try holds(hi) {
            lo = hi; hi *= 2; doublings += 1
            if doublings == 30 { return lo }
        }
        for _ in 0..<iterations {
            let mid = (lo + hi) / 2
            if try holds(mid) { lo = mid } else { hi = mid }
        }
        return lo
    }
}
