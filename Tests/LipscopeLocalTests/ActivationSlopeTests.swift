import Foundation
import Testing
import LipscopeTestSupport
@testable import LipscopeEngine
import LipscopeLinearAlgebra

/// ELU, softplus, GELU, SiLU: derivatives against central differences, slope intervals against
/// dense sampling of difference quotients, and a tiny ELU net against values written out here.
@Suite struct ActivationSlopeTests {
    static let smooth: [Activation] = [.elu(alpha: 1), .elu(alpha: 0.5), .elu(alpha: 2), .softplus, .gelu, .silu, .sigmoid, .tanh]

    @Test(arguments: smooth)
    func derivativeMatchesCentralDifferences(act: Activation) {
        for i in 0...400 {
            let x = -8 + 0.04 * Double(i) + 0.0123
            let h = 1e-5
            let fd = (act.apply(x + h) - act.apply(x - h)) / (2 * h)
            #expect(abs(fd - act.derivative(x)) <= 1e-7, "\(act.name) at \(x): \(fd) vs \(act.derivative(x))")
        }
    }

    /// Every difference quotient over [l, u] lies in the interval, and the interval is tight
    /// (its ends are within 1e-9 of sampled derivatives, up to the 1e-12 padding).
    @Test(arguments: smooth)
    func slopeIntervalsHoldEveryDifferenceQuotient(act: Activation) {
        let cuts: [(Double, Double)] = [(-6, -3), (-3, -1), (-2, 0.5), (-1.5, 1.5), (-0.2, 0.3), (0.5, 3), (2, 7), (-9, 9), (-2.5, -2.3)]
        for (l, u) in cuts {
            let iv = SlopeIntervals.interval(act, lower: l, upper: u)
            let n = 2000
            let xs = (0...n).map { l + (u - l) * Double($0) / Double(n) }
            var lo = Double.infinity, hi = -Double.infinity
            for x in xs { let d = act.derivative(x); lo = min(lo, d); hi = max(hi, d) }
            if case .elu(let a) = act, l < 0, u > 0 { lo = min(lo, a * exp(-1e-300)); hi = max(hi, a) }
            #expect(iv.alpha <= lo && hi <= iv.beta, "\(act.name) [\(l), \(u)]: [\(iv.alpha), \(iv.beta)] vs sampled [\(lo), \(hi)]")
            #expect(lo - iv.alpha <= 1e-6 && iv.beta - hi <= 1e-6, "\(act.name) [\(l), \(u)] loose: [\(iv.alpha), \(iv.beta)] vs [\(lo), \(hi)]")
            var rng = SeededGenerator(seed: 3)
            for _ in 0..<2000 {
                let a = l + (u - l) * rng.uniform(), b = l + (u - l) * rng.uniform()
                guard abs(a - b) > 1e-6 else { continue }
                let q = (act.apply(a) - act.apply(b)) / (a - b)
                #expect(q >= iv.alpha - 1e-9 && q <= iv.beta + 1e-9, "\(act.name): quotient \(q) outside [\(iv.alpha), \(iv.beta)]")
            }
        }
    }

    /// The global intervals, from dense sampling over [−12, 12] (outside, σ' tends to 0 or 1):
    /// GELU [−0.128904, 1.128904] (at ±√2), SiLU [−0.099839, 1.099839] (at ±2.3994).
    @Test func globalSlopeBoundsAreTheExtremesOfTheDerivative() {
        for act in [Activation.gelu, .silu, .softplus, .elu(alpha: 1), .elu(alpha: 3)] {
            var lo = Double.infinity, hi = -Double.infinity
            for i in 0...240_000 { let d = act.derivative(-12 + 1e-4 * Double(i)); lo = min(lo, d); hi = max(hi, d) }
            let (a, b) = act.slopeBounds
            #expect(a <= lo && hi <= b && lo - a < 1e-8 && b - hi < 1e-8 || (act.slopeBounds.alpha == 0 && a <= lo), "\(act.name): [\(a), \(b)] vs [\(lo), \(hi)]")
        }
        #expect(abs(Activation.gelu.slopeBounds.alpha - -0.1289041451851548) < 1e-10)
        #expect(abs(Activation.silu.slopeBounds.alpha - -0.0998393200453494) < 1e-10)
        #expect(abs(Activation.silu.slopeBounds.beta - 1.0998393200453494) < 1e-10)
    }

    /// 2-2-1 ELU net: the forward value and the Jacobian written out by hand, and the global
    /// bounds of naive / relaxed-exact against the slope box's vertices computed here.
    @Test func tinyELUNetMatchesAHandComputation() throws {
        let json = """
        {"format": "lipscope.network", "version": 1, "name": "elu", "kind": "feedforward", "input_size": 2,
         "layers": [{"weight": [[1, -2], [0.5, 1]], "bias": [0.1, -0.3], "activation": "elu", "alpha": 0.5},
                    {"weight": [[2, -1]], "bias": [0], "activation": "identity"}]}
        """
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lipscope-elu-\(getpid()).json")
        try json.write(to: url, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: url) }
        guard case .feedforward(let net) = try NetworkLoader.load(path: url.path) else { Issue.record("not feedforward"); return }
        #expect(net.layers[0].activation == .elu(alpha: 0.5))
        let x = [0.4, 0.7]
        let z1 = 1 * 0.4 - 2 * 0.7 + 0.1, z2 = 0.5 * 0.4 + 1 * 0.7 - 0.3   // −0.9, 0.6
        let y = 2 * (0.5 * (exp(z1) - 1)) - z2
        #expect(abs(net.forward(x)[0] - y) < 1e-14)
        let j = try #require(net.jacobian(at: x))
        #expect(abs(j[0, 0] - (2 * 0.5 * exp(z1) * 1 - 0.5)) < 1e-14)
        #expect(abs(j[0, 1] - (2 * 0.5 * exp(z1) * -2 - 1)) < 1e-14)
        // Global ℓ∞: slopes in [0, 1] per neuron; the max over the four vertices of |row|₁.
        var best = 0.0
        for s1 in [0.0, 1.0] { for s2 in [0.0, 1.0] {
            best = max(best, abs(2 * s1 * 1 - s2 * 0.5) + abs(2 * s1 * -2 - s2 * 1))
        } }
        let relaxed = try #require(LocalBoundTests.run(RelaxedExactBound(), net, .linf).value)
        #expect(relaxed >= best && relaxed <= best * (1 + 1e-9), "\(relaxed) vs \(best)")
        // Local, the ball of radius 0.1 around x: z1 ∈ [−1.2, −0.6] (slope 0.5e^z1), z2 ∈ [0.45, 0.75] (slope 1).
        let local = try #require(LocalBoundTests.run(RelaxedExactBound(), net, .linf, LocalBoundTests.ball(x, 0.1)).value)
        var localBest = 0.0
        for s1 in [0.5 * exp(-1.2), 0.5 * exp(-0.6)] { localBest = max(localBest, abs(2 * s1 - 0.5) + abs(-4 * s1 - 1)) }
        #expect(local >= localBest && local <= localBest * (1 + 1e-9), "\(local) vs \(localBest)")
        // And the round trip keeps α.
        let written = try NativeJSONFormat.write(.feedforward(net))
        #expect(String(decoding: written, as: UTF8.self).contains("\"alpha\""))
    }
}
