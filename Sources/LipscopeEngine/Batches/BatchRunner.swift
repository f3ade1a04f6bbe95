import Foundation
import Synchronization

/// Runs one shard of a jobs file into a results file, skipping the jobs the file already holds.
/// `stop()` (from a signal handler) cancels the running job: its result is dropped, never
/// written, and the run returns; a result already being written is finished first, because
/// writing happens on the runner's own thread between jobs.
public final class BatchRunner: Sendable {
    public enum Progress: Sendable {
        /// `done` of `total` jobs of the shard are in the file; `job` starts now.
        case starting(BatchJob, done: Int, total: Int)
        case finished(BatchJob, BoundResult, done: Int, total: Int)
    }

    public struct Summary: Sendable, Equatable {
        /// Jobs of this shard.
        public var shardJobs = 0
        /// Jobs of this shard found in the results file before the run.
        public var skipped = 0
        /// Results written by this run.
        public var ran = 0
        /// Of those, results whose status is `failed`.
        public var failed = 0
        /// Whether `stop()` ended the run early (the running job was dropped).
        public var stopped = false
        public var remaining: Int { shardJobs - skipped - ran }
    }

    public let jobsFile: JobsFile
    public let shard: Shard
    private let stopped = Atomic<Bool>(false)
    private let current = Mutex<Job?>(nil)
    /// Networks opened by `checkNetworks`, kept for the run while they are small together, so a
    /// zoo of small nets is read once; larger ones are read again when their jobs run.
    private let opened = Mutex<[String: Network]>([:])
    public static let keptParameters = 20_000_000

    public init(jobsFile: JobsFile, shard: Shard) {
        self.jobsFile = jobsFile; self.shard = shard
    }

    /// The jobs of this shard the results file does not hold yet. Throws `BatchInputErrors` when
    /// a line of the results file belongs to another jobs file (the job at its index differs).
    public func pending(given existing: ResultsContents, resultsPath: String) throws -> (pending: [BatchJob], skipped: Int) {
        var done = Set<Int>()
        var errors: [BatchLineError] = []
        for record in existing.records {
            guard record.index < jobsFile.jobs.count, jobsFile.jobs[record.index].given == record.job else {
                let found = record.index < jobsFile.jobs.count
                    ? "a result for a different job \(JSONText.json(.object(record.job))) (the jobs file changed since; use a new --out file)"
                    : "a result for job \(record.index), but \(jobsFile.path) has \(jobsFile.jobs.count) jobs"
                errors.append(BatchLineError(file: resultsPath, line: record.line, field: "job",
                                             expected: "job \(record.index) of \(jobsFile.path)", found: found))
                continue
            }
            done.insert(record.index)
        }
        if !errors.isEmpty { throw BatchInputErrors(errors) }
        let mine = jobsFile.jobs.filter { shard.contains($0.index) }
        let pending = mine.filter { !done.contains($0.index) }
        return (pending, mine.count - pending.count)
    }

    /// Opens every network the jobs use, once each, and checks `output` against it, so a bad
    /// network file stops the batch before anything runs. Throws `BatchInputErrors`.
    public func checkNetworks(_ jobs: [BatchJob]) throws {
        var errors: [BatchLineError] = []
        var outputs: [String: Int] = [:]
        var broken = Set<String>()
        var kept = 0
        for job in jobs where !broken.contains(job.networkPath) {
            if outputs[job.networkPath] == nil {
                do {
                    let network = try NetworkLoader.load(path: job.networkPath)
                    outputs[job.networkPath] = network.outputSize
                    if kept + network.parameterCount <= Self.keptParameters {
                        kept += network.parameterCount
                        opened.withLock { $0[job.networkPath] = network }
                    }
                } catch {
                    broken.insert(job.networkPath)
                    errors.append(BatchLineError(file: jobsFile.path, line: job.line, field: "network",
                                                 expected: "a network file lipscope reads", found: "\(error)"))
                    continue
                }
            }
            if let j = job.output, j >= outputs[job.networkPath]! {
                errors.append(BatchLineError(file: jobsFile.path, line: job.line, field: "output",
                                             expected: "an output index from 0 to \(outputs[job.networkPath]! - 1) (\(job.network) has \(outputs[job.networkPath]!) outputs)",
                                             found: "\(j)"))
            }
        }
        if !errors.isEmpty { throw BatchInputErrors(errors) }
    }

    /// Runs `jobs` in order, appending each result to `writer`. Returns early after `stop()`.
    /// `events` receives the running method's own events (iterations, logs), e.g. for a live line.
    public func run(_ jobs: [BatchJob], skipped: Int, into writer: ResultsWriter,
                    events: @escaping @Sendable (JobEvent) -> Void = { _ in },
                    progress: @escaping @Sendable (Progress) -> Void = { _ in }) throws -> Summary {
        var summary = Summary(shardJobs: jobs.count + skipped, skipped: skipped)
        var cached: (path: String, network: Network)?
        var lastUse: [String: Int] = [:]
        for (k, job) in jobs.enumerated() { lastUse[job.networkPath] = k }
        for (k, job) in jobs.enumerated() {
            if stopped.load(ordering: .acquiring) { summary.stopped = true; break }
            let network: Network
            if let kept = opened.withLock({ $0[job.networkPath] }) { network = kept }
            else if let cached, cached.path == job.networkPath { network = cached.network } else {
                network = try NetworkLoader.load(path: job.networkPath)
                cached = (job.networkPath, network)
            }
            // No later job reads this network: let it go.
            if lastUse[job.networkPath] == k { opened.withLock { $0[job.networkPath] = nil } }
            let done = summary.skipped + summary.ran
            progress(.starting(job, done: done, total: summary.shardJobs))
            let method = MethodRegistry.method(named: job.method)!
            let running = Job.start(method, job.request(network), sink: events)
            current.withLock { $0 = running }
            // A stop between the check above and storing the job: cancel it here.
            if stopped.load(ordering: .acquiring) { running.cancel() }
            let result = running.wait()
            current.withLock { $0 = nil }
            if stopped.load(ordering: .acquiring), result.status == .cancelled { summary.stopped = true; break }
            try writer.append(BatchRecord.encode(result, job: job, jobs: jobsFile.jobs.count, shard: shard))
            summary.ran += 1
            if result.status == .failed { summary.failed += 1 }
            progress(.finished(job, result, done: done + 1, total: summary.shardJobs))
        }
        if stopped.load(ordering: .acquiring), summary.remaining > 0 { summary.stopped = true }
        return summary
    }

    /// Cancels the running job and ends the run before the next one (safe from any thread).
    public func stop() {
        stopped.store(true, ordering: .releasing)
        current.withLock { $0?.cancel() }
    }
}
