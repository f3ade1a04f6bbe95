import Foundation
import Testing
@testable import LipscopeEngine
import LipscopeTestSupport

/// Every value of the methods built so far in ../shared/testnets/expected.json (an independent
/// numpy/scipy/cvxpy oracle), within the tolerance stated there, plus its ordering invariants.
@Suite struct ExpectedValuesTests {
    static let methods: Set<String> = ["naive", "sampling", "relaxed-exact", "contraction", "contraction-weighted"]
    static let suite = try! ExpectedSuite(directory: "testnets")
    static let cases = suite.checks.filter { methods.contains($0.method) }

    @Test func suiteCoversEveryMethod() {
        #expect(Set(Self.cases.map(\.method)) == Self.methods)
        #expect(Self.cases.count >= 130)
    }

    @Test(arguments: Set(cases.map(\.file)).sorted())
    func reproducesOracleValues(file: String) throws {
        let network = try Fixtures.load("testnets/\(file)")
        for check in Self.cases where check.file == file {
            let method = try #require(MethodRegistry.method(named: check.method))
            let result = Job.run(method, BoundRequest(network: network, norm: check.norm))
            let (ok, message) = ExpectedSuite.verify(check, result)
            #expect(ok, "\(message)")
            if result.kind == .upper, result.value != nil { #expect(result.certified, "\(message) not certified") }
        }
    }

    @Test(arguments: Set(suite.invariants.map(\.file)).sorted())
    func orderingInvariantsHold(file: String) throws {
        let network = try Fixtures.load("testnets/\(file)")
        for inv in Self.suite.invariants where inv.file == file {
            let values = inv.chain.filter(Self.methods.contains).compactMap { name -> (String, Double)? in
                let result = Job.run(MethodRegistry.method(named: name)!, BoundRequest(network: network, norm: inv.norm))
                return result.value.map { (name, $0) }
            }
            for (a, b) in zip(values, values.dropFirst()) {
                #expect(a.1 <= b.1 * (1 + Self.suite.invariantTolerance),
                        "\(inv.network) \(inv.norm.rawValue): \(a.0) = \(a.1) > \(b.0) = \(b.1)")
            }
        }
    }
}
