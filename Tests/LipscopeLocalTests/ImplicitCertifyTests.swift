import Foundation
import Testing
import LipscopeTestSupport
@testable import LipscopeEngine
import LipscopeLinearAlgebra

/// `ImplicitCertifier`: robustness verdicts on implicit (equilibrium) nets, checked independently.
/// Every fixed point here is solved by the test's own averaged iteration (x ← (1−s)x + s·relu(Ax + Bu + b)
/// to 1e-15, written out with plain matrix–vector products), never by the engine's solver:
///  - every `holds` is sampled (uniform points and vertices of the box): the label stays strictly
///    largest, and no sampled margin is below the certified lower bound;
///  - every `violated` carries a counterexample inside the box that a direct forward pass confirms;
///  - certified center margins are below the true ones.
@Suite struct ImplicitCertifyTests {
    static func implicit(_ name: String) throws -> ImplicitNetwork { try ImplicitLocalTests.implicit(name) }

    /// relu fixed point by the averaged iteration, from 0, to a change below 1e-15·scale.
    static func fixedPoint(_ net: ImplicitNetwork, _ u: [Double]) -> [Double] {
        let n = net.stateSize
        let step = 1 / (1 - min(0, (0..<n).map { net.A[$0, $0] }.min()!))
        let drive = zip(net.B * u, net.bias).map(+)
        var x = [Double](repeating: 0, count: n)
        for _ in 0..<200_000 {
            let ax = net.A * x
            var change = 0.0, scale = 1.0
            for i in 0..<n {
                let next = (1 - step) * x[i] + step * max(0, ax[i] + drive[i])
                change = max(change, abs(next - x[i])); scale = max(scale, abs(next))
                x[i] = next
            }
            if change <= 1e-15 * scale { break }
        }
        return x
    }

    static func outputs(_ net: ImplicitNetwork, _ u: [Double]) -> [Double] {
        let x = fixedPoint(net, u)
        let cx = net.C * x, du = net.D * u
        return (0..<net.outputSize).map { cx[$0] + du[$0] + net.outputBias[$0] }
    }

    static func argmax(_ y: [Double]) -> Int { y.indices.max { y[$0] < y[$1] }! }

    /// Sampled points of the box: uniform, and vertices every fourth draw.
    static func samples(_ region: InputRegion, count: Int, seed: UInt64) -> [[Double]] {
        var rng = SeededGenerator(seed: seed)
        return (0..<count).map { s in
            (0..<region.dimension).map { i in
                s % 4 == 3 ? (rng.uniform(0, 1) < 0.5 ? region.lower[i] : region.upper[i]) : rng.uniform(region.lower[i], region.upper[i])
            }
        }
    }

    /// The independent checks of one outcome. Returns whether sampling found a flip (for `unknown`s too).
    @discardableResult
    static func checkSound(_ o: ImplicitCertifier.Outcome, _ p: ImplicitCertifier.Problem, count: Int = 2000, seed: UInt64 = 7,
                           _ tag: String) -> Bool {
        let net = p.network
        let y0 = outputs(net, p.region.center)
        for (k, j) in p.others.enumerated() where o.margins[k].isFinite {
            #expect(y0[p.label] - y0[j] >= o.margins[k] - 1e-9, "\(tag): center margin \(y0[p.label] - y0[j]) below certified \(o.margins[k])")
        }
        var flipped = false
        for u in samples(p.region, count: o.verdict == .holds ? count : count / 4, seed: seed) {
            let y = outputs(net, u)
            for (k, j) in p.others.enumerated() {
                let m = y[p.label] - y[j]
                if m <= 0 { flipped = true }
                if o.lowerMargins[k].isFinite {
                    #expect(m >= o.lowerMargins[k] - 1e-9, "\(tag): sampled margin f_\(p.label) − f_\(j) = \(m) below the certified \(o.lowerMargins[k]) at \(u)")
                }
            }
        }
        switch o.verdict {
        case .holds:
            #expect(!flipped, "\(tag): holds, but sampling found a point where the label is not strictly largest")
            #expect(o.counterexample == nil)
        case .violated:
            if let ce = o.counterexample {
                #expect(p.region.contains(ce.input), "\(tag): counterexample outside the box")
                let y = outputs(net, ce.input)
                #expect(y[ce.winner] - y[p.label] >= -1e-12, "\(tag): forward pass gives f_\(ce.winner) − f_\(p.label) = \(y[ce.winner] - y[p.label])")
                #expect(zip(y, ce.outputs).allSatisfy { abs($0 - $1) <= 1e-9 * (1 + abs($0)) }, "\(tag): reported outputs \(ce.outputs) vs \(y)")
                #expect(p.others.contains(ce.winner))
            } else {
                Issue.record("\(tag): violated without a counterexample")
            }
        case .unknown:
            #expect(o.counterexample == nil)
        }
        return flipped
    }

    static func problem(_ net: ImplicitNetwork, _ center: [Double], _ radius: Double) throws -> ImplicitCertifier.Problem {
        let c = argmax(outputs(net, center))
        return ImplicitCertifier.Problem(network: net, region: try InputRegion(center: center, radius: radius), label: c,
                                         others: (0..<net.outputSize).filter { $0 != c })
    }

    static func centers(_ net: ImplicitNetwork, count: Int, seed: UInt64) -> [[Double]] {
        var rng = SeededGenerator(seed: seed)
        return (0..<count).map { _ in (0..<net.inputSize).map { _ in rng.gaussian() } }
    }

    /// Several centers, labels (the prediction at the center) and radii per net and method:
    /// every verdict checked by sampling; a tiny ball around a clear margin holds, and where
    /// sampling of a large ball finds a flip the verdict is violated.
    @Test(arguments: ["implicit_n8", "implicit_n12", "implicit_from_ff", "implicit_n100"])
    func verdictsAreSoundOnSampledBoxes(_ name: String) throws {
        let net = try Self.implicit(name)
        let big = name == "implicit_n100"
        var verdicts: [Certifier.Verdict: Int] = [:]
        for (ci, center) in Self.centers(net, count: big ? 2 : 3, seed: 5).enumerated() {
            let y0 = Self.outputs(net, center)
            let c = Self.argmax(y0)
            let clear = y0.indices.filter { $0 != c }.map { y0[c] - y0[$0] }.min()! > 1e-3
            for radius in big ? [1e-4, 0.05, 3.0] : [1e-4, 0.01, 0.1, 3.0] {
                let methods: [ImplicitCertifier.Method] = radius == 1e-4 ? ImplicitCertifier.Method.allCases : [.equilibrium]
                for method in methods {
                    let p = try Self.problem(net, center, radius)
                    let o = try ImplicitCertifier.certify(p, method: method)
                    let tag = "\(name) center \(ci) r=\(radius) \(method.rawValue): \(o.verdict.rawValue) \(o.lowerMargins) \(o.note ?? "")"
                    verdicts[o.verdict, default: 0] += 1
                    #expect(o.wellPosedBy != nil, "\(tag)")
                    let flipped = Self.checkSound(o, p, count: big ? 600 : 2000, tag)
                    if radius == 1e-4 && clear { #expect(o.verdict == .holds, "\(tag)") }
                    if flipped { #expect(o.verdict == .violated, "\(tag): sampling finds a flip but the verdict is not violated") }
                    if method == .equilibrium {
                        for k in p.others.indices {
                            #expect(o.lowerMargins[k] == max(o.boxMargins[k], o.lipschitzMargins[k]), "\(tag)")
                        }
                    }
                }
            }
        }
        #expect((verdicts[.holds] ?? 0) > 0 && (verdicts[.violated] ?? 0) > 0, "\(name): \(verdicts)")
    }

    /// Both sources are sound on their own, and the default takes the better of the two per class.
    @Test func boxAndContractionEachSoundAndTheDefaultTakesTheBetter() throws {
        let net = try Self.implicit("implicit_n12")
        for center in Self.centers(net, count: 3, seed: 9) {
            for radius in [0.003, 0.03] {
                let p = try Self.problem(net, center, radius)
                let box = try ImplicitCertifier.certify(p, method: .box, attack: false)
                let lip = try ImplicitCertifier.certify(p, method: .contraction, attack: false)
                let both = try ImplicitCertifier.certify(p, method: .equilibrium, attack: false)
                for o in [box, lip, both] { Self.checkSound(o, p, count: 800, "r=\(radius) \(o.method.rawValue)") }
                for k in p.others.indices {
                    #expect(both.lowerMargins[k] == max(box.lowerMargins[k], lip.lowerMargins[k]))
                    #expect(lip.bounds[k] > 0 && lip.bounds[k].isFinite, "L_cj: \(lip.bounds)")
                }
                #expect(box.sources.allSatisfy { $0 == "box" } && lip.sources.allSatisfy { $0 == "lipschitz" })
                if box.verdict == .holds || lip.verdict == .holds { #expect(both.verdict == .holds) }
            }
        }
    }

    /// implicit_from_ff is the 3-5-4-2 ReLU net written as an implicit one (with the source's output
    /// bias put back, so the two compute the same function): verdicts never contradict the
    /// feedforward certifier's, and the box source equals interval propagation on the chain.
    @Test func implicitFromFeedforwardAgreesWithTheFeedforwardCertifier() throws {
        var net = try Self.implicit("implicit_from_ff")
        let ff = try Fixtures.feedforward("implicit-local/implicit_from_ff_source.json")
        net.outputBias = ff.layers.last!.bias
        var rng = SeededGenerator(seed: 21)
        var compared = 0
        for _ in 0..<6 {
            let center = (0..<3).map { _ in rng.gaussian() }
            #expect(zip(Self.outputs(net, center), ff.forward(center)).allSatisfy { abs($0 - $1) <= 1e-9 })
            for radius in [0.001, 0.05, 0.3, 2.0] {
                let p = try Self.problem(net, center, radius)
                let fp = Certifier.Problem(network: ff, region: p.region, label: p.label, others: p.others)
                let implicit = try ImplicitCertifier.certify(p, method: .equilibrium)
                let box = try ImplicitCertifier.certify(p, method: .box, attack: false)
                let bab = try Certifier.certify(fp, method: .bab)
                let interval = try Certifier.certify(fp, method: .interval, attack: false)
                let tag = "center \(center) r=\(radius): implicit \(implicit.verdict.rawValue), bab \(bab.verdict.rawValue)"
                Self.checkSound(implicit, p, count: 1000, tag)
                #expect(!(implicit.verdict == .holds && bab.verdict == .violated) && !(implicit.verdict == .violated && bab.verdict == .holds), "\(tag)")
                if bab.verdict == .violated { #expect(implicit.verdict == .violated, "\(tag): both attacks see the same function") }
                // The fixed-point box of a strictly lower-triangular A is interval propagation.
                for k in p.others.indices {
                    #expect(abs(box.lowerMargins[k] - interval.lowerMargins[k]) <= 1e-7 * (1 + abs(interval.lowerMargins[k])),
                            "\(tag): box \(box.lowerMargins[k]) vs interval \(interval.lowerMargins[k])")
                }
                if interval.verdict == .holds { #expect(box.verdict == .holds, "\(tag)") }
                compared += 1
            }
        }
        #expect(compared == 24)
    }

    /// Only the global implicit-SDP certificate proves this net well-posed (no weighting contracts A):
    /// with that proof the region's box is used, and there state 1 is stably inactive, so the
    /// local system (state 1 deleted) contracts and the Lipschitz source has a bound too. Over a
    /// ball where both states are unstable no weighting contracts: the box alone certifies.
    @Test func wellPosedOnlyByTheGlobalSDP() throws {
        let net = ImplicitNetwork(name: "skew", A: Matrix(rowArrays: [[0, 2], [-2, 0]]), B: Matrix(rowArrays: [[1, 0], [0, 1]]),
                                  C: Matrix(rowArrays: [[1, 1], [0, 0]]), D: Matrix(rowArrays: [[0, 0], [0, 0]]), bias: [0.1, -0.1],
                                  outputBias: [0, 0.2], activation: .relu)
        let p = try Self.problem(net, [0.5, 0.5], 0.01)
        let o = try ImplicitCertifier.certify(p, method: .equilibrium)
        #expect(o.wellPosedBy?.contains("implicit-sdp") == true, "\(String(describing: o.wellPosedBy))")
        #expect(o.verdict == .holds && o.unstableNeurons == 0, "\(o.lowerMargins) \(o.note ?? "")")
        #expect(o.lipschitzMargins[0].isFinite && o.boxMargins[0] > 0)
        Self.checkSound(o, p, "skew")
        // Around u = (−0.2, 0.05) both states are near their kinks: the global and local measures are ≥ 1.
        let q = try Self.problem(net, [-0.1, 0.1], 0.3)
        let wide = try ImplicitCertifier.certify(q, method: .equilibrium)
        Self.checkSound(wide, q, "skew wide")
        if wide.unstableNeurons == 2 {
            #expect(wide.lipschitzMargins == [-.infinity] && wide.note?.contains("contraction for class") == true, "\(wide.note ?? "")")
        }
    }

    /// x = relu(2x + u): no fixed point for u > 0 — nothing proves well-posedness, so unknown with a note.
    @Test func notWellPosedIsUnknownWithANote() throws {
        let net = ImplicitNetwork(name: "bad", A: Matrix(rowArrays: [[2]]), B: Matrix(rowArrays: [[1]]),
                                  C: Matrix(rowArrays: [[1], [-1]]), D: Matrix(rowArrays: [[0], [0]]), bias: [0], activation: .relu)
        let p = ImplicitCertifier.Problem(network: net, region: try InputRegion(center: [-1], radius: 0.1), label: 1, others: [0])
        for method in ImplicitCertifier.Method.allCases {
            let o = try ImplicitCertifier.certify(p, method: method)
            #expect(o.verdict == .unknown && o.wellPosedBy == nil && o.counterexample == nil)
            #expect(o.note?.hasPrefix("well-posedness not proven") == true, "\(o.note ?? "")")
        }
    }

    /// The certified radius holds (and its samples keep the label), and twice it does not hold.
    @Test func largestCertifiedRadiusIsCertified() throws {
        let net = try Self.implicit("implicit_n8")
        let center = Self.centers(net, count: 1, seed: 5)[0]
        let p = try Self.problem(net, center, 0)
        let r = try ImplicitCertifier.largestCertifiedRadius(network: net, center: center, label: p.label, others: p.others,
                                                             method: .equilibrium, start: 1e-3, iterations: 12)
        #expect(r > 0)
        let at = try Self.problem(net, center, r)
        let o = try ImplicitCertifier.certify(at, method: .equilibrium, attack: false)
        #expect(o.verdict == .holds)
        Self.checkSound(o, at, count: 1000, "radius search r=\(r)")
        #expect(try ImplicitCertifier.certify(try Self.problem(net, center, 2 * r), method: .equilibrium, attack: false).verdict != .holds)
    }
}
