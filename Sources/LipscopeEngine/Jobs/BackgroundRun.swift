import Foundation
import Synchronization

/// Work on its own thread with a cancellation token and a result to wait for: what a bound
/// method's `Job` and a `TrainingJob` share.
final class BackgroundRun<Outcome: Sendable>: Sendable {
    let token = CancellationToken()
    private let outcome = Mutex<Outcome?>(nil)
    private let done = DispatchSemaphore(value: 0)

    /// Starts `body` on a new thread (8 MiB stack: enumeration and parsing recurse).
    init(_ body: @escaping @Sendable (CancellationToken) -> Outcome) {
        let thread = Thread { [self] in
            let result = body(token)
            outcome.withLock { $0 = result }
            done.signal()
        }
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Blocks until the work has finished and returns its outcome (any number of callers).
    func wait() -> Outcome {
        done.wait()
        done.signal()
        return outcome.withLock { $0! }
    }
}
