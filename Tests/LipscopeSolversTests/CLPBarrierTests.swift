import Foundation
import Testing
@testable import LipscopeSolvers

/// CLP's interior-point path (`CLPSolver(algorithm: .barrier)`: no presolve, no crossover).
@Suite(.serialized) struct CLPBarrierTests {
    @Test(arguments: CLPTests.names) func netlibOptimum(name: String) throws {
        let p = try MPSFormat.read(path: Fixtures.netlib(name))
        let r = try CLPSolver(algorithm: .barrier).solve(.lp(p))
        let want = try #require(Fixtures.lpOptimum(name))
        #expect(r.status == .optimal, "\(name): \(r.status) \(r.message)")
        let got = try #require(r.primalObjective)
        // An interior point stopped at the barrier's gap tolerance, not a vertex.
        #expect(Fixtures.relativeError(got, want) <= 1e-6, "\(name): \(got) vs \(want)")
        #expect(r.x.count == p.columnCount)
        // Primal feasibility of the returned point, relative to the size of the data.
        let ax = p.matrix.multiply(r.x)
        let scale = max(1, p.matrix.values.map(abs).max() ?? 1) * max(1, r.x.map(abs).max() ?? 1)
        for i in 0..<p.rowCount {
            #expect(ax[i] >= p.rowLower[i] - 1e-6 * scale && ax[i] <= p.rowUpper[i] + 1e-6 * scale, "\(name) row \(i)")
        }
        for j in 0..<p.columnCount {
            #expect(r.x[j] >= p.columnLower[j] - 1e-6 * scale && r.x[j] <= p.columnUpper[j] + 1e-6 * scale, "\(name) column \(j)")
        }
    }

    @Test func smallMaximization() throws {
        // max x + y s.t. x + 2y ≤ 4, 3x + y ≤ 6 → (1.6, 1.2), 2.8
        var b = LPProblem.Builder()
        let x = b.addColumn(cost: 1), y = b.addColumn(cost: 1)
        b.addRow([(x, 1), (y, 2)], .lessEqual, 4)
        b.addRow([(x, 3), (y, 1)], .lessEqual, 6)
        b.maximize = true
        let r = try CLPSolver(algorithm: .barrier).solve(.lp(b.build()))
        #expect(r.status == .optimal)
        #expect(abs(r.primalObjective! - 2.8) < 1e-6 && abs(r.dualObjective! - 2.8) < 1e-6)
        #expect(abs(r.x[0] - 1.6) < 1e-6 && abs(r.x[1] - 1.2) < 1e-6)
    }

    @Test func infeasibleIsAStatus() throws {
        var inf = LPProblem.Builder()
        let z = inf.addColumn(cost: 1)
        inf.addRow([(z, 1)], .greaterEqual, 2)
        inf.addRow([(z, 1)], .lessEqual, 1)
        let r = try CLPSolver(algorithm: .barrier).solve(.lp(inf.build()))
        // ClpInterior itself calls this "optimal"; the backend's feasibility check does not.
        #expect(r.status == .numericalTrouble, "\(r.status) \(r.message)")
        #expect(r.primalObjective == nil && r.dualObjective == nil)
    }

    @Test func eventsInOrderThenOneResult() async throws {
        let p = randomLP(rows: 1500, columns: 3000, perColumn: 5, seed: 7)
        var iterations: [SolverIteration] = []
        var results = 0
        for await e in CLPSolver(algorithm: .barrier).events(.lp(p)) {
            switch e {
            case .iteration(let it): #expect(results == 0); iterations.append(it)
            case .finished(let r):
                results += 1
                #expect(r.status == .optimal)
                if let pr = r.primalObjective, let last = iterations.last?.primalObjective {
                    #expect(abs(pr - last) <= 1e-6 * max(1, abs(pr)))
                }
            case .failed(let err): Issue.record("failed: \(err)")
            }
        }
        #expect(results == 1)
        #expect(iterations.count >= 5, "one event per interior-point iteration")
        #expect(iterations.allSatisfy { $0.primalObjective != nil && $0.dualObjective != nil && $0.relativeGap != nil })
        #expect(zip(iterations, iterations.dropFirst()).allSatisfy { $0.iteration < $1.iteration && $0.elapsed <= $1.elapsed })
    }

    @Test func cancelMidSolve() throws {
        let p = randomLP(rows: 1500, columns: 3000, perColumn: 5, seed: 11)
        let log = IterationLog()
        let r = try CLPSolver(algorithm: .barrier).solve(.lp(p), options: .default, control: cancellingControl(after: 3, log: log))
        #expect(r.status == .cancelled)
        #expect(log.count >= 3)
        let n = log.count
        Thread.sleep(forTimeInterval: 0.3)
        #expect(log.count == n, "no iterations after the result")
    }

    @Test func iterationLimit() throws {
        let p = randomLP(rows: 1500, columns: 3000, perColumn: 5, seed: 7)
        let r = try CLPSolver(algorithm: .barrier).solve(.lp(p), options: SolverOptions(maxIterations: 3))
        #expect(r.status == .iterationLimit)
    }
}
