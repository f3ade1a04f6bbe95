/// How a cell is drawn. Colors are roles; the curses backend maps them to pairs when the
/// terminal has colors and to attributes (bold/dim/reverse) when it does not.
public struct Style: Hashable, Sendable {
    public enum Role: UInt8, Sendable, CaseIterable {
        case normal, title, accent, good, bad, warn, muted, selection, bar, lower
    }
    public var role: Role
    public var bold: Bool
    public var reverse: Bool

    public init(_ role: Role = .normal, bold: Bool = false, reverse: Bool = false) {
        self.role = role; self.bold = bold; self.reverse = reverse
    }

    public static let normal = Style()
    public static let title = Style(.title, bold: true)
    public static let accent = Style(.accent, bold: true)
    public static let good = Style(.good)
    public static let bad = Style(.bad, bold: true)
    public static let warn = Style(.warn)
    public static let muted = Style(.muted)
    public static let selected = Style(.selection, reverse: true)
    public static let bar = Style(.bar)
    public static let lower = Style(.lower, bold: true)
}

public struct Cell: Equatable, Sendable {
    public var char: Character
    public var style: Style
    public init(_ char: Character = " ", _ style: Style = .normal) { self.char = char; self.style = style }
}

/// A rows × cols grid the views draw into; every write is clipped, so no view can draw out
/// of bounds at any size. Every character occupies one cell (the views use only box drawing,
/// block, braille and Latin/Greek letters).
public struct ScreenBuffer: Sendable, Equatable {
    public let rows: Int
    public let cols: Int
    public private(set) var cells: [Cell]

    public init(rows: Int, cols: Int) {
        self.rows = max(0, rows); self.cols = max(0, cols)
        cells = Array(repeating: Cell(), count: self.rows * self.cols)
    }

    public subscript(row: Int, col: Int) -> Cell {
        get { cells[row * cols + col] }
        set { cells[row * cols + col] = newValue }
    }

    public mutating func set(_ row: Int, _ col: Int, _ char: Character, _ style: Style = .normal) {
        guard row >= 0, row < rows, col >= 0, col < cols else { return }
        cells[row * cols + col] = Cell(Self.cellSafe(char), style)
    }

    /// Writes text from (row, col), at most `width` cells (default: to the right edge).
    /// Returns the column after the last cell written.
    @discardableResult
    public mutating func text(_ row: Int, _ col: Int, _ s: String, _ style: Style = .normal, width: Int? = nil) -> Int {
        var c = col
        let limit = width.map { min(cols, col + $0) } ?? cols
        for ch in s {
            if c >= limit { break }
            set(row, c, ch, style)
            c += 1
        }
        return c
    }

    public mutating func fill(_ row: Int, _ col: Int, height: Int, width: Int, _ char: Character = " ", _ style: Style = .normal) {
        for r in row..<(row + max(0, height)) {
            for c in col..<(col + max(0, width)) { set(r, c, char, style) }
        }
    }

    /// A single-line box with a title in the top border.
    public mutating func box(_ rect: Rect, title: String = "", style: Style = .muted, titleStyle: Style = .title) {
        guard rect.height >= 2, rect.width >= 2 else { return }
        let top = rect.row, left = rect.col, bottom = rect.row + rect.height - 1, right = rect.col + rect.width - 1
        for c in left...right { set(top, c, "─", style); set(bottom, c, "─", style) }
        for r in top...bottom { set(r, left, "│", style); set(r, right, "│", style) }
        set(top, left, "┌", style); set(top, right, "┐", style)
        set(bottom, left, "└", style); set(bottom, right, "┘", style)
        if !title.isEmpty, rect.width > 4 {
            text(top, left + 1, " " + title + " ", titleStyle, width: rect.width - 2)
        }
    }

    /// The text of one row (trailing spaces removed).
    public func line(_ row: Int) -> String {
        var s = String((0..<cols).map { self[row, $0].char })
        while s.last == " " { s.removeLast() }
        return s
    }

    public var lines: [String] { (0..<rows).map(line) }

    /// All rows joined by newlines: what `tmux capture-pane -p` would show.
    public var text: String { lines.joined(separator: "\n") }

    /// Replaces control characters and characters that are not one cell wide.
    static func cellSafe(_ ch: Character) -> Character {
        guard let scalar = ch.unicodeScalars.first else { return " " }
        if scalar.value < 0x20 || scalar.value == 0x7F { return "?" }
        if ch.unicodeScalars.count > 1 { return Character(scalar) }
        // East Asian wide and emoji ranges take two cells: show a placeholder.
        let v = scalar.value
        if (0x1100...0x115F).contains(v) || (0x2E80...0xA4CF).contains(v) || (0xAC00...0xD7A3).contains(v)
            || (0xF900...0xFAFF).contains(v) || (0xFE30...0xFE4F).contains(v) || (0xFF00...0xFF60).contains(v)
            || (0xFFE0...0xFFE6).contains(v) || (0x1F300...0x1FAFF).contains(v) || (0x20000...0x3FFFD).contains(v) {
            return "?"
        }
        return ch
    }
}

public struct Rect: Equatable, Sendable {
    public var row: Int, col: Int, height: Int, width: Int
    public init(row: Int, col: Int, height: Int, width: Int) {
        self.row = row; self.col = col; self.height = height; self.width = width
    }
    /// The inside of a box drawn on this rect.
    public var inner: Rect { Rect(row: row + 1, col: col + 1, height: max(0, height - 2), width: max(0, width - 2)) }
}
