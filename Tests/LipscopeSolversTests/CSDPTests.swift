import Foundation
import Testing
@testable import LipscopeSolvers
import LipscopeTestSupport

@Suite(.serialized, .enabled(if: Fixtures.csdpAvailable, "csdp binary not on PATH"))
struct CSDPTests {
    @Test(arguments: ["truss1", "control1", "qap5", "theta1"]) func crossCheck(name: String) throws {
        let p = try SDPAFormat.read(path: Fixtures.sdplib(name))
        let r = try CSDPSolver().solve(.sdp(p))
        #expect(r.status == .optimal, "\(name): \(r.status) \(r.message)")
        let want = try #require(Fixtures.sdpOptimum(name))
        let got = try #require(r.primalObjective)
        #expect(Fixtures.relativeError(got, want) <= 1e-6, "\(name): \(got) vs \(want)")
        #expect(r.x.count == p.variableCount)
        #expect(r.dualMatrices?.count == p.blocks.count)
        // Agrees with DSDP.
        let d = try DSDPSolver().solve(.sdp(p))
        #expect(Fixtures.relativeError(got, d.primalObjective!) <= 1e-6)
    }

    @Test func missingBinaryIsAnError() {
        #expect(throws: SolverError.self) {
            try CSDPSolver(executable: "/nonexistent/csdp").solve(.sdp(SDPAFormat.read(path: Fixtures.sdplib("truss1"))))
        }
    }
}
