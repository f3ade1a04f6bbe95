import Foundation
import LipscopeLinearAlgebra
import Synchronization

/// What one finished epoch looked like: the row of the live table.
public struct EpochRecord: Sendable, Equatable, Codable {
    public var epoch: Int
    /// Mean training loss over the epoch's batches (cross-entropy + λ · smooth bound).
    public var loss: Double
    public var crossEntropy: Double
    /// Mean smooth bound over the batches (0 when λ = 0).
    public var regularizer: Double
    public var trainAccuracy: Double
    public var testAccuracy: Double
    public var muInf: Double
    /// The certified closed-form ℓ∞ bound with η = 1 at the epoch's end (nil when μ∞(A) ≥ 1).
    public var certifiedBound: Double?
    public var meanForwardIterations: Double
    public var meanBackwardIterations: Double
    /// Batches whose forward or adjoint iteration hit the iteration limit.
    public var unconvergedBatches: Int
    /// Wall time of this epoch and since the run started.
    public var seconds: Double
    public var elapsed: Double

    /// The same numbers as a generic iteration row (the workbench's live table).
    public var iterationRecord: IterationRecord {
        IterationRecord(index: epoch, elapsed: elapsed, metrics: [
            Metric("loss", loss), Metric("train_acc", trainAccuracy), Metric("test_acc", testAccuracy),
            Metric("mu_inf", muInf), Metric("bound", certifiedBound ?? .infinity),
            Metric("fwd_iter", meanForwardIterations), Metric("bwd_iter", meanBackwardIterations), Metric("epoch_s", seconds),
        ])
    }
}

public enum TrainingStatus: String, Sendable, Codable {
    case finished, cancelled, failed
}

/// The end of a run. `network` is the last finished epoch's network (the initial one when no
/// epoch finished), also after a cancel or a failure.
public struct TrainingOutcome: Sendable {
    public var status: TrainingStatus
    public var network: ImplicitNetwork
    public var epochs: [EpochRecord]
    public var seconds: Double
    public var reason: String?
    public var settings: TrainingSettings
}

public enum TrainingEvent: Sendable {
    case log(String)
    case epoch(EpochRecord)
    case finished(TrainingOutcome)
}

/// A training run on its own thread, like `Job` for a bound method: events go to the sink as
/// they happen; the last one is `.finished`; `cancel()` is honored between batches.
public final class TrainingJob: Sendable {
    private let background: BackgroundRun<TrainingOutcome>
    public var token: CancellationToken { background.token }

    private init(_ background: BackgroundRun<TrainingOutcome>) { self.background = background }

    public static func start(_ settings: TrainingSettings, data: TrainingData,
                             sink: @escaping @Sendable (TrainingEvent) -> Void) -> TrainingJob {
        TrainingJob(BackgroundRun { token in TrainingJob.run(settings, data: data, token: token, sink: sink) })
    }

    public func cancel() { token.cancel() }

    public func wait() -> TrainingOutcome { background.wait() }

    /// The certified closed-form ℓ∞ bound with η = 1 (the `contraction` method's value).
    static func certifiedPlainBound(_ net: ImplicitNetwork) -> Double? {
        guard let system = EquilibriumSystem(net), let analysis = try? ContractionAnalysis(system) else { return nil }
        return analysis.certifiedBound(weights: [Double](repeating: 1, count: system.stateSize))
    }

    /// Runs the training on the calling thread. Always emits exactly one `.finished`.
    public static func run(_ settings: TrainingSettings, data: TrainingData, token: CancellationToken = CancellationToken(),
                           sink: @escaping @Sendable (TrainingEvent) -> Void = { _ in }) -> TrainingOutcome {
        let started = ContinuousClock.now
        func elapsed() -> Double { (ContinuousClock.now - started).seconds }
        let train = data.train
        let classes = max(train.classCount, data.test.classCount)
        var model = ImplicitModel(parameterization: settings.parameterization, gamma: settings.gamma, inputs: train.featureCount,
                                  states: settings.hidden, outputs: classes, seed: settings.seed)
        let trainer = ImplicitTrainer(settings: settings)
        var lastNetwork = model.network(name: settings.name)
        var records: [EpochRecord] = []
        func finish(_ status: TrainingStatus, _ reason: String?) -> TrainingOutcome {
            let outcome = TrainingOutcome(status: status, network: lastNetwork, epochs: records, seconds: elapsed(), reason: reason, settings: settings)
            sink(.finished(outcome))
            return outcome
        }
        if let problem = settings.validate() { return finish(.failed, problem) }
        guard train.count > 0 else { return finish(.failed, "no training examples") }
        sink(.log("\(train.count) training and \(data.test.count) test examples (\(data.testDescription)), \(train.featureCount) features, \(classes) classes; "
                  + "\(settings.parameterization.rawValue) parameterization, \(settings.effectiveScheme.rawValue) iteration"))

        var optimizer = Adam(learningRate: settings.learningRate)
        var shuffler = SeededGenerator(seed: settings.seed &+ 0x5EED)
        var order = Array(0..<train.count)
        for epoch in 1...max(1, settings.epochs) where settings.epochs > 0 {
            let epochStart = ContinuousClock.now
            // Step decay as in the authors' runs: the rate drops 5× for the last quarter.
            optimizer.learningRate = settings.learningRate * (Double(epoch) > 0.75 * Double(settings.epochs) ? 0.2 : 1)
            order.shuffle(using: &shuffler)
            var lossSum = 0.0, ceSum = 0.0, regSum = 0.0, forwardSum = 0, backwardSum = 0, batches = 0, unconverged = 0
            var start = 0
            while start < order.count {
                if token.isCancelled { return finish(.cancelled, "cancelled by the user after \(records.count) epoch\(records.count == 1 ? "" : "s")") }
                let indices = order[start..<min(start + settings.batchSize, order.count)]
                start += indices.count
                let u = train.gather(indices)
                guard let outcome = trainer.lossAndGradient(model, input: u, labels: indices.map { train.labels[$0] }) else {
                    return finish(.failed, "the fixed-point iteration diverged in epoch \(epoch) (non-finite state or smooth μ∞(A) ≥ 1)")
                }
                var parameters = model.parameters
                optimizer.step(&parameters, outcome.gradients)
                model.parameters = parameters
                if settings.parameterization == .polytope { Parameterization.projectOntoPolytope(&model.core, gamma: settings.gamma) }
                lossSum += outcome.loss; ceSum += outcome.crossEntropy; regSum += outcome.regularizer
                forwardSum += outcome.forwardIterations; backwardSum += outcome.backwardIterations
                if !outcome.converged { unconverged += 1 }
                batches += 1
            }
            let network = model.network(name: settings.name)
            guard network.A.allFinite, network.B.allFinite, network.C.allFinite else {
                return finish(.failed, "parameters became non-finite in epoch \(epoch)")
            }
            let record = EpochRecord(
                epoch: epoch, loss: lossSum / Double(batches), crossEntropy: ceSum / Double(batches), regularizer: regSum / Double(batches),
                trainAccuracy: trainer.accuracy(model, on: train, tolerance: settings.evaluationTolerance),
                testAccuracy: trainer.accuracy(model, on: data.test, tolerance: settings.evaluationTolerance),
                muInf: Parameterization.muInfinity(network.A), certifiedBound: certifiedPlainBound(network),
                meanForwardIterations: Double(forwardSum) / Double(batches), meanBackwardIterations: Double(backwardSum) / Double(batches),
                unconvergedBatches: unconverged, seconds: (ContinuousClock.now - epochStart).seconds, elapsed: elapsed())
            records.append(record)
            lastNetwork = network
            sink(.epoch(record))
        }
        return finish(.finished, nil)
    }
}
