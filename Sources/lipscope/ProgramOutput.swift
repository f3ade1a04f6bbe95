import Foundation

/// The CLI's own output, kept apart from library chatter. DSDP prints to stdout
/// unconditionally (e.g. "Trying Sparse M: …" whenever its Schur matrix is sparse), which would
/// corrupt `--json` output. After parsing, descriptor 1 is pointed at stderr and the program's
/// output goes to a private duplicate of the original stdout.
enum ProgramOutput {
    nonisolated(unsafe) private(set) static var descriptor: Int32 = STDOUT_FILENO

    /// Call once, before any command runs (the workbench keeps stdout: curses owns it).
    static func separateLibraryOutput() {
        fflush(nil)
        let saved = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3)
        guard saved >= 0 else { return }
        descriptor = saved
        dup2(STDERR_FILENO, STDOUT_FILENO)
    }

    /// Points descriptor 1 back at the original stdout (for output printed by the argument
    /// parser itself, e.g. a command group's help).
    static func restore() {
        guard descriptor != STDOUT_FILENO else { return }
        fflush(nil)
        dup2(descriptor, STDOUT_FILENO)
    }

    static func write(_ text: String) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue }; return }
            bytes = bytes.dropFirst(n)
        }
    }
}

/// Shadows the standard library's `print` in this module so every command writes through
/// `ProgramOutput`.
func print(_ items: Any..., separator: String = " ", terminator: String = "\n") {
    ProgramOutput.write(items.map { "\($0)" }.joined(separator: separator) + terminator)
}
