import Foundation
import Synchronization
import Testing
@testable import LipscopeEngine
import LipscopeLinearAlgebra

/// Short seeded runs on a subset of the bundled digits.
@Suite struct TrainingRunTests {
    /// 600 training and 200 test digits (from the seed-0 split of the bundled file).
    static func digitsSubset() throws -> TrainingData {
        let full = try DatasetLoader.loadDigits(path: TrainingFixtures.digitsPath)
        return TrainingData(source: "digits subset", train: full.train.subset(Array(0..<600)), test: full.test.subset(Array(0..<200)),
                            testDescription: "first 200 held-out digits")
    }

    static func settings(epochs: Int) -> TrainingSettings {
        var s = TrainingSettings()
        s.hidden = 24; s.gamma = 0.5; s.epochs = epochs; s.seed = 3; s.learningRate = 1e-2
        return s
    }

    /// Accuracy of a network as the engine's own per-example forward pass computes it.
    static func accuracy(_ net: Network, _ data: Dataset) -> Double {
        var correct = 0
        for k in 0..<data.count {
            let y = net.forward(data.features.column(k))
            if y.indices.max(by: { y[$0] < y[$1] }) == data.labels[k] { correct += 1 }
        }
        return Double(correct) / Double(data.count)
    }

    @Test func shortRunLearnsAndTheSavedNetReloadsContractive() throws {
        let data = try Self.digitsSubset()
        let outcome = TrainingJob.run(Self.settings(epochs: 6), data: data)
        #expect(outcome.status == .finished)
        #expect(outcome.epochs.count == 6)
        let last = try #require(outcome.epochs.last)
        // 10 classes: chance is 10 %; a 24-state implicit net on 600 digits gets far above it.
        #expect(last.testAccuracy >= 0.85)
        #expect(last.trainAccuracy >= 0.9)
        #expect(outcome.epochs.first!.loss > last.loss)
        let path = TrainingFixtures.scratchDirectory().appendingPathComponent("net.json").path
        try NetworkLoader.save(.implicit(outcome.network), to: path)
        let reloaded = try NetworkLoader.load(path: path)
        guard case .implicit(let net) = reloaded else { Issue.record("not implicit"); return }
        // μ∞(A) recomputed from the file, independently of the trainer's projection.
        let mu = (0..<net.stateSize).map { i in net.A[i, i] + (0..<net.stateSize).reduce(0.0) { $1 == i ? $0 : $0 + abs(net.A[i, $1]) } }.max()!
        #expect(mu <= 0.5)
        #expect(NetworkSummary(reloaded).bestWeightedMu! <= 0.5 + 1e-9)
        let check = TrainedNetworkCheck(reloaded)
        #expect(check.weighted.certified && check.plain.certified)
        #expect(check.weighted.value! <= check.plain.value! * (1 + 1e-12))
        // The reloaded net classifies as the job reported (engine forward to 1e-10 vs batched to 1e-8).
        #expect(abs(Self.accuracy(reloaded, data.test) - last.testAccuracy) <= 1.0 / 200 + 1e-12)
        // A certified bound is above the sampled local slopes (lower bound by the sampling method).
        let lower = Job.run(SamplingBound(), BoundRequest(network: reloaded, norm: .linf))
        #expect(lower.value! <= check.weighted.value!)
    }

    @Test func seededRunsAreReproducible() throws {
        let data = try Self.digitsSubset()
        let a = TrainingJob.run(Self.settings(epochs: 2), data: data)
        let b = TrainingJob.run(Self.settings(epochs: 2), data: data)
        #expect(a.network == b.network)
        #expect(a.epochs.map(\.loss) == b.epochs.map(\.loss))
    }

    /// Cancelling after the first epoch ends the job as cancelled with that epoch's network.
    @Test func cancelKeepsTheLastFinishedEpoch() throws {
        let data = try Self.digitsSubset()
        let events = Mutex<[TrainingEvent]>([])
        let holder = Mutex<TrainingJob?>(nil)
        let job = TrainingJob.start(Self.settings(epochs: 50), data: data) { event in
            events.withLock { $0.append(event) }
            if case .epoch = event { holder.withLock { $0?.cancel() } }
        }
        holder.withLock { $0 = job }
        if events.withLock({ $0.contains { if case .epoch = $0 { true } else { false } } }) { job.cancel() }
        let outcome = job.wait()
        #expect(outcome.status == .cancelled)
        #expect(outcome.epochs.count >= 1 && outcome.epochs.count < 50)
        let last = outcome.epochs.last!
        let net = Network.implicit(outcome.network)
        #expect(abs(Self.accuracy(net, data.test) - last.testAccuracy) <= 1.0 / 200 + 1e-12)
        let seen = events.withLock { $0 }
        guard case .finished? = seen.last else { Issue.record("no finished event last"); return }
        #expect(seen.filter { if case .finished = $0 { true } else { false } }.count == 1)
    }

    @Test func regularizerLowersTheCertifiedBound() throws {
        let data = try Self.digitsSubset()
        let plain = TrainingJob.run(Self.settings(epochs: 3), data: data)
        var s = Self.settings(epochs: 3)
        s.lambda = 1e-2
        let regularized = TrainingJob.run(s, data: data)
        #expect(regularized.status == .finished)
        let b0 = try #require(plain.epochs.last?.certifiedBound), b1 = try #require(regularized.epochs.last?.certifiedBound)
        #expect(b1 < b0 / 2)
    }

    @Test func invalidSettingsFailWithAReason() {
        var s = Self.settings(epochs: 1)
        s.gamma = 1.2
        let outcome = TrainingJob.run(s, data: TrainingData(source: "x", train: Dataset(name: "x", features: Matrix(rows: 1, columns: 2), labels: [0, 1], classCount: 2),
                                                                test: Dataset(name: "y", features: Matrix(rows: 1, columns: 0), labels: [], classCount: 2), testDescription: ""))
        #expect(outcome.status == .failed)
        #expect(outcome.reason?.contains("--gamma") == true)
        s.gamma = 0.5; s.parameterization = .monotone; s.lambda = 0.1
        #expect(s.validate()?.contains("monotone") == true)
    }
}
