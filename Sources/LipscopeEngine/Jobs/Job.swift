import Foundation
import Synchronization

/// A method running on its own thread. Events go to the sink as they happen (from that
/// thread); the last one is `.finished`. `cancel()` is honored at the method's next check.
public final class Job: Sendable {
    private let background: BackgroundRun<BoundResult>
    public var token: CancellationToken { background.token }

    private init(_ background: BackgroundRun<BoundResult>) { self.background = background }

    /// Starts `method` on a new thread.
    public static func start(_ method: any BoundMethod, _ request: BoundRequest,
                             sink: @escaping @Sendable (JobEvent) -> Void) -> Job {
        Job(BackgroundRun { token in Job.run(method, request, token: token, sink: sink) })
    }

    public func cancel() { token.cancel() }

    /// Blocks until the job has finished and returns its result.
    public func wait() -> BoundResult { background.wait() }

    /// Runs `method` on the calling thread: checks applicability, times the run, and maps
    /// cancellation and errors to statuses. Always emits exactly one `.finished`.
    public static func run(_ method: any BoundMethod, _ request: BoundRequest,
                           token: CancellationToken = CancellationToken(),
                           sink: @escaping @Sendable (JobEvent) -> Void = { _ in }) -> BoundResult {
        // Count iterations as they stream, so a cancelled or failed run still reports its work.
        let iterationsSeen = Atomic<Int>(0)
        let context = JobContext(token: token, sink: { event in
            if case .iteration(let it) = event { iterationsSeen.store(it.index, ordering: .relaxed) }
            sink(event)
        })
        var result: BoundResult
        func statusResult(_ status: BoundStatus, _ reason: String) -> BoundResult {
            method.result(request, value: nil, certified: false, status: status,
                          iterations: iterationsSeen.load(ordering: .relaxed), details: ["reason": .string(reason)])
        }
        // Options first: a bad option is the user's mistake whatever the network, and it must
        // read as one (the message names the option, what was expected and what was found).
        if let optionError = Self.optionError(method, request) {
            result = statusResult(.failed, optionError.description)
        } else if !method.norms.contains(request.norm) {
            result = statusResult(.notApplicable, "\(method.id) bounds \(method.norms.map(\.symbol).joined(separator: ", ")) only")
        } else if let j = request.output, j < 0 || j >= request.network.outputSize {
            result = statusResult(.failed, "output \(j) does not exist (the network has \(request.network.outputSize) outputs, numbered from 0)")
        } else {
            switch method.applicability(request) {
            case .notApplicable(let why): result = statusResult(.notApplicable, why)
            case .tooLarge(let why): result = statusResult(.tooLarge, why)
            case .applicable:
                do {
                    result = try method.run(request, context: context)
                } catch is CancelledError {
                    result = statusResult(.cancelled, "cancelled by the user")
                } catch {
                    result = statusResult(.failed, String(describing: error))
                }
            }
        }
        if token.isCancelled, result.status == .optimal {
            result = statusResult(.cancelled, "cancelled by the user")
        }
        result.seconds = context.elapsed
        // The prediction beside the actual time, so the cost model can be checked run by run.
        if let predicted = result.status == .optimal || result.status == .cancelled ? method.predictedCost(request) : nil {
            result.details["predicted_seconds"] = .number(predicted.seconds)
            result.details["predicted_basis"] = .string(predicted.basis)
        }
        sink(.finished(result))
        return result
    }

    static func optionError(_ method: any BoundMethod, _ request: BoundRequest) -> OptionError? {
        do { _ = try method.parseOptions(request); return nil } catch let error as OptionError { return error } catch {
            return OptionError(method: method.id, key: "?", expected: "valid options", found: String(describing: error))
        }
    }
}
