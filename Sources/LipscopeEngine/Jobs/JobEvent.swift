import Foundation
import Synchronization

/// One named number of an iteration row ("gap", "residual", "best", …).
public struct Metric: Sendable, Equatable, Codable {
    public var name: String
    public var value: Double
    public init(_ name: String, _ value: Double) { self.name = name; self.value = value }
}

/// One row of a solver's live table: the columns are whatever that solver reports.
public struct IterationRecord: Sendable, Equatable, Codable {
    public var index: Int
    public var elapsed: Double
    public var metrics: [Metric]
    public init(index: Int, elapsed: Double, metrics: [Metric]) {
        self.index = index; self.elapsed = elapsed; self.metrics = metrics
    }
    public func value(_ name: String) -> Double? { metrics.first { $0.name == name }?.value }
}

/// Events a running method streams, ending in exactly one `.finished`.
public enum JobEvent: Sendable {
    case log(String)
    /// A build phase: `done` of `total` units (products, samples, patterns …).
    case progress(phase: String, done: Int, total: Int)
    case iteration(IterationRecord)
    case finished(BoundResult)
}

/// Cooperative cancellation shared between a job and whoever started it.
public final class CancellationToken: Sendable {
    private let flag = Atomic<Bool>(false)
    public init() {}
    public func cancel() { flag.store(true, ordering: .relaxed) }
    public var isCancelled: Bool { flag.load(ordering: .relaxed) }
}

/// Thrown inside a method when its token is cancelled; the job turns it into `cancelled`.
public struct CancelledError: Error { public init() {} }

/// What a running method sees: where to send events, and whether to stop.
public struct JobContext: Sendable {
    public let token: CancellationToken
    public let sink: @Sendable (JobEvent) -> Void
    public let started: ContinuousClock.Instant

    public init(token: CancellationToken = CancellationToken(), sink: @escaping @Sendable (JobEvent) -> Void = { _ in }) {
        self.token = token
        self.sink = sink
        self.started = .now
    }

    public var isCancelled: Bool { token.isCancelled }
    public func checkCancelled() throws { if token.isCancelled { throw CancelledError() } }
    public func emit(_ event: JobEvent) { sink(event) }
    public func log(_ message: String) { sink(.log(message)) }
    public var elapsed: Double { (ContinuousClock.now - started).seconds }

    public func iteration(_ index: Int, _ metrics: [Metric]) {
        sink(.iteration(IterationRecord(index: index, elapsed: elapsed, metrics: metrics)))
    }
}

extension Duration {
    public var seconds: Double {
        let c = components
        return Double(c.seconds) + Double(c.attoseconds) * 1e-18
    }
}
