import Foundation
import Testing

/// Drives a program in a private tmux server. Every command is spawned with posix_spawn and an
/// EMPTY signal mask (plus default dispositions): test threads block most signals and children
/// inherit that, which would leave tmux and the workbench deaf to SIGWINCH/SIGTERM/SIGHUP.
final class TmuxDriver {
    let socket: String
    let session = "e2e"

    init(tag: String) {
        socket = "lipscope-\(tag)-\(getpid())-\(UUID().uuidString.prefix(8))"
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Starts the server with one window running `command` in `directory`.
    func start(_ command: String, directory: String, environment: [String: String], cols: Int = 120, rows: Int = 40) throws {
        var args = ["new-session", "-d", "-s", session, "-x", "\(cols)", "-y", "\(rows)", "-c", directory]
        for (k, v) in environment.sorted(by: { $0.key < $1.key }) { args += ["-e", "\(k)=\(v)"] }
        args.append(command)
        let r = tmux(args, captureOutput: false)
        guard r.status == 0 else { throw Failure(description: "tmux new-session failed with status \(r.status)") }
    }

    /// `send-keys` with tmux key names ("Enter", "Down", "C-c", "q").
    func send(_ keys: String...) {
        _ = tmux(["send-keys", "-t", session] + keys)
    }

    func send(contentsOf keys: [String]) {
        guard !keys.isEmpty else { return }
        _ = tmux(["send-keys", "-t", session] + keys)
    }

    /// Types text literally.
    func type(_ text: String) {
        _ = tmux(["send-keys", "-t", session, "-l", text])
    }

    func resize(cols: Int, rows: Int) {
        _ = tmux(["resize-window", "-t", session, "-x", "\(cols)", "-y", "\(rows)"])
    }

    /// The pane with its SGR escape sequences (colors, bold, reverse).
    func captureWithEscapes() -> String {
        tmux(["capture-pane", "-p", "-e", "-t", session], captureOutput: true).output
    }

    func capture() -> String {
        tmux(["capture-pane", "-p", "-t", session], captureOutput: true).output
    }

    var panePID: pid_t? {
        pid_t(tmux(["list-panes", "-t", session, "-F", "#{pane_pid}"], captureOutput: true).output
            .trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Polls the pane every 30 ms until `condition` holds on the capture; returns that capture.
    @discardableResult
    func waitFor(_ what: String, timeout: Double = 30, _ condition: (String) -> Bool) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var last = ""
        while Date() < deadline {
            last = capture()
            if condition(last) { return last }
            usleep(30_000)
        }
        throw Failure(description: "timed out after \(timeout) s waiting for \(what); the screen was:\n\(last)")
    }

    @discardableResult
    func waitFor(_ text: String, timeout: Double = 30) throws -> String {
        try waitFor("'\(text)'", timeout: timeout) { $0.contains(text) }
    }

    /// The first capture group of `pattern` on the screen, if it matches.
    static func match(_ pattern: String, in text: String) -> String? {
        guard let re = try? NSRegularExpression(pattern: pattern),
              let m = re.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
              m.numberOfRanges > 1, let r = Range(m.range(at: 1), in: text) else { return nil }
        return String(text[r])
    }

    /// Kills the server and removes its socket file (tmux 3.3 leaves it behind).
    func kill() {
        _ = tmux(["kill-server"])
        let dir = ProcessInfo.processInfo.environment["TMUX_TMPDIR"] ?? "/tmp"
        unlink("\(dir)/tmux-\(getuid())/\(socket)")
    }

    @discardableResult
    func tmux(_ args: [String], captureOutput: Bool = false) -> (status: Int32, output: String) {
        spawnAndWait(["tmux", "-L", socket, "-f", "/dev/null"] + args, captureOutput: captureOutput)
    }
}

/// posix_spawn with an empty signal mask and default handlers; stdin/stderr (and stdout unless
/// captured) go to /dev/null, so a forked tmux server holds no pipe of ours.
func spawnAndWait(_ argv: [String], captureOutput: Bool) -> (status: Int32, output: String) {
    var attr = posix_spawnattr_t()
    posix_spawnattr_init(&attr)
    defer { posix_spawnattr_destroy(&attr) }
    var empty = sigset_t()
    sigemptyset(&empty)
    posix_spawnattr_setsigmask(&attr, &empty)
    var defaults = sigset_t()
    sigemptyset(&defaults)
    for sig in [SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGPIPE, SIGCHLD, SIGWINCH, SIGUSR1, SIGUSR2, SIGALRM] {
        sigaddset(&defaults, sig)
    }
    posix_spawnattr_setsigdefault(&attr, &defaults)
    posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    var fds: [Int32] = [-1, -1]
    if captureOutput { _ = pipe(&fds) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    if captureOutput {
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_addclose(&actions, fds[0])
        posix_spawn_file_actions_addclose(&actions, fds[1])
    } else {
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    }
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)

    var environment = ProcessInfo.processInfo.environment
    environment["TMUX"] = nil
    if environment["TERM"] == nil || environment["TERM"] == "dumb" { environment["TERM"] = "xterm-256color" }
    let cArgs = argv.map { strdup($0) } + [nil]
    let cEnv = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { (cArgs + cEnv).forEach { free($0) } }

    var pid: pid_t = 0
    let rc = posix_spawnp(&pid, argv[0], &actions, &attr, cArgs, cEnv)
    if captureOutput { close(fds[1]) }
    guard rc == 0 else {
        if captureOutput { close(fds[0]) }
        return (-1, "")
    }
    var output = Data()
    if captureOutput {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fds[0], &buffer, buffer.count)
            if n > 0 { output.append(contentsOf: buffer[0..<n]) }
            else if n < 0 && errno == EINTR { continue }
            else { break }
        }
        close(fds[0])
    }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let exit = (status & 0x7f) == 0 ? (status >> 8) & 0xff : -1
    return (exit, String(decoding: output, as: UTF8.self))
}

/// The `lipscope` binary `swift test` built next to the test bundle.
func lipscopeBinary() -> String? {
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = dir.appendingPathComponent("lipscope").path
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory), !isDirectory.boolValue,
           FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        dir = dir.deletingLastPathComponent()
    }
    return nil
}

func tmuxAvailable() -> Bool {
    spawnAndWait(["tmux", "-V"], captureOutput: true).status == 0
}
