import Foundation
import Testing
@testable import LipscopeSolvers
import LipscopeTestSupport

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

    @Test func solvesTheSmallMaximization() throws {
        let r = try CLPSolver(algorithm: .barrier).solve(.lp(smallMaximization()))
        #expect(r.status == .optimal)
        #expect(abs(r.primalObjective! - 2.8) < 1e-6 && abs(r.dualObjective! - 2.8) < 1e-6)
        #expect(abs(r.x[0] - 1.6) < 1e-6 && abs(r.x[1] - 1.2) < 1e-6)
    }

    @Test func infeasibleIsAStatus() throws {
        let r = try CLPSolver(algorithm: .barrier).solve(.lp(infeasibleLP()))
        // ClpInterior itself calls this "optimal"; the backend's feasibility check does not.
        #expect(r.status == .numericalTrouble, "\(r.status) \(r.message)")
        #expect(r.primalObjective == nil && r.dualObjective == nil)
    }

    /// One event per interior-point step, each with both objectives and the gap (order and the
    /// single result: `BackendContractTests`).
    @Test func eventsCarryObjectivesAndGap() async throws {
        let p = randomLP(rows: 1500, columns: 3000, perColumn: 5, seed: 7)
        var iterations: [SolverIteration] = []
        var final: SolverResult? = nil
        for await e in CLPSolver(algorithm: .barrier).events(.lp(p)) {
            switch e {
            case .iteration(let it): iterations.append(it)
            case .finished(let r): final = r
            case .failed(let err): Issue.record("failed: \(err)")
            }
        }
        #expect(iterations.count >= 5, "one event per interior-point iteration")
        #expect(iterations.allSatisfy { $0.primalObjective != nil && $0.dualObjective != nil && $0.relativeGap != nil })
        let r = try #require(final)
        #expect(r.status == .optimal)
        if let pr = r.primalObjective, let last = iterations.last?.primalObjective {
            #expect(abs(pr - last) <= 1e-6 * max(1, abs(pr)))
        }
    }
}
