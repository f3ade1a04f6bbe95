import CNcurses
import Foundation

/// The curses side: init/teardown, key decoding, and blitting a `ScreenBuffer`. Main thread only.
final class CursesTerminal {
    enum Input { case key(Key), resized(rows: Int, cols: Int) }

    private let win: UnsafeMutablePointer<WINDOW>?
    private(set) var colors = false
    /// The terminal, on a descriptor of its own: descriptor 1 points at /dev/null while the
    /// screen is up, because DSDP prints to stdout unconditionally ("Trying Sparse M: …") and
    /// would scribble over the screen.
    private let screenFD: Int32
    private let screenFile: UnsafeMutablePointer<FILE>?
    private var pairs: [Style.Role: Int16] = [:]

    init() {
        _ = cn_setup_utf8_locale()
        screenFD = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3)
        screenFile = screenFD >= 0 ? fdopen(screenFD, "w") : nil
        if let screenFile, let screen = cn_newterm_on(screenFile) {
            win = screen
            fflush(nil)
            let null = open("/dev/null", O_WRONLY)
            if null >= 0 { dup2(null, STDOUT_FILENO); close(null) }
        } else {
            win = initscr()
        }
        raw()
        noecho()
        keypad(win, true)
        nodelay(win, true)
        set_escdelay(25)
        curs_set(0)
        if has_colors() {
            start_color()
            use_default_colors()
            colors = true
            let table: [(Style.Role, Int16, Int16)] = [
                (.title, Int16(COLOR_CYAN), -1), (.accent, Int16(COLOR_YELLOW), -1), (.good, Int16(COLOR_GREEN), -1),
                (.bad, Int16(COLOR_RED), -1), (.warn, Int16(COLOR_MAGENTA), -1), (.selection, Int16(COLOR_CYAN), -1),
                (.bar, Int16(COLOR_BLUE), -1), (.lower, Int16(COLOR_RED), -1),
            ]
            for (k, entry) in table.enumerated() {
                init_pair(Int16(k + 1), entry.1, entry.2)
                pairs[entry.0] = Int16(k + 1)
            }
        }
    }

    var rows: Int { Int(getmaxy(win)) }
    var cols: Int { Int(getmaxx(win)) }

    func end() {
        endwin()
        // Give descriptor 1 back to the terminal for whatever the program prints after the workbench.
        if let screenFile {
            // Solver chatter buffered while descriptor 1 was /dev/null goes there, not to the terminal.
            fflush(nil)
            fflush(screenFile)
            dup2(screenFD, STDOUT_FILENO)
        }
    }

    func resized() {
        clearok(win, true)
    }

    /// The next key or resize, or nil when there is no input pending.
    func readKey() -> Input? {
        var ch: wint_t = 0
        let r = wget_wch(win, &ch)
        if r == ERR { return nil }
        if r == KEY_CODE_YES {
            let code = Int32(ch)
            switch code {
            case KEY_RESIZE: return .resized(rows: rows, cols: cols)
            case KEY_UP: return .key(.up)
            case KEY_DOWN: return .key(.down)
            case KEY_LEFT: return .key(.left)
            case KEY_RIGHT: return .key(.right)
            case KEY_PPAGE: return .key(.pageUp)
            case KEY_NPAGE: return .key(.pageDown)
            case KEY_HOME: return .key(.home)
            case KEY_END: return .key(.end)
            case KEY_BACKSPACE: return .key(.backspace)
            case KEY_ENTER: return .key(.enter)
            case KEY_BTAB: return .key(.backTab)
            default:
                for n in 1...12 where code == cn_KEY_F(Int32(n)) { return .key(.function(n)) }
                return readKey()
            }
        }
        switch ch {
        case 10, 13: return .key(.enter)
        case 27: return .key(.escape)
        case 9: return .key(.tab)
        case 8, 127: return .key(.backspace)
        case 1...26: return .key(.ctrl(Character(Unicode.Scalar(UInt8(ch) + 96))))
        default:
            guard let scalar = Unicode.Scalar(UInt32(ch)) else { return readKey() }
            return .key(.char(Character(scalar)))
        }
    }

    private func attributes(_ style: Style) -> (attr_t, Int16) {
        var attr = cn_A_NORMAL()
        if style.bold { attr |= cn_A_BOLD() }
        if style.reverse { attr |= cn_A_REVERSE() }
        if colors {
            if style.role == .muted { attr |= cn_A_DIM() }
            return (attr, pairs[style.role] ?? 0)
        }
        switch style.role {
        case .muted: attr |= cn_A_DIM()
        case .bad, .lower, .accent, .title: attr |= cn_A_BOLD()
        default: break
        }
        return (attr, 0)
    }

    /// Writes the whole buffer; curses sends only what changed.
    func draw(_ screen: ScreenBuffer) {
        werase(win)
        let maxRow = min(screen.rows, rows), maxCol = min(screen.cols, cols)
        for r in 0..<maxRow {
            var c = 0
            while c < maxCol {
                let style = screen[r, c].style
                var run = ""
                let start = c
                // The bottom-right cell would scroll the screen: leave it out.
                let end = r == rows - 1 ? maxCol - 1 : maxCol
                while c < end && screen[r, c].style == style {
                    run.append(screen[r, c].char)
                    c += 1
                }
                if c == start { c += 1; continue }
                let (attr, pair) = attributes(style)
                wattr_set(win, attr, pair, nil)
                _ = mvwaddstr(win, Int32(r), Int32(start), run)
            }
        }
        wattr_set(win, cn_A_NORMAL(), 0, nil)
        wnoutrefresh(win)
        doupdate()
    }
}
