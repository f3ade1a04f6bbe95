import Foundation
import Testing
import LipscopeTestSupport
@testable import LipscopeEngine

/// LipSDP-Neuron on the deep random nets of testnets-deep (README there): the reference is the
/// csdp optimum of the plain LMI (√ρ = √2.0414316e5 and √1.1017667e7). Power-of-two layer
/// balancing made DSDP and csdp stop far above it (128 404 139 / 177 613 on deep_8x30); the
/// guard (naive product, ECLipsE-Fast's certified point) rejects such solves, the as-given
/// formulation reaches the optimum, and its boundary point is certified after mixing with
/// ECLipsE's strictly feasible one.
@Suite struct DeepLipSDPTests {
    @Test(arguments: [("deep_8x30.json", 2.0414316e5), ("deep_6x60.json", 1.1017667e7)])
    func reachesTheReferenceCertified(_ file: String, _ rho: Double) throws {
        let net = try Fixtures.load("testnets-deep/" + file)
        let r = ScaleFixtures.run("lipsdp-neuron", net)
        #expect(r.certified, "\(file): \(r.details["reason"] ?? .null)")
        #expect(ScaleFixtures.relativeError(r.value, rho.squareRoot()) <= 1e-4, "\(file): \(r.value ?? .nan) vs \(rho.squareRoot())")
        #expect((r.value ?? 0) >= rho.squareRoot() * (1 - 1e-6))
    }
}
