import Foundation
import Testing
import LipscopeLinearAlgebra
@testable import LipscopeEngine
import LipscopeTestSupport

/// Gradient ascent of ‖J(x)‖ on smooth nets (LowerBoundAscent.gradientAscent), against a dense
/// grid over a 2-D box computed here: every value is ‖J‖ at a real input of the box, and the
/// ascent reaches the grid's maximum.
@Suite struct GradientAscentTests {
    @Test(arguments: [Norm.l2, .linf]) func reachesTheGridMaximumOnTinySigmoid(_ norm: Norm) throws {
        let net = try Fixtures.load("testnets/tiny_sigmoid.json")
        #expect(net.hasSmoothActivation && net.inputSize == 2)
        let region = try InputRegion(center: [0.4, -0.3], radius: 1.5)
        var gridMax = 0.0
        let steps = 400
        for a in 0...steps {
            for b in 0...steps {
                let x = [region.lower[0] + 3 * Double(a) / Double(steps), region.lower[1] + 3 * Double(b) / Double(steps)]
                if let j = net.jacobian(at: x) { gridMax = max(gridMax, try norm.induced(j)) }
            }
        }
        // Starts: the box's centre and corners, none of them the maximizer.
        let starts = [region.center, region.lower, region.upper, [region.lower[0], region.upper[1]]]
        let ascent = try #require(LowerBoundAscent.gradientAscent(net, norm: norm, region: region, from: starts, stop: { false }))
        #expect(region.contains(ascent.x))
        let j = try #require(net.jacobian(at: ascent.x))
        #expect(abs(try norm.induced(j) - ascent.value) <= 1e-12 * ascent.value, "the value is ‖J‖ at the returned input")
        let startBest = try starts.map { try norm.induced(net.jacobian(at: $0)!) }.max()!
        #expect(ascent.value > startBest, "ascent \(ascent.value) did not improve on its starts \(startBest)")
        #expect(ascent.value >= 0.999 * gridMax, "ascent \(ascent.value) vs grid maximum \(gridMax)")
    }
}
