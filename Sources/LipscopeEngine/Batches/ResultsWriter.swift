import Foundation

/// The results file of a running batch, opened for appending. It is locked (`flock`) so two
/// batches never write into one file, its existing lines are read under that lock, a line a
/// kill cut short is cut off, and every result is one `write` of the whole line followed by
/// `fsync`: after a kill the file holds complete lines and at most one unterminated fragment,
/// which the next resume removes.
public final class ResultsWriter {
    public let path: String
    private let descriptor: Int32
    /// What the file held when it was opened (after cutting the fragment).
    public let existing: ResultsContents

    public init(path: String) throws {
        self.path = path
        let created = !FileManager.default.fileExists(atPath: path)
        let fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw InputError(file: path, expected: "a results file lipscope can create or append to", found: String(cString: strerror(errno)))
        }
        if flock(fd, LOCK_EX | LOCK_NB) != 0, errno == EWOULDBLOCK {
            close(fd)
            throw InputError(file: path, expected: "a results file no other process is writing",
                             found: "it is locked by another lipscope batch (give each shard its own --out file)")
        }
        var contents = Data()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(contents.count)) }
            if n < 0, errno == EINTR { continue }
            guard n >= 0 else {
                let reason = String(cString: strerror(errno)); close(fd)
                throw InputError(file: path, expected: "a readable results file", found: reason)
            }
            if n == 0 { break }
            contents.append(contentsOf: buffer[0..<n])
        }
        do {
            existing = try ResultsContents.parse(contents, file: path)
        } catch {
            close(fd)
            throw error
        }
        if existing.truncatedBytes > 0 {
            guard existing.fragmentIsOurs else {
                close(fd)
                throw InputError(file: path, location: "its last line",
                                 expected: "a results file of lipscope batch (JSON Lines, each line starting {\"batch\":)",
                                 found: "an unterminated last line that no batch wrote; the file is left unchanged")
            }
            guard ftruncate(fd, off_t(existing.completeLength)) == 0, fsync(fd) == 0 else {
                let reason = String(cString: strerror(errno)); close(fd)
                throw InputError(file: path, expected: "a results file lipscope can truncate", found: reason)
            }
        }
        descriptor = fd
        if created { Self.syncDirectory(of: path) }
    }

    deinit { close(descriptor) }

    /// Appends `line` and a newline in one write, then waits until it is on disk.
    public func append(_ line: String) throws {
        var bytes = Array((line + "\n").utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else {
                throw InputError(file: path, expected: "a results file lipscope can write", found: String(cString: strerror(errno)))
            }
            bytes = bytes.dropFirst(n)
        }
        while fsync(descriptor) != 0 {
            guard errno == EINTR else {
                throw InputError(file: path, expected: "a results file lipscope can sync to disk", found: String(cString: strerror(errno)))
            }
        }
    }

    /// A new file's directory entry is durable only once its directory is synced.
    private static func syncDirectory(of path: String) {
        var directory = (path as NSString).deletingLastPathComponent
        if directory.isEmpty { directory = "." }
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }
}
