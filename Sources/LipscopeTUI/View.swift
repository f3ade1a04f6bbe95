import Foundation
import LipscopeEngine

/// Draws the state into a screen buffer. No curses here: tests read the buffer as text.
public enum View {
    public static let minimumRows = 24
    public static let minimumCols = 80

    /// Where the panes go at a given size.
    public struct Layout: Equatable, Sendable {
        public var network: Rect
        public var run: Rect
        public var live: Rect
        public var compare: Rect
        public var messageRow: Int
        public var barRow: Int

        public init(rows: Int, cols: Int) {
            let body = max(0, rows - 3)
            let top = min(12, max(8, body * 3 / 10))
            let compare = min(14, max(6, body * 3 / 10))
            let live = max(0, body - top - compare)
            let left = max(30, cols * 2 / 5)
            network = Rect(row: 1, col: 0, height: top, width: left)
            run = Rect(row: 1, col: left, height: top, width: max(0, cols - left))
            self.live = Rect(row: 1 + top, col: 0, height: live, width: cols)
            self.compare = Rect(row: 1 + top + live, col: 0, height: compare, width: cols)
            messageRow = rows - 2
            barRow = rows - 1
        }
    }

    public static func render(_ s: WorkbenchState) -> ScreenBuffer {
        var screen = ScreenBuffer(rows: s.rows, cols: s.cols)
        if s.rows < 12 || s.cols < 40 {
            screen.text(0, 0, "lipscope: terminal \(s.cols)×\(s.rows)", .bad)
            screen.text(1, 0, "needs at least \(minimumCols)×\(minimumRows)", .normal)
            screen.text(2, 0, "q quits", .muted)
            return screen
        }
        let layout = Layout(rows: s.rows, cols: s.cols)
        titleBar(&screen, s)
        networkPane(&screen, s, layout.network)
        runPane(&screen, s, layout.run)
        livePane(&screen, s, layout.live)
        comparePane(&screen, s, layout.compare)
        messageLine(&screen, s, layout.messageRow)
        bottomBar(&screen, s, layout.barRow)
        switch s.mode {
        case .help: helpScreen(&screen, s)
        case .browser(let b): browserOverlay(&screen, s, b)
        case .trainForm: trainFormOverlay(&screen, s)
        default: break
        }
        return screen
    }

    // MARK: - Title, message, bar

    static func titleBar(_ screen: inout ScreenBuffer, _ s: WorkbenchState) {
        let style = Style(.title, bold: true, reverse: true)
        screen.fill(0, 0, height: 1, width: s.cols, " ", style)
        var left = " lipscope \(LipscopeVersion.string)"
        if let net = s.network { left += " │ \(net.summary.name)" }
        if let log = s.sessionLog { left += " │ log \(relative(log, s.workingDirectory))" }
        var right = ""
        if let run = s.active {
            let elapsed = max(run.iterations.last?.elapsed ?? 0, s.clock - run.startedAt)
            right = run.cancelling ? "cancelling… " : "● running \(Format.seconds(elapsed)) "
        } else if let t = s.runningTraining {
            let elapsed = max(t.view.iterations.last?.elapsed ?? 0, s.clock - t.view.startedAt)
            right = t.view.cancelling ? "cancelling… " : "● training \(Format.seconds(elapsed)) "
        } else if s.rows < minimumRows || s.cols < minimumCols {
            right = "small terminal: \(s.cols)×\(s.rows) "
        }
        screen.text(0, 0, left, style, width: max(0, s.cols - right.count - 1))
        screen.text(0, s.cols - right.count, right, style)
    }

    static func messageLine(_ screen: inout ScreenBuffer, _ s: WorkbenchState, _ row: Int) {
        switch s.mode {
        case .prompt(let text):
            let end = screen.text(row, 0, "Save session as: ", .accent)
            let after = screen.text(row, end, text, .normal)
            screen.set(row, after, " ", .selected)
            screen.text(row, after + 2, "(Enter saves a copy + Markdown report, Esc cancels)", .muted)
        case .note(let text):
            let end = screen.text(row, 0, "Note: ", .accent)
            let shown = String(text.suffix(max(0, s.cols - end - 40)))
            let after = screen.text(row, end, shown, .normal)
            screen.set(row, after, " ", .selected)
            screen.text(row, after + 2, "(Enter adds it to the session log, Esc discards)", .muted)
        case .confirmQuit:
            screen.text(row, 0, s.runningTraining != nil ? "Training is running. Quit anyway (it will be cancelled)? y/n"
                        : "A run is active. Quit anyway (it will be cancelled)? y/n", .bad)
        default:
            if let m = s.message {
                screen.text(row, 0, m.text, m.isError ? .bad : .normal)
            }
        }
    }

    /// htop's bar: the keys in bold; the labels of keys that do nothing now are dimmed.
    static func bottomBar(_ screen: inout ScreenBuffer, _ s: WorkbenchState, _ row: Int) {
        var col = 0
        for (key, label, enabled) in Keymap.bar(in: s) {
            col = screen.text(row, col, key, enabled ? Style(.normal, bold: true) : .muted)
            col = screen.text(row, col, Format.pad(label, max(label.count + 1, 6)), Style(enabled ? .selection : .muted, reverse: true))
        }
        screen.fill(row, col, height: 1, width: screen.cols - col, " ", Style(.selection, reverse: true))
    }

    static func relative(_ path: String, _ base: String) -> String {
        let prefix = base.hasSuffix("/") ? base : base + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
    }

    // MARK: - Network pane

    static func networkPane(_ screen: inout ScreenBuffer, _ s: WorkbenchState, _ rect: Rect) {
        screen.box(rect, title: "Network")
        let inner = rect.inner
        guard let net = s.network else {
            screen.text(inner.row, inner.col, "no network loaded", .muted, width: inner.width)
            screen.text(inner.row + 1, inner.col, "o opens a file (.json, .nnet, …)", .muted, width: inner.width)
            return
        }
        let m = net.summary
        var lines: [(String, String, Style)] = [
            ("", "\(m.name) (\(m.kind))", Style(.accent, bold: true)),
            ("sizes ", m.sizes.map(String.init).joined(separator: "→") + (m.kind == "implicit" ? " (in→state→out)" : m.kind == "graph" ? " (in, nodes)" : ""), .normal),
            ("act   ", compressActivations(m.activations), .normal),
            // Where local runs look (l loads, g toggles, { } radius).
            ("region", " " + s.region.description + (s.region.active ? s.region.label.map { ", label \($0)" } ?? "" : ""),
             s.region.active ? Style(.accent, bold: true) : .muted),
        ]
        if let mu = m.muInf {
            lines.append(("μ∞(A) ", Format.number(mu) + (m.bestWeightedMu.map { "  best μη \(Format.number($0))" } ?? ""), .normal))
            let posed = m.wellPosed == true ? "yes (weighted ℓ∞ contraction)" : "not shown by contraction"
            lines.append(("posed ", posed, m.wellPosed == true ? .good : .warn))
        }
        let density = m.parameters > 0 ? Double(m.nonzeros) / Double(m.parameters) : 1
        lines.append(("params", " \(m.parameters), nnz \(m.nonzeros) (\(Int((density * 100).rounded()))%)", .normal))
        lines.append(("sparse", " \(m.sparseLayers) layers, \(m.hiddenNeurons) hidden neurons", .normal))
        lines.append(("file  ", relative(net.path, s.workingDirectory), .muted))
        for note in m.notes { lines.append(("note  ", note, .warn)) }
        for (k, line) in lines.prefix(inner.height).enumerated() {
            let c = screen.text(inner.row + k, inner.col, line.0, .muted, width: inner.width)
            screen.text(inner.row + k, c, line.1, line.2, width: inner.width - (c - inner.col))
        }
    }

    /// "relu, relu, relu, identity" → "relu×3, identity".
    static func compressActivations(_ acts: [String]) -> String {
        var parts: [String] = []
        var i = 0
        while i < acts.count {
            var j = i
            while j + 1 < acts.count && acts[j + 1] == acts[i] { j += 1 }
            parts.append(j > i ? "\(acts[i])×\(j - i + 1)" : acts[i])
            i = j + 1
        }
        return parts.joined(separator: ", ")
    }

    // MARK: - Run pane

    static func runPane(_ screen: inout ScreenBuffer, _ s: WorkbenchState, _ rect: Rect) {
        let focused = s.focus == .run
        screen.box(rect, title: s.checking ? "Run (checking methods…)" : "Run", style: focused ? .normal : .muted,
                   titleStyle: focused ? .accent : .title)
        let inner = rect.inner
        guard inner.height >= 3 else { return }
        // Below the list: the run settings, then the selected method's options (as many lines
        // as the longest option list of the listed methods needs, so the list does not jump).
        let optionRoom = inner.height >= 8 ? 3 : inner.height >= 5 ? 2 : 1
        let optionLines = min(optionRoom, s.applicable.map { optionLayout(s, $0, width: inner.width).count }.max() ?? 0)
        let listHeight = max(1, inner.height - 1 - optionLines)
        if s.network == nil {
            screen.text(inner.row, inner.col, "load a network first (o)", .muted, width: inner.width)
        } else if s.applicable.isEmpty {
            if s.checking {
                screen.text(inner.row, inner.col, "checking which methods apply…", .muted, width: inner.width)
            } else {
                screen.text(inner.row, inner.col, "no method applies in \(s.norm.symbol) (n toggles the norm)", .warn, width: inner.width)
            }
        } else {
            let first = min(max(0, s.selected - listHeight / 2), max(0, s.applicable.count - listHeight))
            for (k, index) in s.applicable.enumerated().dropFirst(first).prefix(listHeight) {
                let method = s.methods[index]
                let row = inner.row + k - first
                let isSelected = k == s.selected
                let minDegree = s.minimumDegrees[index]
                let tag = method.kind == .lower ? "lower" : method.kind == .exact ? "exact" : "upper"
                // The predicted time, marked "!" over the budget (⏎ then asks once more).
                let overBudget = s.isOverBudget(index)
                let cost = s.predictions[index].map { Presentation.estimate($0.seconds) + (overBudget ? "! " : " ") } ?? ""
                let right = cost + (minDegree.map { "d≥\($0) " } ?? "") + tag
                let labelWidth = max(4, inner.width - right.count - 3)
                let text = (isSelected ? "▸ " : "  ") + Format.pad(method.label, labelWidth) + " " + right
                screen.text(row, inner.col, Format.pad(text, inner.width),
                            isSelected ? (focused ? .selected : Style(.accent, bold: true)) : overBudget ? .warn : .normal,
                            width: inner.width)
            }
            // Scroll marks on the right border.
            if first > 0 { screen.set(inner.row, rect.col + rect.width - 1, "↑", .accent) }
            if first + listHeight < s.applicable.count { screen.set(inner.row + listHeight - 1, rect.col + rect.width - 1, "↓", .accent) }
        }
        let degreeText: String
        if let d = s.degree {
            let minimum = s.currentMethod.flatMap { s.minimumDegrees[$0] }
            degreeText = "\(d)" + (minimum.map { d == $0 ? " (min)" : " (min \($0))" } ?? "")
        } else {
            degreeText = "—"
        }
        let settings = "norm \(s.norm.symbol)  degree \(degreeText)  output \(s.output.map(String.init) ?? "all")  seed \(s.seed)"
        let settingsRow = inner.row + min(listHeight, inner.height - 1)
        screen.text(settingsRow, inner.col, settings, Style(.accent), width: inner.width)
        guard let m = s.currentMethod, optionLines > 0 else { return }
        let lines = optionLayout(s, m, width: inner.width)
        // Keep the line with the cursor in view.
        let cursorLine = lines.firstIndex { $0.contains { $0.focused } } ?? 0
        let firstLine = min(max(0, cursorLine - optionLines + 1), max(0, lines.count - optionLines))
        // More options above or below the lines shown: marks on the right border.
        if firstLine > 0 { screen.set(settingsRow + 1, rect.col + rect.width - 1, "↑", .accent) }
        if firstLine + optionLines < lines.count { screen.set(settingsRow + optionLines, rect.col + rect.width - 1, "↓", .accent) }
        for (k, line) in lines.dropFirst(firstLine).prefix(optionLines).enumerated() {
            var col = inner.col
            for token in line {
                let style: Style = token.focused && focused ? .selected : token.set ? Style(.accent, bold: true) : .muted
                col = screen.text(settingsRow + 1 + k, col, token.text, style, width: inner.col + inner.width - col)
                col += 2
            }
        }
    }

    struct OptionToken: Equatable {
        var text: String
        var set: Bool
        var focused: Bool
    }

    /// The method's shown options as tokens ("solver dsdp", "chordal on*", the cursor's in
    /// brackets) wrapped into lines of `width`.
    static func optionLayout(_ s: WorkbenchState, _ m: Int, width: Int) -> [[OptionToken]] {
        let method = s.methods[m]
        let shown = OptionControls.shown(method)
        guard !shown.isEmpty else { return [] }
        let cursor = m == s.currentMethod ? min(max(0, s.optionCursor), shown.count - 1) : -1
        let values = s.optionValues[method.id] ?? [:]
        var lines: [[OptionToken]] = [[]]
        var used = 0
        for (k, option) in shown.enumerated() {
            let text = OptionControls.token(option, values[option.key])
            let token = OptionToken(text: k == cursor ? "[\(text)]" : text, set: values[option.key] != nil, focused: k == cursor)
            let needed = token.text.count + (lines[lines.count - 1].isEmpty ? 0 : 2)
            if used + needed > width, !lines[lines.count - 1].isEmpty {
                lines.append([token])
                used = token.text.count
            } else {
                lines[lines.count - 1].append(token)
                used += needed
            }
        }
        return lines
    }

    // MARK: - Live pane

    static func livePane(_ screen: inout ScreenBuffer, _ s: WorkbenchState, _ rect: Rect) {
        guard rect.height >= 3 else { return }
        if s.active == nil, s.runningTraining == nil, s.showsCertify, let job = s.certify {
            certifyPane(&screen, s, job, rect)
            return
        }
        let run = s.liveRun
        var title = "Live"
        let training = s.training.flatMap { t in run?.id == t.id ? t : nil }
        if let t = training {
            title += ": #\(t.id) training " + "n \(t.parameters.hidden) γ \(t.parameters.gamma) λ \(t.parameters.lambda) \(t.parameters.parameterization.rawValue)"
            if let sum = t.summary {
                title += " — \(sum.status.rawValue), \(sum.epochs)/\(t.parameters.epochs) epochs, \(Format.seconds(sum.seconds))"
            } else {
                let elapsed = max(t.view.iterations.last?.elapsed ?? 0, s.clock - t.view.startedAt)
                title += t.view.cancelling ? " — cancelling…" : " — running \(Format.seconds(elapsed)), epoch \(t.view.iterationCount)/\(t.parameters.epochs)"
            }
        } else if let run {
            let p = run.parameters
            title += ": #\(run.id) \(p.label) \(p.norm.symbol)\(p.degree.map { " d=\($0)" } ?? "")\(p.output.map { " out \($0)" } ?? "")"
            if let r = run.result {
                title += " — \(r.status.rawValue), \(run.iterationCount) iterations, \(Format.seconds(r.seconds))"
                if p.replayedFrom != nil { title += " (replayed)" }
            } else {
                let elapsed = max(run.iterations.last?.elapsed ?? 0, s.clock - run.startedAt)
                title += run.cancelling ? " — cancelling…" : " — running \(Format.seconds(elapsed)), \(run.iterationCount) iterations"
            }
        }
        screen.box(rect, title: title, style: s.isRunning ? .normal : .muted, titleStyle: s.isRunning ? .accent : .title)
        let inner = rect.inner
        let showSweep = s.plot == .sweep && s.sweep != nil
        guard run != nil || showSweep else {
            let hint = s.network == nil ? "o opens a network; Enter runs the selected method"
                : "Enter runs \(s.currentMethod.map { s.methods[$0].label } ?? "a method") on \(s.network!.summary.name); its iterations stream here"
            screen.text(inner.row, inner.col, hint, .muted, width: inner.width)
            return
        }
        // Training rows have seven columns: a narrower plot leaves them room.
        let plotWidth = inner.width >= 70 ? (training != nil ? inner.width / 4 : inner.width * 3 / 8) : 0
        let tableRect = Rect(row: inner.row, col: inner.col, height: inner.height, width: inner.width - plotWidth - (plotWidth > 0 ? 1 : 0))
        let plotRect = Rect(row: inner.row, col: inner.col + inner.width - plotWidth, height: inner.height, width: plotWidth)
        if showSweep, let sweep = s.sweep {
            if let run, run.parameters.sweep && run.result == nil {
                iterationTable(&screen, run, tableRect)
            } else {
                sweepTable(&screen, sweep, tableRect)
            }
            if plotWidth > 0 { sweepPlot(&screen, sweep, plotRect) }
            return
        }
        guard let run else { return }
        iterationTable(&screen, run, tableRect, live: training.map { $0.running } ?? (run.result == nil))
        if plotWidth > 0 { convergencePlot(&screen, run, plotRect) }
    }

    /// Columns of the live table: every metric name in order of first appearance.
    /// In the order of the latest iteration (the backend's order), then names only seen earlier.
    static func metricNames(_ run: RunView) -> [String] {
        var names: [String] = []
        for it in run.iterations.suffix(50).reversed() { for m in it.metrics where !names.contains(m.name) { names.append(m.name) } }
        return names
    }

    static func iterationTable(_ screen: inout ScreenBuffer, _ run: RunView, _ rect: Rect, live: Bool? = nil) {
        let live = live ?? (run.result == nil)
        var row = rect.row
        var height = rect.height
        if let p = run.progress, run.result == nil, p.done < p.total || run.iterations.isEmpty {
            let label = "\(p.phase) \(p.done)/\(p.total) "
            let pct = p.total > 0 ? Double(p.done) / Double(p.total) : 0
            let barWidth = max(4, rect.width - label.count - 6)
            let c = screen.text(row, rect.col, label, .accent, width: rect.width)
            let bar = Plot.bar(pct, width: barWidth)
            screen.text(row, c, Format.pad(bar, barWidth), .bar)
            screen.text(row, c + barWidth + 1, String(format: "%3.0f%%", pct * 100), .normal)
            row += 1; height -= 1
        }
        // The method's latest log lines (problem sizes, "output j: solving"), above the table.
        let keep = height >= 10 ? 2 : height >= 4 || run.iterations.isEmpty ? 1 : 0
        for message in run.messages.suffix(keep) where height > 1 {
            screen.text(row, rect.col, message, .muted, width: rect.width)
            row += 1; height -= 1
        }
        guard height >= 2 else { return }
        if run.iterations.isEmpty {
            let waiting = run.parameters.method == TrainingRun.methodID ? "waiting for the first epoch…" : "waiting for the first iteration…"
            screen.text(row, rect.col, live ? waiting : "no iterations reported", .muted, width: rect.width)
            return
        }
        let names = metricNames(run)
        let cellWidth = 9
        let indexWidth = max(6, String(run.iterations.last?.index ?? 0).count + 1)
        let fixed = indexWidth + 9
        let fit = max(1, (rect.width - fixed) / (cellWidth + 1))
        let shown = Array(names.prefix(fit))
        var header = Format.pad(run.parameters.method == TrainingRun.methodID ? "epoch" : "it", indexWidth, right: true)
        for n in shown { header += " " + Format.pad(String(n.prefix(cellWidth)), cellWidth, right: true) }
        header += " " + Format.pad("time", 8, right: true)
        screen.text(row, rect.col, header, Style(.title, bold: true), width: rect.width)
        let rows = run.iterations.suffix(height - 1)
        for (k, it) in rows.enumerated() {
            var line = Format.pad(String(it.index), indexWidth, right: true)
            for n in shown { line += " " + Format.pad(Format.compact(it.value(n), width: cellWidth), cellWidth, right: true) }
            line += " " + Format.pad(Format.seconds(it.elapsed), 8, right: true)
            screen.text(row + 1 + k, rect.col, line, k == rows.count - 1 && live ? Style(.accent) : .normal, width: rect.width)
        }
    }

    /// The plot series: gap/infeasibility-like metrics on a log axis; otherwise the last metric
    /// (bound, best …) on a linear axis.
    static func plotSeries(_ run: RunView) -> (series: [Plot.Series], log: Bool) {
        let names = metricNames(run)
        let styles: [Style] = [.accent, .warn, .good, .bad]
        // Training: the accuracies per epoch (both in [0, 1], one linear axis).
        if names.contains("test_acc") {
            let series = ["test_acc", "train_acc"].filter(names.contains).enumerated().map { k, n in
                Plot.Series(name: n, values: run.iterations.map { $0.value(n) ?? .nan }, style: styles[k])
            }
            return (series, false)
        }
        // Two-sided searches (exact): the global upper bound and the incumbent lower bound
        // closing in on each other, on one linear axis.
        if names.contains("upper"), names.contains("lower") {
            let series = ["upper", "lower"].enumerated().map { k, n in
                Plot.Series(name: n, values: run.iterations.map { $0.value(n) ?? .nan }, style: styles[k == 0 ? 1 : 2])
            }
            return (series, false)
        }
        let logNames = names.filter { n in
            let l = n.lowercased()
            return l.contains("gap") || l.contains("inf") || l.contains("res") || l == "mu" || l == "μ"
        }
        if !logNames.isEmpty {
            let series = logNames.prefix(4).enumerated().map { k, n in
                Plot.Series(name: n, values: run.iterations.map { $0.value(n) ?? .nan }, style: styles[k])
            }
            return (series, true)
        }
        let pick = names.last { ["best", "bound", "value", "objective", "obj"].contains($0.lowercased()) } ?? names.last
        guard let pick else { return ([], false) }
        return ([Plot.Series(name: pick, values: run.iterations.map { $0.value(pick) ?? .nan }, style: styles[0])], false)
    }

    static func convergencePlot(_ screen: inout ScreenBuffer, _ run: RunView, _ rect: Rect) {
        for r in 0..<rect.height { screen.set(rect.row + r, rect.col - 1, "│", .muted) }
        let (series, log) = plotSeries(run)
        guard !series.isEmpty, rect.height >= 3 else {
            screen.text(rect.row, rect.col, "(nothing to plot yet)", .muted, width: rect.width)
            return
        }
        Plot.braille(&screen, Rect(row: rect.row, col: rect.col, height: rect.height - 1, width: rect.width), series, log: log)
        var c = rect.col + 1
        for s in series {
            c = screen.text(rect.row + rect.height - 1, c, "● ", s.style)
            c = screen.text(rect.row + rect.height - 1, c, s.name + "  ", .normal)
        }
        screen.text(rect.row + rect.height - 1, c, log ? "(log scale)" : "(vs iteration)", .muted)
    }

    static func sweepTable(_ screen: inout ScreenBuffer, _ sweep: Sweep, _ rect: Rect) {
        var row = rect.row
        let status = sweep.running ? "running, degrees \(sweep.fromDegree)–\(sweep.toDegree)" : (sweep.stopReason ?? "stopped")
        screen.text(row, rect.col, "Sweep \(sweep.label) \(sweep.norm.symbol): \(status)", .accent, width: rect.width)
        row += 1
        if let exact = sweep.exact {
            screen.text(row, rect.col, "p* = \(Format.number(exact)) (relaxed-exact: every degree stays above it)", .muted, width: rect.width)
            row += 1
        } else if let note = sweep.exactNote {
            screen.text(row, rect.col, note, .muted, width: rect.width)
            row += 1
        }
        screen.text(row, rect.col, Format.pad("degree", 7, right: true) + Format.pad("bound", 13, right: true) + Format.pad("time", 10, right: true) + "  status",
                    Style(.title, bold: true), width: rect.width)
        for (k, p) in sweep.points.suffix(max(0, rect.height - (row - rect.row) - 1)).enumerated() {
            let line = Format.pad(String(p.degree), 7, right: true) + Format.pad(Format.number(p.value), 13, right: true)
                + Format.pad(Format.seconds(p.seconds), 10, right: true) + "  " + p.status.rawValue
            screen.text(row + 1 + k, rect.col, line, .normal, width: rect.width)
        }
    }

    static func sweepPlot(_ screen: inout ScreenBuffer, _ sweep: Sweep, _ rect: Rect) {
        for r in 0..<rect.height { screen.set(rect.row + r, rect.col - 1, "│", .muted) }
        guard !sweep.points.isEmpty, rect.height >= 5 else {
            screen.text(rect.row, rect.col, "(bound and time per degree appear here)", .muted, width: rect.width)
            return
        }
        let half = (rect.height - 1) / 2
        screen.text(rect.row, rect.col, sweep.exact == nil ? "bound vs degree" : "bound vs degree (p* green)", .muted)
        Plot.braille(&screen, Rect(row: rect.row + 1, col: rect.col, height: max(2, half - 1), width: rect.width),
                     [Plot.Series(name: "bound", values: sweep.points.map { $0.value ?? .nan }, style: .accent)]
                        + (sweep.exact.map { p in [Plot.Series(name: "p*", values: sweep.points.map { _ in p }, style: .good)] } ?? []),
                     log: false, spread: true)
        screen.text(rect.row + half, rect.col, "time vs degree (log)", .muted)
        Plot.braille(&screen, Rect(row: rect.row + half + 1, col: rect.col, height: max(2, rect.height - half - 2), width: rect.width),
                     [Plot.Series(name: "time", values: sweep.points.map { max($0.seconds, 1e-4) }, style: .warn)], log: true, spread: true)
        let degrees = sweep.points.map { String($0.degree) }.joined(separator: " ")
        screen.text(rect.row + rect.height - 1, rect.col, "degrees " + degrees, .muted, width: rect.width)
    }

    // MARK: - Compare pane

    static func comparePane(_ screen: inout ScreenBuffer, _ s: WorkbenchState, _ rect: Rect) {
        let focused = s.focus == .compare
        var title = "Compare (\(s.sort.rawValue))"
        let lowers = Norm.allCases.compactMap { n in s.bestLower(n).map { "\(n.symbol) \(Format.number($0))" } }
        if !lowers.isEmpty { title += " — best lower " + lowers.joined(separator: ", ") }
        let hidden = s.runs.count - s.compareRows.count
        if hidden > 0 { title += " — \(hidden) runs on other networks hidden" }
        screen.box(rect, title: title, style: focused ? .normal : .muted, titleStyle: focused ? .accent : .title)
        let inner = rect.inner
        guard inner.height >= 2 else { return }
        let rows = s.compareRows
        if rows.isEmpty {
            screen.text(inner.row, inner.col, "finished runs appear here, one row each; they stay when you change method or degree", .muted, width: inner.width)
            return
        }
        let wide = inner.width >= 100
        let methodWidth = wide ? 22 : 14
        var header = Format.pad("#", 3, right: true) + " " + Format.pad("method", methodWidth) + " " + Format.pad("norm", 4)
            + Format.pad("deg", 4, right: true) + " " + Format.pad("bound", 11, right: true) + " ✓ " + Format.pad("status", wide ? 16 : 9)
            + Format.pad("time", 8, right: true)
        if wide { header += Format.pad("iter", 8, right: true) }
        header += Format.pad("÷low", 7, right: true) + " "
        let barWidth = max(0, inner.width - header.count)
        screen.text(inner.row, inner.col, header, Style(.title, bold: true), width: inner.width)
        let scale = Plot.Scale(rows.compactMap { $0.result?.value })
        if barWidth > 6, let scale {
            screen.text(inner.row, inner.col + header.count, scale.log ? "log scale" : "linear from 0", .muted, width: barWidth)
        }
        let visible = inner.height - 1
        // Keep the cursor in view when focused, else the run the live pane shows (the newest).
        let anchor = focused ? s.compareCursor : (rows.firstIndex { $0.id == s.shownRun } ?? rows.count - 1)
        let first = min(max(0, anchor - visible + 1), max(0, rows.count - visible))
        for (k, run) in rows.enumerated().dropFirst(first).prefix(visible) {
            guard let r = run.result else { continue }
            let row = inner.row + 1 + k - first
            let cert = r.value == nil ? " " : r.kind == .upper ? (r.certified ? "✓" : "✗") : r.kind == .exact ? "=" : "≥"
            let ratio = Presentation.ratio(s.ratioToBestLower(r))
            // A local run says its region ("@r=0.03", "@box"); a global one shows the label alone.
            let label = run.parameters.label + (RegionControl.tag(run.parameters.options).map { " @" + $0 } ?? "")
            var line = Format.pad(String(run.id), 3, right: true) + " " + Format.pad(label, methodWidth) + " "
                + Format.pad(r.norm.symbol, 4) + Format.pad(r.degree.map(String.init) ?? "", 4, right: true) + " "
                + Format.pad(Format.compact(r.value, width: 11), 11, right: true) + " " + cert + " "
                + Format.pad(r.status.rawValue, wide ? 16 : 9) + Format.pad(Format.seconds(r.seconds), 8, right: true)
            if wide { line += Format.pad(String(r.iterations), 8, right: true) }
            line += Format.pad(ratio, 7, right: true) + " "
            let isCursor = focused && k == s.compareCursor
            let style: Style = isCursor ? .selected : r.status == .optimal ? .normal : .warn
            screen.text(row, inner.col, line, style, width: inner.width)
            if !isCursor, r.value != nil, r.kind == .upper {
                let certOffset = 3 + 1 + methodWidth + 1 + 4 + 4 + 1 + 11 + 1
                screen.set(row, inner.col + certOffset, Character(cert), r.certified ? .good : .bad)
            }
            guard barWidth > 2, let scale else { continue }
            let barCol = inner.col + line.count
            if let v = r.value {
                screen.text(row, barCol, Plot.bar(scale.fraction(v), width: barWidth - 1), r.kind == .upper ? .bar : .good)
            }
            if let lower = s.bestLower(r.norm) {
                let at = Int((scale.fraction(lower) * Double(barWidth - 1)).rounded(.down))
                screen.set(row, barCol + min(barWidth - 1, max(0, at)), "┃", .lower)
            }
        }
    }

    // MARK: - Overlays

    static func helpScreen(_ screen: inout ScreenBuffer, _ s: WorkbenchState) {
        let rect = Rect(row: 0, col: 2, height: s.rows - 1, width: s.cols - 4)
        screen.fill(rect.row, rect.col, height: rect.height, width: rect.width)
        screen.box(rect, title: "Help — any key closes", style: .normal, titleStyle: .accent)
        let inner = rect.inner
        let main = Keymap.bindings(.main)
        let others = [KeyScope.browser, .prompt].map { ($0.heading, Keymap.bindings($0)) }
        let legend = "Options: * = set by you (passed to the method); unmarked = the default"
        // One column when everything (with the browser and prompt keys) fits, else the
        // workbench keys in two columns.
        let othersHeight = others.reduce(0) { $0 + 1 + $1.1.count }
        let oneColumn = 1 + main.count + 1 + othersHeight <= inner.height
        var row = inner.row
        func entries(_ heading: String?, _ list: [KeyBinding], col: Int, width: Int) {
            if let heading, row < inner.row + inner.height {
                screen.text(row, col, heading, Style(.title, bold: true), width: width)
                row += 1
            }
            let keyWidth = (list.map(\.keysText.count).max() ?? 0) + 2
            for b in list where row < inner.row + inner.height {
                screen.text(row, col + 1, Format.pad(b.keysText, keyWidth), Style(.accent, bold: true), width: width - 1)
                screen.text(row, col + 1 + keyWidth, b.help, .normal, width: width - 1 - keyWidth)
                row += 1
            }
        }
        if oneColumn {
            entries(KeyScope.main.heading, main, col: inner.col, width: inner.width)
        } else {
            let half = (main.count + 1) / 2
            let width = inner.width / 2
            entries(KeyScope.main.heading, Array(main.prefix(half)), col: inner.col, width: width - 1)
            let end = row
            row = inner.row + 1
            entries(nil, Array(main.dropFirst(half)), col: inner.col + width, width: inner.width - width)
            row = max(row, end)
        }
        if row < inner.row + inner.height {
            screen.text(row, inner.col, legend, .muted, width: inner.width)
            row += 1
        }
        let needed = others.reduce(0) { $0 + 1 + $1.1.count }
        if row + needed <= inner.row + inner.height {
            for (heading, list) in others { entries(heading, list, col: inner.col, width: inner.width) }
        } else if row < inner.row + inner.height {
            screen.text(row, inner.col, "Browser ↑↓ Enter, Backspace up, a–z jump, Esc · Prompts (w, a) Enter, Esc",
                        .muted, width: inner.width)
        }
    }

    /// The train form: each setting (the cursor's highlighted, set ones bold), the data and
    /// where the network will be saved.
    static func trainFormOverlay(_ screen: inout ScreenBuffer, _ s: WorkbenchState) {
        let form = s.trainForm
        let width = min(s.cols - 4, 72)
        let fields = TrainForm.Field.allCases
        let height = fields.count + 7
        let rect = Rect(row: max(1, (s.rows - height) / 2), col: (s.cols - width) / 2, height: height, width: width)
        screen.fill(rect.row, rect.col, height: rect.height, width: rect.width)
        screen.box(rect, title: "Train an implicit network (t)", style: .normal, titleStyle: .accent)
        let inner = rect.inner
        for (k, field) in fields.enumerated() {
            let focused = field == form.cursor
            let text = (focused ? "▸ " : "  ") + Format.pad(field.label, 20) + (focused ? "◂ \(form.value(field)) ▸" : "  \(form.value(field))")
                + (form.isDefault(field) ? "" : " *")
            screen.text(inner.row + k, inner.col, Format.pad(text, inner.width),
                        focused ? .selected : form.isDefault(field) ? .normal : Style(.accent, bold: true), width: inner.width)
        }
        var row = inner.row + fields.count + 1
        screen.text(row, inner.col, "data   bundled 8×8 digits, 20 % held out for the test accuracy", .muted, width: inner.width)
        row += 1
        let out = View.relative(Update.trainingOutputPath(s, run: s.nextRunID), s.workingDirectory)
        screen.text(row, inner.col, "saves  \(out)", .muted, width: inner.width)
        row += 1
        if let problem = form.problem {
            screen.text(row, inner.col, problem, .bad, width: inner.width)
        } else {
            screen.text(row, inner.col, "↑↓ setting · ←→ value · x default · Enter trains · Esc closes", .muted, width: inner.width)
        }
    }

    static func browserOverlay(_ screen: inout ScreenBuffer, _ s: WorkbenchState, _ b: Browser) {
        let width = min(s.cols - 4, 76)
        let height = max(6, s.rows - 6)
        let rect = Rect(row: 2, col: (s.cols - width) / 2, height: height, width: width)
        screen.fill(rect.row, rect.col, height: rect.height, width: rect.width)
        screen.box(rect, title: "\(b.title) — \(b.directory)", style: .normal, titleStyle: .accent)
        let inner = rect.inner
        let listHeight = inner.height - 1
        if b.loading && b.entries.isEmpty {
            screen.text(inner.row, inner.col, "reading…", .muted)
        } else if b.entries.isEmpty {
            screen.text(inner.row, inner.col, "(empty)", .muted)
        }
        let first = min(max(0, b.selected - listHeight / 2), max(0, b.entries.count - listHeight))
        for (k, e) in b.entries.enumerated().dropFirst(first).prefix(listHeight) {
            let name = e.isDirectory ? e.name + "/" : e.name
            let text = Format.pad((k == b.selected ? "▸ " : "  ") + name, inner.width)
            screen.text(inner.row + k - first, inner.col, text, k == b.selected ? .selected : (e.isDirectory ? .accent : .normal), width: inner.width)
        }
        let what = switch b.purpose {
        case .network: NetworkLoader.extensions.map { "." + $0 }.joined(separator: " ")
        case .session: ".jsonl session logs"
        case .region: RegionControl.fileExtensions.map { "." + $0 }.joined(separator: " ")
        }
        screen.text(inner.row + inner.height - 1, inner.col, "\(what) · Enter opens · Backspace up · Esc closes", .muted, width: inner.width)
    }
}
