import Foundation
import Testing
@testable import LipscopeEngine

/// Every SDP value of ../shared/testnets-lipopt/expected.json (oracle: cvxpy + Clarabel/SCS),
/// dense and sparse, per order and output, within its tolerance, with the method's default
/// limits (no case may be too_large) and its default solver. An oracle entry marked
/// `optimal_inaccurate` (none in the current file) is checked as p* ≤ value ≤ the oracle's
/// certified value instead.
@Suite struct ExpectedSDPTests {
    static let cases = (try? LiPoptCase.all())?.filter { $0.method == "sdp" } ?? []

    @Test func suiteIsComplete() {
        // 48 SDP entries: the oracle leaves out small_relu_2, sparse, r = 2, output 1 (SCS
        // inaccurate) and with it the "all" entry.
        #expect(Self.cases.count >= 48)
    }

    /// The guard stays for truly huge moment SDPs: banded_20x20x1 dense at r = 2 has
    /// C(44, 4) − 1 = 135 750 moments (a 147 GB Schur complement).
    @Test func hugeMomentSDPIsTooLargeWithItsSize() throws {
        let net = try LiPoptFixtures.load("banded_20x20x1.json")
        let r = Job.run(LiPoptSDPBound(), BoundRequest(network: net, norm: .linf, degree: 2, options: ["cliques": "dense"]))
        #expect(r.status == .tooLarge && r.value == nil)
        guard case .string(let reason)? = r.details["reason"] else { Issue.record("no reason: \(r.details)"); return }
        #expect(reason.contains("135750 moments") && reason.contains("861×861") && reason.contains("--max-sdp-moments"), "\(reason)")
    }

    @Test(arguments: Set(cases.map(\.file)).sorted())
    func reproducesOracleSDPValues(file: String) throws {
        let network = try LiPoptFixtures.load(file)
        for c in Self.cases where c.file == file {
            let r = Job.run(LiPoptSDPBound(), c.request(network))
            #expect(r.status == .optimal, "\(c): \(r.status) \(r.details["reason"].map { "\($0)" } ?? "")")
            guard let v = r.value else { continue }
            #expect(r.certified, "\(c): \(r.details["certificate"].map { "\($0)" } ?? "")")
            if c.inaccurate, let p = c.pstar, let cert = c.certified {
                #expect(v >= p * (1 - 1e-7) && v <= cert, "\(c): got \(v), expected within [p* \(p), \(cert)]")
            } else {
                #expect(c.matches(v), "\(c): got \(v), expected \(c.value) (relaxation \(r.details["relaxation_value"].map { "\($0)" } ?? ""))")
            }
            if c.output != nil, let rows = c.rows, let cols = c.cols {
                #expect(r.details["rows"] == .number(Double(rows)), "\(c): rows \(String(describing: r.details["rows"])) vs \(rows)")
                #expect(r.details["moments"] == .number(Double(cols)), "\(c): moments \(String(describing: r.details["moments"])) vs \(cols)")
            }
        }
    }
}
