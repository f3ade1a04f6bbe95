/// A slice of a batch: shard I of N takes the jobs whose index % N == I. I is 0-based
/// (0 ≤ I < N), which is what `--shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT` gives for
/// an array `--array=0-(N-1)`, and GNU parallel for `::: 0 1 … N-1`.
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    public static let all = Shard(index: 0, count: 1)

    public init(index: Int, count: Int) { self.index = index; self.count = count }

    /// Parses "I/N"; the error says what was expected (for the CLI's usage error).
    public init(parsing text: String) throws(ShardError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0].trimmingCharacters(in: .whitespaces)),
              let n = Int(parts[1].trimmingCharacters(in: .whitespaces)) else {
            throw ShardError("--shard: expected I/N with integers 0 ≤ I < N (e.g. 0/4), found '\(text)'")
        }
        guard n >= 1 else { throw ShardError("--shard: expected a shard count N ≥ 1, found \(n) in '\(text)'") }
        guard i >= 0, i < n else {
            let hint = i == n ? " (shard indices are 0-based; for a Slurm job array use --array=0-\(n - 1))" : ""
            throw ShardError("--shard: expected a 0-based index I from 0 to \(n - 1), found \(i) in '\(text)'\(hint)")
        }
        self.init(index: i, count: n)
    }

    public func contains(_ job: Int) -> Bool { job % count == index }

    public var description: String { "\(index)/\(count)" }
}

public struct ShardError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ message: String) { description = message }
}
