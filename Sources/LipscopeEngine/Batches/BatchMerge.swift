import Foundation

/// Joins the results files of a batch's shards: one record per job in job order, a job found
/// twice (a shard run again into another file) counted once, and the jobs no file holds.
public struct BatchMerge: Sendable {
    /// One record per job, by increasing index (the first one read when a job appears twice).
    public let records: [BatchRecord]
    /// The batch's job count (recorded in every line; the highest index + 1 for lines without it).
    public let jobs: Int
    /// Indices of the jobs no file holds.
    public let missing: [Int]
    /// Lines that repeat a job already read.
    public let duplicates: Int
    /// Files whose last line was cut short (a shard still running, or killed), with the byte count ignored.
    public let truncated: [(file: String, bytes: Int)]

    /// Reads and joins `files` (in the given order). Throws `InputError` for an unreadable file and
    /// `BatchInputErrors` for bad lines or two different jobs under one index (results of different jobs files).
    public static func merge(files: [String]) throws -> BatchMerge {
        var first: [Int: (record: BatchRecord, file: String)] = [:]
        var duplicates = 0, jobs = 0
        var truncated: [(file: String, bytes: Int)] = []
        var errors: [BatchLineError] = []
        for file in files {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory), !isDirectory.boolValue else {
                throw InputError(file: file, expected: "a results file of lipscope batch", found: isDirectory.boolValue ? "a directory" : "no such file")
            }
            guard let data = FileManager.default.contents(atPath: file) else {
                throw InputError(file: file, expected: "a readable results file", found: "permission denied or unreadable")
            }
            let contents: ResultsContents
            do { contents = try ResultsContents.parse(data, file: file) } catch { errors += error.errors; continue }
            if contents.truncatedBytes > 0 { truncated.append((file, contents.truncatedBytes)) }
            for record in contents.records {
                jobs = max(jobs, record.jobs ?? 0, record.index + 1)
                if let seen = first[record.index] {
                    if seen.record.job != record.job {
                        errors.append(BatchLineError(file: file, line: record.line, field: "job",
                                                     expected: "job \(record.index) as in \(seen.file):\(seen.record.line) (results of one jobs file)",
                                                     found: "a different job \(JSONText.json(.object(record.job)))"))
                    }
                    duplicates += 1
                } else {
                    first[record.index] = (record, file)
                }
            }
        }
        if !errors.isEmpty { throw BatchInputErrors(errors) }
        return BatchMerge(records: first.keys.sorted().map { first[$0]!.record }, jobs: jobs,
                          missing: (0..<jobs).filter { first[$0] == nil }, duplicates: duplicates, truncated: truncated)
    }
}
