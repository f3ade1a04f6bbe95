import Foundation
import Testing
@testable import LipscopeEngine

/// How lipopt-lp reports the LP algorithm it used.
@Suite struct LPAlgorithmTests {
    @Test func summary() {
        #expect(LiPoptLPBound.algorithmSummary(["barrier"]) == "barrier")
        #expect(LiPoptLPBound.algorithmSummary(["barrier", "barrier"]) == "barrier")
        #expect(LiPoptLPBound.algorithmSummary(["dual simplex"]) == "barrier → dual simplex")
        #expect(LiPoptLPBound.algorithmSummary(["barrier", "dual simplex", "barrier"]) == "barrier → dual simplex (1 of 3 outputs)")
    }

    /// The barrier's λ certifies the dual-simplex optimum of tiny_relu_1 (θ₃ = p* there).
    @Test func barrierCertificateOnATinyNet() throws {
        let net = try LiPoptFixtures.load("tiny_relu_1.json")
        let r = Job.run(LiPoptLPBound(), BoundRequest(network: net, norm: .linf, degree: 3, options: ["cliques": "dense"]))
        #expect(r.status == .optimal && r.certified)
        #expect(r.details["algorithm"] == .string("barrier"))
        let v = try #require(r.value)
        #expect(abs(v - 0.293808504808) <= 1e-8)
        #expect(v >= 0.293808504808 * (1 - 1e-11), "a certified bound is not below the LP optimum")
    }
}
