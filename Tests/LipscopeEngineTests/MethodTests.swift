import Foundation
import Synchronization
import Testing
@testable import LipscopeEngine
import LipscopeLinearAlgebra
import LipscopeTestSupport

@Suite struct MethodTests {
    @Test func eventsArriveInOrderAndEndWithOneResult() throws {
        let net = try Fixtures.load("testnets/implicit_n20.json")
        let events = Mutex<[JobEvent]>([])
        let job = Job.start(SamplingBound(), BoundRequest(network: net, norm: .linf)) { e in events.withLock { $0.append(e) } }
        let result = job.wait()
        let seen = events.withLock { $0 }
        guard case .finished(let last)? = seen.last else { Issue.record("no finished event"); return }
        #expect(last == result)
        #expect(seen.filter { if case .finished = $0 { true } else { false } }.count == 1)
        let indices = seen.compactMap { if case .iteration(let it) = $0 { it.index } else { nil } }
        #expect(!indices.isEmpty && indices == indices.sorted())
        let times = seen.compactMap { if case .iteration(let it) = $0 { it.elapsed } else { nil } }
        #expect(times == times.sorted())
    }

    @Test func cancellationStopsARunningJob() throws {
        // 22 hidden neurons: 4 million patterns, far longer than the cancel delay.
        var rng = SeededGenerator(seed: 5)
        func random(_ r: Int, _ c: Int) -> Matrix { Matrix(rows: r, columns: c, storage: (0..<(r * c)).map { _ in rng.gaussian() }) }
        let net = Network.feedforward(FeedforwardNetwork(name: "big", inputSize: 6, layers: [
            Layer(weight: random(11, 6), activation: .relu), Layer(weight: random(11, 11), activation: .relu),
            Layer(weight: random(3, 11), activation: .identity)]))
        let started = Mutex(false)
        let job = Job.start(RelaxedExactBound(), BoundRequest(network: net, norm: .l2)) { e in
            if case .progress = e { started.withLock { $0 = true } }
        }
        while !started.withLock({ $0 }) { Thread.sleep(forTimeInterval: 0.005) }
        job.cancel()
        let result = job.wait()
        #expect(result.status == .cancelled)
        #expect(result.value == nil && !result.certified)
    }

    @Test func statusesAreNeverNumbers() throws {
        let implicit = try Fixtures.load("testnets/implicit_weighted_only.json")
        let plain = Job.run(ContractionBound(weighted: false), BoundRequest(network: implicit, norm: .linf))
        #expect(plain.status == .notContractive && plain.value == nil)
        #expect(plain.details["mu_inf"].map { if case .number(let m) = $0 { m >= 1 } else { false } } == true)
        let l2 = Job.run(ContractionBound(weighted: true), BoundRequest(network: implicit, norm: .l2))
        #expect(l2.status == .notApplicable && l2.value == nil)
        let mnist = try Fixtures.load("testnets/mnist_784.json")
        let exact = Job.run(RelaxedExactBound(), BoundRequest(network: mnist, norm: .l2))
        #expect(exact.status == .tooLarge && exact.value == nil)
        let badOutput = Job.run(NaiveBound(), BoundRequest(network: mnist, norm: .l2, output: 10))
        #expect(badOutput.status == .failed && badOutput.value == nil)
    }

    @Test func weightedContractionIsNeverLargerAndShowsBothMeasures() throws {
        for file in ["implicit_n5.json", "implicit_n12.json", "implicit_n50.json"] {
            let net = try Fixtures.load("testnets/\(file)")
            let plain = Job.run(ContractionBound(weighted: false), BoundRequest(network: net, norm: .linf))
            let weighted = Job.run(ContractionBound(weighted: true), BoundRequest(network: net, norm: .linf))
            #expect(try #require(weighted.value) <= (try #require(plain.value)) * (1 + 1e-12))
            guard case .number(let mu)? = weighted.details["mu_inf"], case .number(let best)? = weighted.details["best_weighted_mu"],
                  case .number(let used)? = weighted.details["weighted_mu"] else { Issue.record("details missing"); continue }
            #expect(best <= mu && used >= best - 1e-9 && used < 1)
        }
    }

    @Test func outputRestrictionMatchesTheRowOfTheJacobian() throws {
        // For a purely linear net every method is exact: row j's norm.
        let w = Matrix(rowArrays: [[3, -4], [1, 1]])
        let net = Network.feedforward(FeedforwardNetwork(name: "lin", inputSize: 2, layers: [Layer(weight: w, activation: .identity)]))
        let l2 = Job.run(NaiveBound(), BoundRequest(network: net, norm: .l2, output: 0))
        #expect(abs(l2.value! - 5) < 1e-12)
        let linf = Job.run(RelaxedExactBound(), BoundRequest(network: net, norm: .linf, output: 1))
        #expect(abs(linf.value! - 2) < 1e-12)
        let lower = Job.run(SamplingBound(), BoundRequest(network: net, norm: .linf, output: 0))
        #expect(abs(lower.value! - 7) < 1e-12)
    }

    @Test func relaxedExactBoundsTheSampledJacobians() throws {
        // On the slope box the enumeration is the max; every sampled Jacobian is one box point.
        let net = try Fixtures.load("testnets/tiny_tanh.json")
        for norm in Norm.allCases {
            let exact = Job.run(RelaxedExactBound(), BoundRequest(network: net, norm: norm)).value!
            let sampled = Job.run(SamplingBound(), BoundRequest(network: net, norm: norm, seed: 9)).value!
            #expect(sampled <= exact)
        }
    }
}
