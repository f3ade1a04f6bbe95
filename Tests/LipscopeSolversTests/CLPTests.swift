import Foundation
import Testing
@testable import LipscopeSolvers

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
        // max x + y s.t. x + 2y ≤ 4, 3x + y ≤ 6 → (1.6, 1.2), 2.8
        var b = LPProblem.Builder()
        let x = b.addColumn(cost: 1), y = b.addColumn(cost: 1)
        b.addRow([(x, 1), (y, 2)], .lessEqual, 4)
        b.addRow([(x, 3), (y, 1)], .lessEqual, 6)
        b.maximize = true
        let r = try CLPSolver().solve(.lp(b.build()))
        #expect(r.status == .optimal)
        #expect(abs(r.primalObjective! - 2.8) < 1e-9 && abs(r.dualObjective! - 2.8) < 1e-9)

        var inf = LPProblem.Builder()
        let z = inf.addColumn(cost: 1)
        inf.addRow([(z, 1)], .greaterEqual, 2)
        inf.addRow([(z, 1)], .lessEqual, 1)
        #expect(try CLPSolver().solve(.lp(inf.build())).status == .primalInfeasible)

        var unb = LPProblem.Builder()
        let w = unb.addColumn(cost: -1)
        unb.addRow([(w, 1)], .greaterEqual, 1)
        #expect(try CLPSolver().solve(.lp(unb.build())).status == .dualInfeasible)
    }

    @Test func eventsInOrderThenOneResult() async throws {
        let p = randomLP(rows: 1500, columns: 3000, perColumn: 5, seed: 7)
        var iterations: [SolverIteration] = []
        var results = 0
        for await e in CLPSolver().events(.lp(p)) {
            switch e {
            case .iteration(let it): #expect(results == 0); iterations.append(it)
            case .finished(let r): results += 1; #expect(r.status == .optimal)
            case .failed(let err): Issue.record("failed: \(err)")
            }
        }
        #expect(results == 1)
        #expect(iterations.count >= 1)
        #expect(zip(iterations, iterations.dropFirst()).allSatisfy { $0.iteration < $1.iteration && $0.elapsed <= $1.elapsed })
    }

    @Test func cancelMidSolve() throws {
        let p = randomLP(rows: 5000, columns: 10000, perColumn: 10, seed: 11)
        let log = IterationLog()
        let r = try CLPSolver().solve(.lp(p), options: .default, control: cancellingControl(after: 3, log: log))
        #expect(r.status == .cancelled)
        let n = log.count
        Thread.sleep(forTimeInterval: 0.3)
        #expect(log.count == n, "no iterations after the result")
    }

    @Test func iterationLimit() throws {
        let p = randomLP(rows: 1500, columns: 3000, perColumn: 5, seed: 7)
        let r = try CLPSolver().solve(.lp(p), options: SolverOptions(maxIterations: 10))
        #expect(r.status == .iterationLimit)
    }
}
