import Foundation
import Synchronization

/// Shared state of one solve between the caller's thread (which polls cancellation and the
/// time limit) and the backend's worker thread.
final class SolveRun: @unchecked Sendable {
    let solverName: String
    let options: SolverOptions
    let control: SolverControl
    let start = DispatchTime.now()
    private let lock = NSLock()
    private var returned = false
    private var stopAction: (@Sendable () -> Void)?
    private(set) var lastIteration: SolverIteration?
    private let stopFlag = StopFlag()
    /// Why a stop was requested (.cancelled or .timeLimit); read by the worker to label its result.
    private var reason: SolverStatus = .cancelled

    init(solverName: String, options: SolverOptions, control: SolverControl) {
        self.solverName = solverName
        self.options = options
        self.control = control
    }

    var elapsed: Double { Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9 }

    /// Set by the caller; backends poll it at each iteration.
    var stopRequested: Bool { stopFlag.isSet }

    var stopReason: SolverStatus { lock.withLock { reason } }

    /// Registers an action that interrupts the backend at once (e.g. kill a subprocess).
    func onStop(_ action: @escaping @Sendable () -> Void) {
        let runNow: Bool = lock.withLock {
            stopAction = action
            return stopFlag.isSet
        }
        if runNow { action() }
    }

    /// Called by a backend before it frees what its stop action touches.
    func clearStopAction() { lock.withLock { stopAction = nil } }

    func requestStop(_ why: SolverStatus) {
        // The action runs under the lock: `clearStopAction` (taken before a backend frees what
        // the action touches) then cannot slip in between and leave it a dangling token.
        // Actions are cheap and never take this lock.
        lock.withLock {
            if !stopFlag.isSet { reason = why }
            stopFlag.set()
            stopAction?()
        }
    }

    /// Forwards an iteration to the caller unless `solve` has already returned.
    func emit(_ it: SolverIteration) {
        lock.lock()
        defer { lock.unlock() }
        guard !returned else { return }
        lastIteration = it
        control.onIteration(it)
    }

    fileprivate func markReturned() { lock.withLock { returned = true } }

    /// Runs `work` on a worker thread and waits for it, polling cancellation and the time
    /// limit every 10 ms. After a stop request the worker gets 100 ms to finish; otherwise
    /// this returns on its own and the worker winds down in the background.
    static func run(solverName: String, options: SolverOptions, control: SolverControl,
                    work: @escaping @Sendable (SolveRun) -> SolverResult) -> SolverResult {
        let run = SolveRun(solverName: solverName, options: options, control: control)
        let done = DispatchSemaphore(value: 0)
        let box = ResultBox()
        SolverWorkers.begin()
        let thread = Thread {
            let r = work(run)
            box.set(r)
            done.signal()
            SolverWorkers.end()
        }
        thread.stackSize = 64 << 20
        thread.start()
        while true {
            if done.wait(timeout: .now() + .milliseconds(10)) == .success { break }
            var why: SolverStatus? = nil
            if control.isCancelled() { why = .cancelled }
            else if let limit = options.timeLimit, run.elapsed > limit { why = .timeLimit }
            guard let why else { continue }
            run.requestStop(why)
            if done.wait(timeout: .now() + .milliseconds(100)) == .success { break }
            run.markReturned()
            let last = run.lastIteration
            return SolverResult(status: why, primalObjective: last?.primalObjective, dualObjective: last?.dualObjective,
                                iterations: last?.iteration ?? 0, seconds: run.elapsed, solver: solverName,
                                message: why == .cancelled ? "cancelled by the caller" : "time limit reached")
        }
        run.markReturned()
        var r = box.get()!
        r.seconds = run.elapsed
        return r
    }
}

private final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: SolverResult?
    func set(_ r: SolverResult) { lock.withLock { value = r } }
    func get() -> SolverResult? { lock.withLock { value } }
}

/// Backend worker threads that may still be winding down after `solve` returned
/// (a cancelled DSDP solve finishes its current iteration in the background).
public enum SolverWorkers {
    private static let condition = NSCondition()
    nonisolated(unsafe) private static var active = 0

    static func begin() { condition.lock(); active += 1; condition.unlock() }

    static func end() {
        condition.lock(); active -= 1; condition.broadcast(); condition.unlock()
    }

    /// Number of worker threads still running.
    public static var activeCount: Int { condition.lock(); defer { condition.unlock() }; return active }

    /// Blocks until no worker is running or `timeout` seconds passed; returns whether idle.
    /// Programs should call this before exiting after a cancelled solve, so that no
    /// backend is still inside BLAS/LAPACK while the process tears down.
    @discardableResult
    public static func waitUntilIdle(timeout: Double) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock(); defer { condition.unlock() }
        while active > 0 {
            if !condition.wait(until: deadline) { return active == 0 }
        }
        return true
    }
}
