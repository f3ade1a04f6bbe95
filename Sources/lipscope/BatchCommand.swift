import ArgumentParser
import Foundation
import LipscopeEngine
import Synchronization

/// `lipscope batch JOBS.jsonl --out RESULTS.jsonl [--shard I/N]` runs a jobs file (one
/// `lipscope bound` per line) into a results file, resumably; `lipscope batch --merge RESULTS…`
/// joins the shards' files in job order.
struct BatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch", abstract: "Run a jobs file (JSON Lines) sharded and resumable, or merge the shards' results.",
        discussion: """
        Each job line: {"network": PATH, "method": M, "norm": "2"|"inf", "degree"?: k, "output"?: j, "seed"?: s, \
        "options"?: {"solver": "csdp", …}} (PATH relative to the jobs file's directory, or absolute). Every line is \
        checked before anything runs (exit 2 naming file:line and field). Each result line is the `bound --json` \
        object plus "job" (the job as given with its 0-based "index") and "batch". Jobs already in --out are skipped; \
        SIGTERM/SIGINT drop the running job and leave only complete lines. Shard I/N (0 ≤ I < N) runs the jobs with \
        index % N == I.
        """)

    @Argument(help: ArgumentHelp("The jobs file (JSON Lines); with --merge, the results files.", valueName: "file"))
    var files: [String] = []

    @Option(name: .long, help: ArgumentHelp("Results file (JSON Lines): appended to; the jobs it holds are skipped.", valueName: "results"))
    var out: String?

    @Option(name: .long, help: ArgumentHelp("Run shard I of N: the jobs whose 0-based index % N == I (0 ≤ I < N).", valueName: "I/N"))
    var shard: String?

    @Flag(name: .long, help: "Join results files into one table in job order (duplicates counted once, missing jobs reported).")
    var merge = false

    @Flag(name: .long, help: "With --merge: print one JSON object {jobs, results, missing, duplicates, truncated}.")
    var json = false

    func validate() throws {
        if merge {
            guard !files.isEmpty else { throw ValidationError("--merge: expected one or more results files") }
            guard out == nil, shard == nil else { throw ValidationError("--merge takes results files only, not --out or --shard") }
        } else {
            guard files.count == 1 else {
                throw ValidationError("expected one jobs file, found \(files.count) files (to join results files use --merge)")
            }
            guard out != nil else { throw ValidationError("missing --out RESULTS.jsonl (where results are appended)") }
            guard !json else { throw ValidationError("--json goes with --merge (results files are always JSON Lines)") }
            if let shard {
                do { _ = try Shard(parsing: shard) } catch { throw ValidationError(error.description) }
            }
        }
    }

    func run() throws {
        do {
            if merge { try runMerge() } else { try runBatch() }
        } catch let errors as BatchInputErrors {
            for line in errors.lines() { Self.note("lipscope: \(line)\n") }
            throw ExitCode(ExitStatus.input)
        }
    }

    /// Progress and summaries on stderr. A reader that went away (`… 2>&1 | head`) must not
    /// end the batch: SIGPIPE is ignored while a batch runs and failed writes are dropped.
    static func note(_ text: String) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { return }
            bytes = bytes.dropFirst(n)
        }
    }

    // MARK: running a shard

    private func runBatch() throws {
        let jobsPath = files[0], outPath = out!
        signal(SIGPIPE, SIG_IGN)
        let shard = try shard.map { try Shard(parsing: $0) } ?? .all
        let jobsFile = try JobsFile.read(path: jobsPath)
        let existed = FileManager.default.fileExists(atPath: outPath)
        let writer = try ResultsWriter(path: outPath)
        let runner = BatchRunner(jobsFile: jobsFile, shard: shard)
        let pending: [BatchJob], skipped: Int
        do {
            (pending, skipped) = try runner.pending(given: writer.existing, resultsPath: outPath)
            try runner.checkNetworks(pending)
        } catch {
            // Nothing ran: leave no empty results file behind.
            if !existed { unlink(outPath) }
            throw error
        }

        let shardText = shard.count == 1 ? "" : " shard \(shard):"
        if writer.existing.truncatedBytes > 0 {
            Self.note("lipscope batch: \(outPath): cut off an incomplete last line (\(writer.existing.truncatedBytes) bytes, from a run that was killed while writing)\n")
        }
        Self.note("lipscope batch: \(jobsPath): \(jobsFile.jobs.count) jobs;\(shardText) \(pending.count + skipped) jobs, \(skipped) already in \(outPath), \(pending.count) to run\n")

        let stop = SignalStop(runner)
        // On a terminal, the running method's iterations on a live line (cleared when it finishes).
        let live = ProgressLine(label: "running")
        let summary = try runner.run(pending, skipped: skipped, into: writer, events: { live.handle($0) }) { event in
            switch event {
            case .starting(let job, let done, let total):
                Self.note("[\(done)/\(total) done] job \(job.index) (line \(job.line)): \(job.summary)\n")
            case .finished(_, let r, _, _):
                let value = r.value.map { " " + Presentation.number($0) + " (" + Presentation.meaning(r) + ")" } ?? ""
                Self.note("    \(Presentation.status(r.status))\(value) in \(Presentation.duration(r.seconds))\n")
            }
        }
        stop.disarm()
        let failed = summary.failed > 0 ? ", \(summary.failed) with status failed" : ""
        Self.note("lipscope batch:\(shardText) \(summary.skipped + summary.ran) of \(summary.shardJobs) jobs in \(outPath) (\(summary.ran) run now, \(summary.skipped) skipped as already done\(failed))\n")
        if summary.stopped {
            let signal = stop.received
            Self.note("lipscope batch: stopped by \(signal == SIGINT ? "SIGINT" : "SIGTERM"); the running job was dropped, \(summary.remaining) jobs remain: run the same command again to resume\n")
            throw ExitCode(128 + (signal == 0 ? SIGTERM : signal))
        }
    }

    // MARK: merging

    private func runMerge() throws {
        let merged = try BatchMerge.merge(files: files)
        for t in merged.truncated {
            Self.note("lipscope batch: \(t.file): ignored an incomplete last line (\(t.bytes) bytes; a shard still running or killed)\n")
        }
        if json {
            print(Display.json(MergedJSON(merged)))
        } else {
            print(Self.table(merged))
        }
        let duplicates = merged.duplicates > 0 ? ", \(merged.duplicates) duplicate lines counted once" : ""
        var summary = "lipscope batch: \(merged.records.count) of \(merged.jobs) jobs have results\(duplicates)"
        if !merged.missing.isEmpty {
            let list = merged.missing.prefix(30).map(String.init).joined(separator: ", ") + (merged.missing.count > 30 ? ", …" : "")
            summary += "; missing \(merged.missing.count): jobs \(list)"
        }
        Self.note(summary + "\n")
    }

    /// One row per job of the batch, in job order; a job without a result says so.
    static func table(_ merged: BatchMerge) -> String {
        var byIndex: [Int: BatchRecord] = [:]
        for r in merged.records { byIndex[r.index] = r }
        let rows: [[String]] = (0..<merged.jobs).map { i in
            guard let record = byIndex[i] else { return ["\(i)", "—", "—", "", "", "", "—", "", "", "missing", ""] }
            let r = record.result
            var network = "—"
            if case .string(let s)? = record.job["network"] { network = s }
            return ["\(i)", network, r.method, r.norm.symbol, r.degree.map(String.init) ?? "", r.output.map(String.init) ?? "",
                    Presentation.number(r.value), r.kind.rawValue, Presentation.certifiedCell(r),
                    r.status.rawValue, Presentation.duration(r.seconds)]
        }
        return Display.table(["job", "network", "method", "norm", "deg", "out", "bound", "kind", "cert", "status", "time"], rows)
    }

    /// `--merge --json`: every result line as written (in job order) and the bookkeeping.
    struct MergedJSON: Encodable {
        let jobs: Int
        let results: [[String: JSONValue]]
        let missing: [Int]
        let duplicates: Int
        let truncated: [[String: JSONValue]]

        init(_ m: BatchMerge) {
            jobs = m.jobs
            results = m.records.map(\.object)
            missing = m.missing
            duplicates = m.duplicates
            truncated = m.truncated.map { ["file": .string($0.file), "bytes": .number(Double($0.bytes))] }
        }
    }
}

/// SIGTERM (Slurm's time limit, `kill`) and SIGINT (Ctrl-C) stop a batch cleanly: the running
/// job is cancelled and dropped, the line being written (if any) is finished first. The signals
/// are delivered to a dispatch queue, never interrupting a write. (`sources` is touched only by
/// the thread that arms and disarms; the handlers touch only the atomic and the runner.)
final class SignalStop: @unchecked Sendable {
    private let signalNumber = Atomic<Int32>(0)
    private var sources: [DispatchSourceSignal] = []

    init(_ runner: BatchRunner) {
        for number in [SIGTERM, SIGINT] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [self] in
                signalNumber.store(number, ordering: .relaxed)
                runner.stop()
            }
            source.resume()
            sources.append(source)
        }
    }

    var received: Int32 { signalNumber.load(ordering: .relaxed) }

    /// Back to the default dispositions once the run is over.
    func disarm() {
        for s in sources { s.cancel() }
        sources = []
        signal(SIGTERM, SIG_DFL)
        signal(SIGINT, SIG_DFL)
    }
}
