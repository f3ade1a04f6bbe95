import Foundation
import Testing
@testable import LipscopeEngine

/// Every LP value of ../shared/testnets-lipopt/expected.json (independent numpy/HiGHS oracle),
/// dense and sparse, per degree and output, within its tolerance; LP sizes where the oracle
/// reports them. All 108 run in the normal suite (CLP's barrier solves the largest, 711,637
/// nonzeros, in about 14 s in release; the whole suite takes about a minute of CPU in debug).
@Suite struct ExpectedLPTests {
    static let cases = (try? LiPoptCase.all())?.filter { $0.method == "lp" } ?? []

    @Test func suiteIsComplete() {
        #expect(Self.cases.count >= 100)
    }

    @Test(arguments: Set(cases.map(\.file)).sorted())
    func reproducesOracleLPValues(file: String) throws {
        let network = try LiPoptFixtures.load(file)
        for c in Self.cases where c.file == file {
            let r = Job.run(LiPoptLPBound(), c.request(network))
            #expect(r.status == .optimal, "\(c): \(r.status) \(r.details["reason"].map { "\($0)" } ?? "")")
            guard let v = r.value else { continue }
            #expect(c.matches(v), "\(c): got \(v), expected \(c.value)")
            #expect(r.certified)
            #expect(r.details["algorithm"] != nil)
            if let p = c.pstar { #expect(v >= p * (1 - 1e-9), "\(c): \(v) below p* \(p)") }
            if c.output != nil, let rows = c.rows, let cols = c.cols, let nnz = c.nnz {
                #expect(r.details["rows"] == .number(Double(rows)), "\(c): rows \(String(describing: r.details["rows"])) vs \(rows)")
                #expect(r.details["columns"] == .number(Double(cols)), "\(c): columns \(String(describing: r.details["columns"])) vs \(cols)")
                #expect(r.details["nonzeros"] == .number(Double(nnz)), "\(c): nonzeros \(String(describing: r.details["nonzeros"])) vs \(nnz)")
            }
        }
    }
}
