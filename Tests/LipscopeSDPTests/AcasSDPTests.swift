import Foundation
import Testing
@testable import LipscopeEngine
import LipscopeTestSupport

/// ACAS Xu 1_1 (5-50×6-5, ρ ≈ 8e9): LipSDP-Neuron certifies (equilibrated Cholesky), and the same
/// net as an implicit one gets a certified implicit-sdp bound equal to it (balanced states).
@Suite struct AcasSDPTests {
    @Test func lipsdpAndImplicitCertify() throws {
        let net = try Fixtures.load("nnet/acasxu/ACASXU_run2a_1_1_batch_2000.nnet")
        let neuron = SDPFixtures.run("lipsdp-neuron", net)
        #expect(neuron.certified, "\(neuron.details["reason"] ?? .null)")
        guard case .feedforward(let ff) = net, let system = EquilibriumSystem(ff) else {
            Issue.record("no equilibrium form"); return
        }
        let implicit = Network.implicit(ImplicitNetwork(name: "acas_implicit", A: system.A, B: system.B, C: system.C, D: system.D,
                                                         bias: [Double](repeating: 0, count: system.stateSize), activation: .relu))
        let r = SDPFixtures.run("implicit-sdp", implicit)
        #expect(r.certified, "\(r.details["reason"] ?? .null)")
        // Both are certified upper bounds of the same LMI optimum (≈ 88 259): within solver accuracy.
        #expect(SDPFixtures.relativeError(r.value, neuron.value!) <= 3e-4, "\(r.value ?? .nan) vs \(neuron.value ?? .nan)")
        #expect(SDPFixtures.relativeError(neuron.value, 88_259) <= 3e-4)
    }
}
