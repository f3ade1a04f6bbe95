import Foundation
import Testing
import LipscopeTestSupport
import LipscopeEngine

/// `exact` against the brute-force oracle (every realizable activation pattern, by its own LPs),
/// globally and on ℓ∞ balls of several radii, in both norms.
@Suite struct ExactOracleTests {
    struct Case: CustomStringConvertible, Sendable {
        let net: String
        let norm: Norm
        let radius: Double?
        var description: String { "\(net) \(norm.symbol) " + (radius.map { "r=\($0)" } ?? "global") }
    }

    static let globalCases: [Case] = Fixtures.tinyNets.flatMap { (n: String) -> [Case] in
        Norm.allCases.map { Case(net: n, norm: $0, radius: nil) }
    }
    static let ballCases: [Case] = Fixtures.tinyNets.flatMap { (n: String) -> [Case] in
        Norm.allCases.flatMap { (norm: Norm) -> [Case] in [0.05, 0.5, 2.0].map { Case(net: n, norm: norm, radius: $0) } }
    }

    /// A center away from the origin, so the balls cut through different regions.
    static func center(_ n: Int) -> [Double] {
        (0..<n).map { (j: Int) -> Double in
            let sign: Double = j % 2 == 0 ? 0.3 : -0.2
            return sign * Double(j + 1)
        }
    }

    static func request(_ network: Network, _ norm: Norm, radius: Double?, output: Int? = nil,
                        extra: [String: String] = [:]) -> BoundRequest {
        var options = extra
        if let radius {
            options["center"] = center(network.inputSize).map { String($0) }.joined(separator: ",")
            options["radius"] = String(radius)
        }
        return BoundRequest(network: network, norm: norm, output: output, options: options)
    }

    static func box(_ network: Network, radius: Double?) -> (lower: [Double], upper: [Double])? {
        radius.map { r in let c = center(network.inputSize); return (c.map { $0 - r }, c.map { $0 + r }) }
    }

    static let allCases: [Case] = globalCases + ballCases

    @Test(arguments: ExactOracleTests.allCases) func matchesBruteForce(_ c: Case) throws {
        let network = try Fixtures.load("testnets/\(c.net).json")
        var oracle = BruteForceOracle(network, box: Self.box(network, radius: c.radius))
        let want = try oracle.constant(c.norm)
        let r = Job.run(ExactBound(), Self.request(network, c.norm, radius: c.radius))
        #expect(r.status == .optimal, "\(c): \(r.details["reason"] ?? .null)")
        #expect(r.kind == .exact, "\(c): gap not closed \(r.details["gap"] ?? .null)")
        let got = try #require(r.value)
        #expect(abs(got - want) <= 1e-9 * want, "\(c): exact \(got) vs brute force \(want)")
        guard case .number(let lower)? = r.details["lower"] else { Issue.record("no lower"); return }
        #expect(lower <= got && abs(lower - want) <= 1e-9 * want, "\(c): lower \(lower)")
        #expect(r.details["witness_pattern_matches"] == .bool(true))
        // The witness is a real input of the region whose true Jacobian has norm `lower`.
        guard case .array(let w)? = r.details["witness"] else { Issue.record("no witness"); return }
        let x = w.compactMap { if case .number(let v) = $0 { v } else { nil } }
        let j = try #require(network.jacobian(at: x))
        #expect(abs(try c.norm.induced(j) - lower) <= 1e-12 * lower)
        if c.radius == nil {
            // Over all of Rⁿ every pruned region is proven empty by an exact Farkas certificate.
            #expect(r.certified, "\(c): \(r.details["upper_certificate"] ?? .null)")
            #expect(r.details["regions_empty_uncertified"] == .number(0), "\(c)")
            #expect(r.details["certified_upper"] == nil && r.details["certified_radius"] == nil, "\(c)")
        }
        if let b = Self.box(network, radius: c.radius) {
            #expect(x.indices.allSatisfy { b.lower[$0] <= x[$0] && x[$0] <= b.upper[$0] })
            // On a box every pruned region was proven empty by checked multipliers.
            #expect(r.certified, "\(c): \(r.details["upper_certificate"] ?? .null)")
        }
    }

    /// One output and the margin f_c − f_j, against the oracle on the same scalar map.
    @Test(arguments: [nil, 0.5]) func outputsAndMargins(radius: Double?) throws {
        for name in ["tiny_relu_1", "tiny_relu_5", "tiny_leaky"] {
            let network = try Fixtures.load("testnets/\(name).json")
            for norm in Norm.allCases {
                for rows in [[0], [1], [0, 1], [1, 0]] {
                    var oracle = BruteForceOracle(network, rows: rows, box: Self.box(network, radius: radius))
                    let want = try oracle.constant(norm)
                    let request = rows.count == 1
                        ? Self.request(network, norm, radius: radius, output: rows[0])
                        : Self.request(network, norm, radius: radius, extra: ["margin": "\(rows[0]),\(rows[1])"])
                    let r = Job.run(ExactBound(), request)
                    let got = try #require(r.value, "\(name) \(rows): \(r.details)")
                    #expect(r.kind == .exact)
                    #expect(abs(got - want) <= 1e-9 * want, "\(name) \(norm) rows \(rows) r=\(String(describing: radius)): \(got) vs \(want)")
                }
            }
        }
    }

    /// A dense grid over a 2-D ball: every grid point's ‖J‖ is at most the exact constant, and
    /// the grid comes close to it.
    @Test func denseGridOnTwoInputs() throws {
        let network = try Fixtures.load("testnets/tiny_relu_1.json")
        for norm in Norm.allCases {
            for radius in [0.5, 2.0] {
                let r = Job.run(ExactBound(), Self.request(network, norm, radius: radius))
                let exact = try #require(r.value)
                let c = Self.center(2)
                var gridMax = 0.0
                let steps = 300
                for a in 0...steps {
                    for b in 0...steps {
                        let x = [c[0] - radius + 2 * radius * Double(a) / Double(steps),
                                 c[1] - radius + 2 * radius * Double(b) / Double(steps)]
                        if let j = network.jacobian(at: x) { gridMax = max(gridMax, try norm.induced(j)) }
                    }
                }
                #expect(gridMax <= exact * (1 + 1e-12))
                #expect(gridMax >= 0.99 * exact, "grid \(gridMax) vs exact \(exact)")
            }
        }
    }
}
