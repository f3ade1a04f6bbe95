import Foundation
import Testing
@testable import LipscopeSolvers
import LipscopeTestSupport

/// What every backend promises, run over each one by its `Solvers` name: events come in order
/// and end with exactly one result, and a cancel stops the solve with no iterations after the
/// result. Infeasibility (a status, never a number) is checked per backend: the statuses differ.
@Suite(.serialized) struct BackendContractTests {
    /// The backends available here (csdp is a subprocess and may be missing from PATH).
    static let backends = ["dsdp"] + (Fixtures.csdpAvailable ? ["csdp"] : []) + ["clp", "clp-barrier"]

    static func solver(_ name: String) throws -> any Solver {
        try #require(Solvers.named(name), "unknown backend \(name)")
    }

    /// A problem each backend solves in a few iterations to optimality.
    static func ordinaryProblem(_ name: String) throws -> ConicProblem {
        name.hasPrefix("clp") ? .lp(randomLP(rows: 1500, columns: 3000, perColumn: 5, seed: 7))
                              : .sdp(try SDPAFormat.read(path: Fixtures.sdplib("control1")))
    }

    /// A problem that runs long enough in each backend to be cancelled mid-solve.
    static func longProblem(_ name: String) throws -> ConicProblem {
        switch name {
        case "clp": .lp(randomLP(rows: 5000, columns: 10000, perColumn: 10, seed: 11))
        case "clp-barrier": .lp(randomLP(rows: 1500, columns: 3000, perColumn: 5, seed: 11))
        case "csdp": .sdp(try SDPAFormat.read(path: Fixtures.sdplib("arch0")))
        default: .sdp(try SDPAFormat.read(path: Fixtures.sdplib("gpp100")))
        }
    }

    @Test(arguments: backends) func eventsInOrderThenOneResult(backend: String) async throws {
        var iterations: [SolverIteration] = []
        var results = 0
        for await e in try Self.solver(backend).events(Self.ordinaryProblem(backend)) {
            switch e {
            case .iteration(let it): #expect(results == 0); iterations.append(it)
            case .finished(let r): results += 1; #expect(r.status == .optimal, "\(backend): \(r.status)")
            case .failed(let err): Issue.record("\(backend) failed: \(err)")
            }
        }
        #expect(results == 1)
        #expect(!iterations.isEmpty, "\(backend): no iterations")
        #expect(zip(iterations, iterations.dropFirst()).allSatisfy { $0.iteration < $1.iteration && $0.elapsed <= $1.elapsed })
    }

    @Test(arguments: backends) func cancelMidSolveStopsIterating(backend: String) throws {
        let log = IterationLog()
        let r = try Self.solver(backend).solve(Self.longProblem(backend), options: .default, control: cancellingControl(after: 3, log: log))
        #expect(r.status == .cancelled, "\(backend): \(r.status)")
        #expect(log.count >= 3)
        let n = log.count
        Thread.sleep(forTimeInterval: 0.3)
        #expect(log.count == n, "\(backend): no iterations after the result")
    }

    @Test(arguments: ["dsdp"] + (Fixtures.csdpAvailable ? ["csdp"] : []))
    func sdpInfeasibilityIsAStatus(backend: String) throws {
        let s = try Self.solver(backend)
        let p1 = try s.solve(.sdp(SDPAFormat.read(path: Fixtures.sdplib("infp1"))))
        #expect(p1.status == .primalInfeasible, "\(backend) infp1: \(p1.status) \(p1.message)")
        let d1 = try s.solve(.sdp(SDPAFormat.read(path: Fixtures.sdplib("infd1"))))
        #expect(d1.status == .dualInfeasible, "\(backend) infd1: \(d1.status) \(d1.message)")
    }

    @Test(arguments: ["clp", "clp-barrier"]) func lpIterationLimitIsAStatus(backend: String) throws {
        let p = randomLP(rows: 1500, columns: 3000, perColumn: 5, seed: 7)
        let r = try Self.solver(backend).solve(.lp(p), options: SolverOptions(maxIterations: 3))
        #expect(r.status == .iterationLimit, "\(backend): \(r.status)")
    }
}
