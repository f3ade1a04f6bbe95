import Foundation
import Testing
@testable import LipscopeSolvers

/// What every SDP backend promises, run over each one: infeasibility is a status, events come
/// in order and end with exactly one result, and a cancel stops the solve with no iterations
/// after the result.
@Suite(.serialized) struct SDPBackendContractTests {
    /// The backends available here (csdp is a subprocess and may be missing from PATH).
    static let backends = ["dsdp"] + (Fixtures.csdpAvailable ? ["csdp"] : [])

    static func solver(_ name: String) -> any Solver {
        name == "csdp" ? CSDPSolver() : DSDPSolver()
    }

    @Test(arguments: backends) func infeasibilityIsAStatus(backend: String) throws {
        let s = Self.solver(backend)
        let p1 = try s.solve(.sdp(SDPAFormat.read(path: Fixtures.sdplib("infp1"))))
        #expect(p1.status == .primalInfeasible, "\(backend) infp1: \(p1.status) \(p1.message)")
        let d1 = try s.solve(.sdp(SDPAFormat.read(path: Fixtures.sdplib("infd1"))))
        #expect(d1.status == .dualInfeasible, "\(backend) infd1: \(d1.status) \(d1.message)")
    }

    @Test(arguments: backends) func eventsInOrderThenOneResult(backend: String) async throws {
        let p = try SDPAFormat.read(path: Fixtures.sdplib("control1"))
        var iterations: [SolverIteration] = []
        var results = 0
        for await e in Self.solver(backend).events(.sdp(p)) {
            switch e {
            case .iteration(let it): #expect(results == 0); iterations.append(it)
            case .finished(let r): results += 1; #expect(r.status == .optimal, "\(backend): \(r.status)")
            case .failed(let err): Issue.record("\(backend) failed: \(err)")
            }
        }
        #expect(results == 1)
        #expect(iterations.count > 5, "\(backend): \(iterations.count) iterations")
        #expect(zip(iterations, iterations.dropFirst()).allSatisfy { $0.iteration < $1.iteration && $0.elapsed <= $1.elapsed })
    }

    @Test(arguments: backends) func cancelMidSolveStopsIterating(backend: String) throws {
        // arch0 and gpp100 run long enough in both backends to be cancelled mid-solve.
        let p = try SDPAFormat.read(path: Fixtures.sdplib(backend == "csdp" ? "arch0" : "gpp100"))
        let log = IterationLog()
        let r = try Self.solver(backend).solve(.sdp(p), options: .default, control: cancellingControl(after: 3, log: log))
        #expect(r.status == .cancelled, "\(backend): \(r.status)")
        let n = log.count
        Thread.sleep(forTimeInterval: 0.3)
        #expect(log.count == n, "\(backend): no iterations after the result")
    }
}
