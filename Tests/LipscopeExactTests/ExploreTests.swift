import Foundation
import Testing
import LipscopeEngine

@Suite struct ExploreTests {
    @Test func explore() throws {
        for name in Fixtures.tinyNets {
            let net = try Fixtures.load("testnets/\(name).json")
            for norm in Norm.allCases {
                let t0 = Date()
                var oracle = BruteForceOracle(net)
                let want = try oracle.constant(norm)
                let t1 = Date()
                let r = Job.run(ExactBound(), BoundRequest(network: net, norm: norm))
                let t2 = Date()
                let re = Job.run(RelaxedExactBound(), BoundRequest(network: net, norm: norm)).value ?? .nan
                print(name, norm, "oracle", want, "lps", oracle.lpCount, String(format: "%.3fs", t1.timeIntervalSince(t0)),
                      "exact", r.value ?? .nan, r.kind, r.status, r.details["nodes"] ?? .null, r.details["lower"] ?? .null,
                      String(format: "%.3fs", t2.timeIntervalSince(t1)), "relaxed", re, r.details["regions_empty_uncertified"] ?? .null)
            }
        }
    }
}
