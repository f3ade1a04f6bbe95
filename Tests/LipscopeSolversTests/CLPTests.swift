import Foundation
import Testing
@testable import LipscopeSolvers
import LipscopeTestSupport

@Suite(.serialized) struct CLPTests {
    static let names = ["afiro", "sc50a", "sc50b", "adlittle", "blend", "kb2", "sc105", "share2b", "stocfor1", "e226", "boeing2"]

    @Test(arguments: names) func netlibOptimum(name: String) throws {
        let p = try MPSFormat.read(path: Fixtures.netlib(name))
        let r = try CLPSolver().solve(.lp(p))
        let want = try #require(Fixtures.lpOptimum(name))
        #expect(r.status == .optimal, "\(name): \(r.status) \(r.message)")
        let got = try #require(r.primalObjective)
        #expect(Fixtures.relativeError(got, want) <= 1e-8, "\(name): \(got) vs \(want)")
        let dual = try #require(r.dualObjective)
        #expect(Fixtures.relativeError(dual, want) <= 1e-7, "\(name): dual \(dual) vs \(want)")
        #expect(r.x.count == p.columnCount)
        #expect(Fixtures.relativeError(p.objectiveValue(r.x), got) <= 1e-12)
    }

    @Test func maximizeInfeasibleUnbounded() throws {
        let r = try CLPSolver().solve(.lp(smallMaximization()))
        #expect(r.status == .optimal)
        #expect(abs(r.primalObjective! - 2.8) < 1e-9 && abs(r.dualObjective! - 2.8) < 1e-9)

        #expect(try CLPSolver().solve(.lp(infeasibleLP())).status == .primalInfeasible)

        var unb = LPProblem.Builder()
        let w = unb.addColumn(cost: -1)
        unb.addRow([(w, 1)], .greaterEqual, 1)
        #expect(try CLPSolver().solve(.lp(unb.build())).status == .dualInfeasible)
    }
}
