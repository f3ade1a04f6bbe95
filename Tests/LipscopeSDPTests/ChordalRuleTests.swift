import Foundation
import LipscopeLinearAlgebra
import Testing
@testable import LipscopeEngine
import LipscopeTestSupport

/// `--chordal auto|on|off`: the split returns the full LMI's value, and the auto rule's decision
/// (not its timing) follows the cost model fitted to `lipscope bench sdp --grid`.
@Suite struct ChordalRuleTests {
    /// A seeded random ReLU net (weights N(0, 1/fan_in)), the shape of the bench grid.
    static func random(_ widths: [Int], seed: UInt64) -> Network {
        .feedforward(.gaussian(widths: widths, seed: seed, name: "random"))
    }

    /// Chordal on = off on deep nets (9 and 6 hidden layers), with both solvers.
    @Test(arguments: ["dsdp", "csdp"])
    func chordalEqualsFullOnDeepNets(solver: String) throws {
        let nets = [Self.random([2] + Array(repeating: 4, count: 9) + [2], seed: 9004),
                    Self.random([3, 6, 5, 6, 5, 6, 5, 2], seed: 17)]
        for net in nets {
            let on = SDPFixtures.run("lipsdp-neuron", net, options: ["solver": solver, "chordal": "on"])
            let off = SDPFixtures.run("lipsdp-neuron", net, options: ["solver": solver, "chordal": "off"])
            #expect(on.details["chordal"] == .bool(true))
            #expect(off.details["chordal"] == .bool(false))
            #expect(on.details["chordal_setting"] == .string("on"))
            #expect(on.certified && off.certified, "\(on.details["reason"] ?? .null) / \(off.details["reason"] ?? .null)")
            #expect(SDPFixtures.relativeError(on.value, off.value!) <= 1e-4, "\(solver): \(on.value ?? .nan) vs \(off.value ?? .nan)")
        }
    }

    /// The fitted rule: chordal on deep narrow nets with csdp (where the bench measured it faster:
    /// 29×4 0.46, 59×4 0.49, 59×6 0.50 of the full LMI's time), never on MNIST-sized nets.
    @Test func autoRuleDecisions() {
        let deepNarrow = Array(repeating: 4, count: 29)
        #expect(SDPChordalRule.decide(hiddenWidths: deepNarrow, solver: "csdp").chordal)
        #expect(SDPChordalRule.decide(hiddenWidths: Array(repeating: 6, count: 59), solver: "csdp").chordal)
        #expect(SDPChordalRule.decide(hiddenWidths: Array(repeating: 4, count: 9), solver: "csdp").chordal)
        // Width ≥ 16 loses with csdp (1.5–4.8× slower measured).
        #expect(!SDPChordalRule.decide(hiddenWidths: Array(repeating: 16, count: 19), solver: "csdp").chordal)
        // DSDP: the split was slower on every measured net except in the noise (ratio ≥ 0.9 where
        // the two solves did not even agree); the model never picks it in the measured range.
        #expect(!SDPChordalRule.decide(hiddenWidths: deepNarrow, solver: "dsdp").chordal)
        #expect(!SDPChordalRule.decide(hiddenWidths: Array(repeating: 4, count: 59), solver: "dsdp").chordal)
        // MNIST-sized nets: off with both solvers.
        for widths in [[50], [40, 40], [100, 100], Array(repeating: 100, count: 5), Array(repeating: 50, count: 6)] {
            for solver in ["dsdp", "csdp"] {
                let d = SDPChordalRule.decide(hiddenWidths: widths, solver: solver)
                #expect(!d.chordal, "\(widths) \(solver): \(d.reason)")
            }
        }
        // One hidden layer: a single clique, no decision to make.
        #expect(SDPChordalRule.decide(hiddenWidths: [4], solver: "csdp").predictedRatio == nil)
    }

    /// Auto is the default and says what it chose and why.
    @Test func autoIsTheDefaultAndReported() throws {
        let deep = Self.random([2] + Array(repeating: 4, count: 9) + [2], seed: 9004)
        let r = SDPFixtures.run("lipsdp-neuron", deep, options: ["solver": "csdp"])
        #expect(r.certified)
        #expect(r.details["chordal"] == .bool(true))
        #expect(r.details["chordal_setting"] == .string("auto"))
        guard case .string(let reason)? = r.details["chordal_reason"], case .number(let ratio)? = r.details["chordal_predicted_ratio"] else {
            Issue.record("no chordal_reason / chordal_predicted_ratio: \(r.details)")
            return
        }
        #expect(reason.hasPrefix("auto:"))
        #expect(ratio < 1)
        let mnist = try Fixtures.load("networks/npz/dnn_d3.npz")
        let m = SDPFixtures.run("lipsdp-neuron", mnist)
        #expect(m.details["chordal"] == .bool(false))
        #expect(m.details["chordal_setting"] == .string("auto"))
        #expect(SDPFixtures.relativeError(m.value, 14.146) <= 1e-4)
    }
}
