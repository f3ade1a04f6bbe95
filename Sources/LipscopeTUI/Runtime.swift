import CNcurses
import Foundation
import LipscopeEngine
import Synchronization

/// What the workbench starts with (the command has already loaded and validated these).
public struct WorkbenchOptions: Sendable {
    public var network: (path: String, network: Network)?
    public var replay: (path: String, record: SessionRecord)?
    public var sessionsDirectory: String
    public var methods: [any BoundMethod]
    /// A method predicted to take longer asks for a second ⏎ (nil: no budget).
    public var budget: Double?

    public init(network: (path: String, network: Network)? = nil, replay: (path: String, record: SessionRecord)? = nil,
                sessionsDirectory: String = SessionStore.defaultDirectory(), methods: [any BoundMethod] = MethodRegistry.all,
                budget: Double? = Comparison.defaultBudget) {
        self.network = network; self.replay = replay; self.sessionsDirectory = sessionsDirectory; self.methods = methods
        self.budget = budget
    }
}

/// Events from other threads (jobs, signals) for the main loop: queued under a lock, with one
/// byte written to the self-pipe so `poll()` wakes up.
final class Inbox: Sendable {
    private let queue = Mutex<[Event]>([])
    let readFD: Int32
    let writeFD: Int32

    init() {
        var fds: [Int32] = [-1, -1]
        if pipe(&fds) != 0 { fds = [-1, -1] }
        for fd in fds where fd >= 0 {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        readFD = fds[0]; writeFD = fds[1]
    }

    func post(_ event: Event) {
        let wake = queue.withLock { q -> Bool in
            q.append(event)
            return q.count == 1
        }
        if wake { wakeUp() }
    }

    func wakeUp() {
        var byte: UInt8 = 1
        _ = write(writeFD, &byte, 1)
    }

    func drain() -> [Event] {
        var buffer = [UInt8](repeating: 0, count: 256)
        while read(readFD, &buffer, buffer.count) > 0 {}
        return queue.withLock { q in
            let events = q
            q.removeAll(keepingCapacity: true)
            return events
        }
    }

    // The pipe is not closed: a job still winding down when the workbench exits may post one
    // last event, and writing to a closed (possibly reused) descriptor would be worse than
    // keeping two descriptors until the process ends.
}

/// The newest method check; older check threads stop early.
final class LatestToken: Sendable {
    private let value = Atomic<Int>(0)
    func store(_ v: Int) { value.store(v, ordering: .sequentiallyConsistent) }
    func load() -> Int { value.load(ordering: .sequentiallyConsistent) }
}

final class Countdown: Sendable {
    private let value: Atomic<Int>
    init(_ n: Int) { value = Atomic(n) }
    /// Returns the count after decrementing.
    func decrement() -> Int { value.subtract(1, ordering: .sequentiallyConsistent).newValue }
}

/// Set by SIGTERM/SIGHUP/SIGINT; the handler also writes to the wake-up pipe.
nonisolated(unsafe) private var signalWakeFD: Int32 = -1
private let terminationRequested = Atomic<Int32>(0)

/// The workbench's main loop: curses on this thread only, jobs on their own threads, their
/// events through the self-pipe + `poll()`.
public enum Workbench {
    public static func run(_ options: WorkbenchOptions) -> Int32 {
        cn_unblock_all_signals()
        let inbox = Inbox()
        let runtime = Runtime(options: options, inbox: inbox)
        signalWakeFD = inbox.writeFD
        let handler: @convention(c) (Int32) -> Void = { sig in
            terminationRequested.store(sig, ordering: .relaxed)
            var byte: UInt8 = 2
            _ = write(signalWakeFD, &byte, 1)
        }
        signal(SIGTERM, handler)
        signal(SIGHUP, handler)
        signal(SIGINT, handler)
        signal(SIGPIPE, SIG_IGN)

        let terminal = CursesTerminal()
        runtime.start(rows: terminal.rows, cols: terminal.cols, colors: terminal.colors)
        terminal.draw(View.render(runtime.state))
        var lastDraw = ContinuousClock.now
        var dirty = false
        while !runtime.state.quitting {
            let sinceDraw = (ContinuousClock.now - lastDraw).seconds
            let timeout: Int32 = dirty ? Int32(max(0, (0.033 - sinceDraw) * 1000)) : (runtime.state.isRunning ? 250 : 1000)
            var fds = [pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: inbox.readFD, events: Int16(POLLIN), revents: 0)]
            _ = poll(&fds, 2, timeout)
            if terminationRequested.load(ordering: .relaxed) != 0 {
                runtime.terminate()
                break
            }
            var urgent = false
            while let key = terminal.readKey() {
                switch key {
                case .resized(let rows, let cols): runtime.dispatch(.resize(rows: rows, cols: cols)); terminal.resized()
                case .key(let k): runtime.dispatch(.key(k))
                }
                urgent = true
            }
            for event in inbox.drain() { runtime.dispatch(event) }
            runtime.dispatch(.tick(runtime.elapsed))
            dirty = true
            if urgent || (ContinuousClock.now - lastDraw).seconds >= 0.033 {
                terminal.draw(View.render(runtime.state))
                lastDraw = .now
                dirty = false
            }
        }
        runtime.finish()
        terminal.end()
        if let path = runtime.logPath {
            print("lipscope: session log \(View.relative(path, FileManager.default.currentDirectoryPath))")
        }
        return 0
    }
}

/// Performs effects and owns what is not state: jobs, the session log writer.
final class Runtime {
    var state: WorkbenchState
    let inbox: Inbox
    let options: WorkbenchOptions
    var jobs: [Int: Job] = [:]
    /// The cancel switch of each training run still going.
    var trainings: [Int: CancellationToken] = [:]
    /// The cancel switch of each certification run still going.
    var certifications: [Int: CancellationToken] = [:]
    var writer: SessionLogWriter?
    var logPath: String? { writer?.path }
    let started = ContinuousClock.now
    let latestCheck = LatestToken()
    private var pending: [Event] = []
    private var dispatching = false

    init(options: WorkbenchOptions, inbox: Inbox) {
        self.options = options
        self.inbox = inbox
        state = WorkbenchState(methods: options.methods, sessionsDirectory: options.sessionsDirectory,
                               workingDirectory: FileManager.default.currentDirectoryPath, budget: options.budget)
    }

    var elapsed: Double { (ContinuousClock.now - started).seconds }

    func start(rows: Int, cols: Int, colors: Bool) {
        state.colors = colors
        dispatch(.resize(rows: rows, cols: cols))
        do {
            let w = try SessionLogWriter(path: SessionStore.newLogPath(in: options.sessionsDirectory))
            writer = w
            w.append(.sessionStart(version: LipscopeVersion.string, time: SessionEvent.timestamp()))
            dispatch(.sessionLogOpened(path: w.path))
        } catch {
            dispatch(.sessionLogFailed(String(describing: error)))
        }
        if let (path, network) = options.network {
            dispatch(.networkLoaded(path: Self.absolute(path), network: network, sha256: SHA256.hex(ofFile: path)))
        }
        if let (path, record) = options.replay {
            dispatch(.replayLoaded(path: path, record: record))
        }
    }

    /// Applies an event and performs its effects; events produced by effects are queued and
    /// applied in order (never recursively).
    func dispatch(_ event: Event) {
        pending.append(event)
        guard !dispatching else { return }
        dispatching = true
        defer { dispatching = false }
        while !pending.isEmpty {
            let next = pending.removeFirst()
            for effect in Update.apply(&state, next) { perform(effect) }
        }
    }

    func perform(_ effect: Effect) {
        switch effect {
        case .start(let run, let m, let request):
            let inbox = self.inbox
            // Jobs must not take SIGWINCH from the main thread (children inherit this mask).
            var old = sigset_t()
            cn_block_sigwinch(&old)
            jobs[run] = Job.start(state.methods[m], request) { event in inbox.post(.job(run: run, event)) }
            cn_restore_sigmask(&old)
        case .cancel(let run):
            jobs[run]?.cancel()
            trainings[run]?.cancel()
            certifications[run]?.cancel()
        case .startTraining(let run, let parameters):
            let token = CancellationToken()
            trainings[run] = token
            var old = sigset_t()
            cn_block_sigwinch(&old)
            Self.train(run, parameters, token: token, inbox: inbox)
            cn_restore_sigmask(&old)
        case .startCertify(let run, let problem, let method, let seed):
            let token = CancellationToken()
            certifications[run] = token
            var old = sigset_t()
            cn_block_sigwinch(&old)
            Self.certify(run, problem, method: method, seed: seed, token: token, inbox: inbox)
            cn_restore_sigmask(&old)
        case .startImplicitCertify(let run, let problem, let method, let seed):
            let token = CancellationToken()
            certifications[run] = token
            var old = sigset_t()
            cn_block_sigwinch(&old)
            Self.certifyImplicit(run, problem, method: method, seed: seed, token: token, inbox: inbox)
            cn_restore_sigmask(&old)
        case .log(let event):
            if case .runFinished(_, let run, _) = event { jobs[run] = nil }
            if case .trainingFinished(_, let run, _) = event { trainings[run] = nil }
            if case .certifyFinished(_, let run, _) = event { certifications[run] = nil }
            writer?.append(event.withTime(SessionEvent.timestamp()))
            if let failure = writer?.failure, state.message?.text.hasPrefix("session log") != true {
                state.message = Message(text: "session log: \(failure)", isError: true)
            }
        case .loadNetwork(let path):
            // Off the main thread: big files (and their SHA-256) must not freeze the screen.
            let inbox = self.inbox
            let absolute = Self.absolute(path)
            var old = sigset_t()
            cn_block_sigwinch(&old)
            let thread = Thread {
                do {
                    let network = try NetworkLoader.load(path: path)
                    inbox.post(.networkLoaded(path: absolute, network: network, sha256: SHA256.hex(ofFile: path)))
                } catch {
                    inbox.post(.loadFailed(path: path, message: String(describing: error)))
                }
            }
            thread.stackSize = 8 << 20
            thread.start()
            cn_restore_sigmask(&old)
        case .listDirectory(let path, let purpose):
            do {
                dispatch(.directoryListed(path: Self.absolute(path), entries: try Self.list(path, purpose)))
            } catch {
                dispatch(.listFailed(path: path, message: "\(path): \(error.localizedDescription)"))
            }
        case .save(let name):
            guard let writer else { dispatch(.saveFailed("this session has no log")); return }
            do {
                let saved = try SessionStore.save(log: writer.path, as: name, in: options.sessionsDirectory)
                let cwd = FileManager.default.currentDirectoryPath
                dispatch(.saved(log: View.relative(saved.log, cwd), report: View.relative(saved.report, cwd)))
            } catch {
                dispatch(.saveFailed(String(describing: error)))
            }
        case .replay(let path):
            do {
                dispatch(.replayLoaded(path: path, record: try SessionRecord.read(path: path)))
            } catch {
                dispatch(.replayFailed(path: path, message: String(describing: error)))
            }
        case .loadRegion(let path, let inputs, let outputs):
            do {
                dispatch(.regionLoaded(path: path, file: try RegionFile.load(path: path, inputSize: inputs, outputSize: outputs)))
            } catch {
                dispatch(.regionFailed(path: path, message: String(describing: error)))
            }
        case .checkFile(let path, let purpose):
            dispatch(.fileChecked(path: path, exists: FileManager.default.fileExists(atPath: path), purpose: purpose))
        case .checkMethods(let token, let network, let norm):
            let inbox = self.inbox
            let methods = state.methods
            let latest = latestCheck
            latest.store(token)
            var old = sigset_t()
            cn_block_sigwinch(&old)
            // One thread per method: the quick checks answer at once, slow ones (LiPopt sizing
            // its LP/SDP on a big network) do not hold them up.
            let remaining = Countdown(methods.count)
            for (i, method) in methods.enumerated() {
                let thread = Thread {
                    // A newer check (norm toggled again, another network) supersedes this one.
                    let current = latest.load() == token
                    let applies = current && Update.applies(method, network, norm)
                    let minimum = current ? method.minimumDegree(for: network) : nil
                    let predicted = applies ? method.predictedCost(BoundRequest(network: network, norm: norm, degree: minimum)) : nil
                    let last = remaining.decrement() == 0
                    if latest.load() == token {
                        inbox.post(.methodChecked(token: token, method: i, applies: applies, minimumDegree: minimum, last: last,
                                                  predicted: predicted))
                    }
                }
                thread.stackSize = 8 << 20
                thread.start()
            }
            cn_restore_sigmask(&old)
        case .quit:
            break
        }
    }

    /// A training run on its own thread: loads the data, trains (epochs and log lines go to the
    /// inbox as they happen), saves the last finished epoch's network (also after a cancel or a
    /// failure), then posts the end. Exactly one `.finished` per run.
    static func train(_ run: Int, _ parameters: TrainingParameters, token: CancellationToken, inbox: Inbox) {
        let thread = Thread {
            let post: @Sendable (TrainingUpdate) -> Void = { inbox.post(.training(run: run, $0)) }
            let data: TrainingData
            do {
                data = try DatasetLoader.load(parameters.data)
            } catch {
                post(.finished(TrainingSummary(status: .failed, reason: "data: \(error)", epochs: 0, seconds: 0)))
                return
            }
            let outcome = TrainingJob.run(parameters.settings, data: data, token: token) { event in
                switch event {
                case .log(let message): post(.log(message))
                case .epoch(let record): post(.epoch(record))
                case .finished: break  // posted below, once the network is saved
                }
            }
            var summary = TrainingSummary(status: outcome.status, reason: outcome.reason, epochs: outcome.epochs.count, seconds: outcome.seconds)
            if !outcome.epochs.isEmpty {
                do {
                    let path = SessionStore.unusedPath(absolute(parameters.out))
                    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                    try NetworkLoader.save(.implicit(outcome.network), to: path)
                    summary.saved = path
                } catch {
                    summary.saveError = String(describing: error)
                }
            }
            post(.finished(summary))
        }
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// A certification run on its own thread: the certifier's progress goes to the inbox as it
    /// happens; the listener throws once the run is cancelled, which stops the certifier at its
    /// next stage or class. Exactly one end (`.finished`, `.cancelled` or `.failed`) per run.
    static func certify(_ run: Int, _ problem: Certifier.Problem, method: Certifier.Method, seed: UInt64,
                        token: CancellationToken, inbox: Inbox) {
        certifyOnThread(run, token: token, inbox: inbox) { listener in
            .finished(try Certifier.certify(problem, method: method, seed: seed, progress: listener))
        }
    }

    /// `certify` for an implicit net: the same thread, listener and ends.
    static func certifyImplicit(_ run: Int, _ problem: ImplicitCertifier.Problem, method: ImplicitCertifier.Method, seed: UInt64,
                                token: CancellationToken, inbox: Inbox) {
        certifyOnThread(run, token: token, inbox: inbox) { listener in
            .finishedImplicit(try ImplicitCertifier.certify(problem, method: method, seed: seed, progress: listener))
        }
    }

    /// Runs `work` (one certifier, given the progress listener; it returns the finished update)
    /// on its own thread and posts its progress and its one end.
    private static func certifyOnThread(_ run: Int, token: CancellationToken, inbox: Inbox,
                                        _ work: @escaping @Sendable (_ listener: @escaping (Certifier.Progress) throws -> Void) throws -> CertifyUpdate) {
        let thread = Thread {
            let post: @Sendable (CertifyUpdate) -> Void = { inbox.post(.certify(run: run, $0)) }
            let start = ContinuousClock.now
            do {
                let finished = try work { progress in
                    if token.isCancelled { throw CancelledError() }
                    switch progress {
                    case .phase(let phase): post(.phase(phase))
                    case .settled(let k, let margin, let bound, let lower):
                        post(.settled(index: k, margin: margin, bound: bound, lowerMargin: lower))
                    }
                }
                post(finished)
            } catch is CancelledError {
                post(.cancelled(seconds: (ContinuousClock.now - start).seconds))
            } catch {
                post(.failed(message: String(describing: error), seconds: (ContinuousClock.now - start).seconds))
            }
        }
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Directories (not hidden) and files the purpose can open, `..` first.
    static func list(_ path: String, _ purpose: BrowserPurpose) throws -> [BrowserEntry] {
        let names = try FileManager.default.contentsOfDirectory(atPath: path)
        var dirs: [BrowserEntry] = [], files: [BrowserEntry] = []
        let extensions = switch purpose {
        case .network: NetworkLoader.extensions
        case .session: ["jsonl"]
        case .region: RegionControl.fileExtensions
        }
        for name in names where !name.hasPrefix(".") {
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent(name), isDirectory: &isDirectory)
            if isDirectory.boolValue {
                dirs.append(BrowserEntry(name: name, isDirectory: true))
            } else if extensions.contains(URL(fileURLWithPath: name).pathExtension.lowercased()) {
                files.append(BrowserEntry(name: name, isDirectory: false))
            }
        }
        let parent = Self.absolute(path) == "/" ? [] : [BrowserEntry(name: "..", isDirectory: true)]
        return parent + dirs.sorted { $0.name < $1.name } + files.sorted { $0.name < $1.name }
    }

    static func absolute(_ path: String) -> String {
        let full = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        return URL(fileURLWithPath: full).standardizedFileURL.path
    }

    /// SIGTERM/SIGHUP/SIGINT: stop like a confirmed quit.
    func terminate() {
        if let run = state.active { jobs[run.id]?.cancel() }
        for token in trainings.values { token.cancel() }
        for token in certifications.values { token.cancel() }
        writer?.append(.note(time: SessionEvent.timestamp(), text: "terminated by signal \(terminationRequested.load(ordering: .relaxed))"))
        state.quitting = true
    }

    /// Cancels what still runs, waits briefly for the results so they reach the log, and closes it.
    func finish() {
        for job in jobs.values { job.cancel() }
        for token in trainings.values { token.cancel() }
        for token in certifications.values { token.cancel() }
        let deadline = ContinuousClock.now + .seconds(3)
        while state.isRunning && ContinuousClock.now < deadline {
            var fds = [pollfd(fd: inbox.readFD, events: Int16(POLLIN), revents: 0)]
            _ = poll(&fds, 1, 100)
            for event in inbox.drain() { dispatch(event) }
        }
        writer?.append(.sessionEnd(time: SessionEvent.timestamp()))
        writer?.close()
    }
}
