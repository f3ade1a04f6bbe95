import Foundation
import LipscopeEngine

/// Where a key binding applies: the screen (mode) the workbench is in.
public enum KeyScope: String, Sendable, CaseIterable {
    case main, help, browser, prompt, confirmQuit, train

    init(_ mode: Mode) {
        switch mode {
        case .main: self = .main
        case .help: self = .help
        case .browser: self = .browser
        case .prompt, .note: self = .prompt
        case .confirmQuit: self = .confirmQuit
        case .trainForm: self = .train
        }
    }

    /// The help screen's heading of the scope's bindings.
    public var heading: String {
        switch self {
        case .main: "Workbench"
        case .help: "Help"
        case .browser: "File browser (o, O)"
        case .prompt: "Save and note prompts (w, a)"
        case .confirmQuit: "Quit while running"
        case .train: "Train form (t)"
        }
    }
}

/// One key binding (bubbletea's key.Binding): the keys, what the help says, where it applies,
/// its slot in the bottom bar, and the action. `Keymap.all` drives the key handling, the help
/// screen and the bottom bar, so the three cannot disagree.
public struct KeyBinding: Sendable {
    public enum Match: Sendable, Equatable {
        case keys([Key])
        /// Any printable character (typing, letter jumps), described in the help as given.
        case anyCharacter(String)
        /// Any key at all, described as given.
        case anyKey(String)
    }

    public var match: Match
    public var scope: KeyScope
    public var help: String
    /// The bottom bar's key glyph and label, for the few bindings shown there.
    public var bar: (key: String, label: String)?
    /// Whether the binding does something in a state (bubbletea's enabled): the bottom bar dims
    /// the others. Pressing a disabled key still runs the action, which says why nothing happens.
    public var enabled: @Sendable (WorkbenchState) -> Bool
    public var action: @Sendable (inout WorkbenchState, Key) -> [Effect]

    public init(_ match: Match, _ scope: KeyScope, _ help: String, bar: (key: String, label: String)? = nil,
                enabled: @escaping @Sendable (WorkbenchState) -> Bool = { _ in true },
                _ action: @escaping @Sendable (inout WorkbenchState, Key) -> [Effect]) {
        self.match = match; self.scope = scope; self.help = help; self.bar = bar; self.enabled = enabled; self.action = action
    }

    /// How the help screen names the keys ("? F1", "↑ ↓").
    public var keysText: String {
        switch match {
        case .keys(let keys): keys.map(\.label).joined(separator: " ")
        case .anyCharacter(let text), .anyKey(let text): text
        }
    }

    public func matches(_ key: Key) -> Bool {
        switch match {
        case .keys(let keys): keys.contains(key)
        case .anyCharacter: if case .char = key { true } else { false }
        case .anyKey: true
        }
    }
}

extension Key {
    /// The key's name in the help screen.
    public var label: String {
        switch self {
        case .char(" "): "Space"
        case .char(let c): String(c)
        case .enter: "Enter"
        case .escape: "Esc"
        case .backspace: "Backspace"
        case .tab: "Tab"
        case .backTab: "S-Tab"
        case .up: "↑"
        case .down: "↓"
        case .left: "←"
        case .right: "→"
        case .pageUp: "PgUp"
        case .pageDown: "PgDn"
        case .home: "Home"
        case .end: "End"
        case .function(let n): "F\(n)"
        case .ctrl(let c): "C-\(c)"
        }
    }
}

/// Every key binding of the workbench, in help order (within a scope, the first match wins).
public enum Keymap {
    /// The option keys kept from before options were declared per method: each cycles the
    /// selected method's option of that name.
    public static let optionShortcuts: [(key: Character, option: String)] = [("k", "cliques"), ("b", "solver"), ("d", "chordal")]

    public static let all: [KeyBinding] = main + help + browser + prompt + confirmQuit + train

    static let main: [KeyBinding] = [
        KeyBinding(.keys([.char("?"), .function(1)]), .main, "help; any key closes it", bar: ("F1", "Help")) { s, _ in
            s.mode = .help; return []
        },
        KeyBinding(.keys([.char("o")]), .main, "open a network file", bar: ("o", "Open")) { s, _ in Update.openBrowser(&s, .network) },
        KeyBinding(.keys([.char("O")]), .main, "reopen a session log") { s, _ in Update.openBrowser(&s, .session) },
        KeyBinding(.keys([.enter]), .main, "run the selected method", bar: ("⏎", "Run"),
                   enabled: { !$0.isRunning && $0.currentMethod != nil }) { s, _ in Update.run(&s) },
        KeyBinding(.keys([.escape, .char("c")]), .main, "cancel run and sweep", bar: ("c", "Cancel"),
                   enabled: { $0.isRunning }) { s, _ in Update.cancel(&s) },
        KeyBinding(.keys([.up, .down]), .main, "choose a method (or row)") { s, key in
            Update.move(&s, key == .up ? -1 : 1, compare: s.focus == .compare)
        },
        KeyBinding(.keys([.tab, .backTab]), .main, "focus Run ↔ Compare rows") { s, _ in Update.toggleFocus(&s) },
        KeyBinding(.keys([.pageUp, .pageDown]), .main, "jump five Compare rows") { s, key in
            Update.move(&s, key == .pageUp ? -5 : 5, compare: true)
        },
        KeyBinding(.keys([.char("n")]), .main, "norm ℓ2 ↔ ℓ∞", bar: ("n", "Norm")) { s, _ in Update.toggleNorm(&s) },
        KeyBinding(.keys([.char("+"), .char("="), .right, .char("-"), .left]), .main, "degree up / down",
                   bar: ("±", "Degree"),
                   enabled: { s in s.currentMethod.flatMap { s.minimumDegrees[$0] } != nil }) { s, key in
            Update.changeDegree(&s, [.char("-"), .left].contains(key) ? -1 : +1); return []
        },
        KeyBinding(.keys([.char("["), .char("]")]), .main, "output: all, 0, 1, …") { s, key in Update.cycleOutput(&s, forward: key == .char("]")) },
    ] + optionShortcuts.map { shortcut in
        KeyBinding(.keys([.char(shortcut.key)]), .main, "cycle the \(shortcut.option) option") { s, _ in
            Update.cycleOption(&s, named: shortcut.option)
        }
    } + [
        KeyBinding(.keys([.char(","), .char(".")]), .main, "pick an option ([ ] on it)") { s, key in
            Update.moveOptionCursor(&s, key == .char(",") ? -1 : 1)
        },
        KeyBinding(.keys([.char("<"), .char(">")]), .main, "its previous / next value") { s, key in
            Update.stepOption(&s, up: key == .char(">"))
        },
        KeyBinding(.keys([.char("x")]), .main, "reset it to the default") { s, _ in Update.resetOption(&s) },
        KeyBinding(.keys([.char("l")]), .main, "load a region: a center point or a .vnnlib property") { s, _ in
            Update.openRegionBrowser(&s)
        },
        KeyBinding(.keys([.char("g")]), .main, "region: global ↔ local (ball or box)") { s, _ in Update.toggleRegion(&s); return [] },
        KeyBinding(.keys([.char("{"), .char("}")]), .main, "region radius down / up") { s, key in
            Update.stepRadius(&s, up: key == .char("}")); return []
        },
        KeyBinding(.keys([.char("L")]), .main, "label to certify: 0, 1, …") { s, _ in Update.cycleLabel(&s); return [] },
        // Not in the bottom bar: it is full at 80 columns; the help lists it by the region keys.
        KeyBinding(.keys([.char("v")]), .main, "verify: certify the label",
                   enabled: { s in !s.isRunning && s.region.active && s.region.label != nil }) { s, _ in Update.startCertify(&s) },
        KeyBinding(.keys([.char("s")]), .main, "degree sweep (stops at p*)", bar: ("s", "Sweep"),
                   enabled: { s in !s.isRunning && s.currentMethod.flatMap { s.minimumDegrees[$0] } != nil }) { s, _ in
            Update.startSweep(&s)
        },
        KeyBinding(.keys([.char("p")]), .main, "plot convergence ↔ sweep") { s, _ in Update.togglePlot(&s); return [] },
        KeyBinding(.keys([.char("t")]), .main, "train an implicit network on digits", bar: ("t", "Train"),
                   enabled: { !$0.isRunning }) { s, _ in Update.openTrainForm(&s) },
        KeyBinding(.keys([.char("S")]), .main, "sort Compare: run, bound, time") { s, _ in
            Update.cycleSort(&s); return []
        },
        KeyBinding(.keys([.char("w")]), .main, "save log copy + report", bar: ("w", "Save"),
                   enabled: { $0.sessionLog != nil }) { s, _ in
            s.mode = .prompt(text: SessionStore.sanitize(s.network?.summary.name ?? "session")); return []
        },
        KeyBinding(.keys([.char("a")]), .main, "note in the session log") { s, _ in s.mode = .note(text: ""); return [] },
        KeyBinding(.keys([.char("q"), .ctrl("c")]), .main, "quit (asks while running)", bar: ("q", "Quit")) { s, _ in Update.quit(&s) },
    ]

    static let help: [KeyBinding] = [
        KeyBinding(.anyKey("any key"), .help, "close the help") { s, _ in s.mode = .main; return [] },
    ]

    static let browser: [KeyBinding] = [
        KeyBinding(.keys([.up, .down, .pageUp, .pageDown, .home, .end]), .browser, "move") { s, key in Update.browserMove(&s, key); return [] },
        KeyBinding(.keys([.enter, .right]), .browser, "open the file or directory") { s, _ in Update.browserOpen(&s) },
        KeyBinding(.keys([.backspace, .left]), .browser, "parent directory") { s, _ in Update.browserParent(&s) },
        KeyBinding(.keys([.escape, .char("q")]), .browser, "close the browser") { s, _ in s.mode = .main; return [] },
        KeyBinding(.anyCharacter("a–z 0–9"), .browser, "jump to the next entry starting with it") { s, key in Update.browserJump(&s, key); return [] },
    ]

    static let prompt: [KeyBinding] = [
        KeyBinding(.keys([.enter]), .prompt, "save (name prompt) or add the note") { s, _ in Update.promptSubmit(&s) },
        KeyBinding(.keys([.escape]), .prompt, "cancel") { s, _ in Update.promptCancel(&s); return [] },
        KeyBinding(.keys([.backspace]), .prompt, "delete the last character") { s, _ in Update.promptEdit(&s, nil); return [] },
        KeyBinding(.anyCharacter("text"), .prompt, "type the name or note") { s, key in
            if case .char(let c) = key { Update.promptEdit(&s, c) }
            return []
        },
    ]

    static let train: [KeyBinding] = [
        KeyBinding(.keys([.up, .down, .tab, .backTab]), .train, "choose a setting") { s, key in
            Update.moveTrainCursor(&s, [.up, .backTab].contains(key) ? -1 : 1); return []
        },
        KeyBinding(.keys([.right, .char(">"), .char("+"), .char("="), .left, .char("<"), .char("-")]), .train, "its next / previous value") { s, key in
            Update.stepTrainField(&s, up: [.right, .char(">"), .char("+"), .char("=")].contains(key)); return []
        },
        KeyBinding(.keys([.char("x")]), .train, "reset it to the default") { s, _ in Update.resetTrainField(&s); return [] },
        KeyBinding(.keys([.enter, .char("t")]), .train, "start training") { s, _ in Update.startTraining(&s) },
        KeyBinding(.keys([.escape, .char("q")]), .train, "close the form") { s, _ in
            s.mode = .main; Update.info(&s, "training not started"); return []
        },
    ]

    static let confirmQuit: [KeyBinding] = [
        KeyBinding(.keys([.char("y"), .char("Y"), .char("q")]), .confirmQuit, "quit and cancel the run") { s, _ in Update.confirmQuit(&s) },
        KeyBinding(.anyKey("any other key"), .confirmQuit, "keep working") { s, _ in
            s.mode = .main
            Update.info(&s, "not quitting")
            return []
        },
    ]

    /// The bindings of one scope, in order.
    public static func bindings(_ scope: KeyScope) -> [KeyBinding] { all.filter { $0.scope == scope } }

    /// The first binding of the state's scope that matches the key.
    public static func binding(for key: Key, in state: WorkbenchState) -> KeyBinding? {
        let scope = KeyScope(state.mode)
        return all.first { $0.scope == scope && $0.matches(key) }
    }

    /// The bottom bar: the bindings that have a slot there, in order.
    public static var bar: [(key: String, label: String)] { all.compactMap(\.bar) }

    /// The bottom bar in a state: each slot and whether its binding does something now.
    public static func bar(in state: WorkbenchState) -> [(key: String, label: String, enabled: Bool)] {
        all.filter { $0.scope == .main }.compactMap { b in b.bar.map { ($0.key, $0.label, b.enabled(state)) } }
    }
}
