import Foundation
import LipscopeLinearAlgebra

/// Robustness certification over an input box: the label c stays strictly above every other
/// class j at every point of the box. Verdicts promise what they say:
///   holds     — every certified lower bound of f_c − f_j over the box is > 0;
///   violated  — an attack found a point of the box where f_j ≥ f_c, re-checked by a forward pass;
///   unknown   — neither.
public enum Certifier {
    public enum Method: String, Sendable, CaseIterable {
        /// Back-substitution (CROWN-style) lower bound of each margin over the box, intersected with IBP.
        case crown
        /// Interval propagation only.
        case interval
        /// m_j(x₀) − L_cj·r with L_cj the local naive / relaxed-exact ℓ∞→|·| bound of f_c − f_j.
        case naive
        case relaxedExact = "relaxed-exact"

        public var usesLipschitz: Bool { self == .naive || self == .relaxedExact }
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
    }

    /// The ℓ∞ radius of the box around the computed center, rounded up so ‖x − x₀‖∞ ≤ r holds
    /// for every x of the box despite the rounding of the center itself.
    static func radius(_ region: InputRegion, center: [Double]) -> Double {
        var r = 0.0
        for i in center.indices { r = max(r, region.upper[i] - center[i], center[i] - region.lower[i]) }
        return r * (1 + 4 * Double.ulpOfOne)
    }

    public static func certify(_ p: Problem, method: Method, attack: Bool = true, seed: UInt64 = 1) throws -> Outcome {
        let start = Date()
        let net = p.network.withLinearOutput
        let m = net.outputSize
        guard (0..<m).contains(p.label) else { throw RegionError("label \(p.label) is not an output (the network has \(m))") }
        for j in p.others where !(0..<m).contains(j) || j == p.label {
            throw RegionError("class \(j) is not another output (the network has \(m), label \(p.label))")
        }
        let center = p.region.center
        let r = radius(p.region, center: center)
        // Certified margins at the center: interval propagation over the one-point box.
        let point = try InputRegion(lower: center, upper: center)
        let margins = try p.others.map { j in
            try PreActivationBounds(net.restricted(toMargin: p.label, minus: j), region: point, propagation: .interval).lower.last![0]
        }
        var bounds: [Double] = [], lowerMargins: [Double] = []
        var note: String?
        let full = try PreActivationBounds(net, region: p.region, propagation: method == .interval ? .interval : .both)
        let unstable = full.unstableCount
        switch method {
        case .crown, .interval:
            let last = net.layers.count - 1
            let w = net.layers[last].weight.dense, b = net.layers[last].bias
            let rows = Matrix(rowArrays: p.others.map { j in (0..<w.columns).map { w[p.label, $0] - w[j, $0] } })
            let constant = p.others.map { b[p.label] - b[$0] }
            let ibp = p.others.map { full.lower[last][p.label] - full.upper[last][$0] }
            if method == .crown {
                let crown = full.backSubstitute(rows, constant: constant, below: last, upperBound: false)
                lowerMargins = zip(ibp, crown).map { max($0, $1) }
            } else {
                // Margin rows over the activation box of the last hidden layer (tighter than lower_c − upper_j).
                let (hl, hu) = full.activationBox(last)
                let box = try InputRegion(lower: hl, upper: hu)
                lowerMargins = zip(ibp, p.others.indices).map { i, k in
                    let lo = box.range(of: rows.row(k), plus: constant[k]).low
                    let mag = zip(rows.row(k), full.magnitude[last]).reduce(abs(constant[k])) { $0 + abs($1.0) * $1.1 }
                    return max(i, lo - full.gamma * mag)
                }
            }
            bounds = lowerMargins
        case .naive, .relaxedExact:
            let bm: any BoundMethod = method == .naive ? NaiveBound() : RelaxedExactBound()
            var options: [String: String] = [
                "lower": p.region.lower.map { "\($0)" }.joined(separator: ","),
                "upper": p.region.upper.map { "\($0)" }.joined(separator: ","),
            ]
            for (k, j) in p.others.enumerated() {
                options["margin"] = "\(p.label),\(j)"
                let result = Job.run(bm, BoundRequest(network: .feedforward(net), norm: .linf, options: options))
                if let l = result.value, result.certified, result.kind == .upper {
                    bounds.append(l)
                    lowerMargins.append(margins[k] - l * r * (1 + 4 * Double.ulpOfOne))
                } else {
                    bounds.append(.nan)
                    lowerMargins.append(-.infinity)
                    if case .string(let why)? = result.details["reason"] { note = why } else { note = "\(bm.id): \(result.status.rawValue)" }
                }
            }
        }
        var verdict: Verdict = lowerMargins.allSatisfy { $0 > 0 } ? .holds : .unknown
        var counterexample: Counterexample?
        if verdict == .unknown, attack, let found = Self.attack(p, seed: seed) {
            verdict = .violated
            counterexample = found
        }
        return Outcome(verdict: verdict, method: method, radius: r, margins: margins, bounds: bounds,
                       lowerMargins: lowerMargins, unstableNeurons: unstable,
                       seconds: Date().timeIntervalSince(start), counterexample: counterexample, note: note)
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
                                              method: Method, start: Double, iterations: Int = 20) throws -> Double {
        func holds(_ r: Double) throws -> Bool {
            let p = Problem(network: network, region: try InputRegion(center: center, radius: r), label: label, others: others)
            return try certify(p, method: method, attack: false).verdict == .holds
        }
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
