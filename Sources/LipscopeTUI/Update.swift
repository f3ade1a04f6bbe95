import Foundation
import LipscopeEngine

/// The pure update: (state, event) → (state, effects). No I/O, no threads, no clocks.
public enum Update {
    public static func update(_ state: WorkbenchState, _ event: Event) -> (WorkbenchState, [Effect]) {
        var s = state
        let effects = apply(&s, event)
        return (s, effects)
    }

    public static func apply(_ s: inout WorkbenchState, _ event: Event) -> [Effect] {
        switch event {
        case .key(let key):
            // An over-budget warning holds for the very next key only.
            if key != .enter { s.confirmingRun = nil }
            if let binding = Keymap.binding(for: key, in: s) { return binding.action(&s, key) }
            if case .main = s.mode, case .char(let c) = key { error(&s, "'\(c)' does nothing here — ? lists the keys") }
            return []
        case .resize(let rows, let cols):
            s.rows = max(1, rows); s.cols = max(1, cols)
            return []
        case .tick(let t):
            s.clock = t
            return []
        case .job(let run, let jobEvent):
            return job(&s, run, jobEvent)
        case .training(let run, let update):
            return training(&s, run, update)
        case .certify(let run, let update):
            return certify(&s, run, update)
        case .networkLoaded(let path, let network, let sha):
            let summary = NetworkSummary(network)
            let keep = s.currentMethod.map { s.methods[$0].id }
            s.network = LoadedNetwork(path: path, network: network, summary: summary, sha256: sha)
            if let o = s.output, o >= network.outputSize { s.output = nil }
            if let shown = s.shownRun, shown != s.training?.id, s.runs.first(where: { $0.id == shown })?.parameters.network != summary.name {
                s.shownRun = s.runs.last { $0.parameters.network == summary.name }?.id
            }
            if var sweep = s.sweep, sweep.running {
                sweep.running = false
                sweep.stopReason = "stopped: another network was loaded"
                s.sweep = sweep
            }
            s.minimumDegrees = [:]
            keepRegion(&s, inputSize: network.inputSize)
            let check = refreshMethods(&s, keeping: keep, resetDegree: true)
            if case .browser = s.mode { s.mode = .main }
            s.focus = .run
            info(&s, "loaded \(summary.name): \(summary.kind) \(summary.sizes.map(String.init).joined(separator: "-"))")
            if let t = s.training, let saved = t.summary?.saved, saved == path, let text = t.endText {
                // Training certifies the ℓ∞ bound: point at the norm where contraction applies.
                info(&s, text + " — opened it" + (s.norm == .l2 ? " (n: ℓ∞ for contraction)" : ""))
            }
            return [.log(.networkLoaded(time: "", path: path, sha256: sha, summary: summary))] + check
        case .loadFailed(_, let message):
            if case .browser(var b) = s.mode { b.loading = false; s.mode = .browser(b) }
            error(&s, message + (s.network.map { " — keeping \($0.summary.name)" } ?? ""))
            return []
        case .directoryListed(let path, let entries):
            guard case .browser(var b) = s.mode else { return [] }
            let cameFrom = Path.name(b.directory)
            let wentUp = path.count < b.directory.count
            b.directory = path
            b.entries = entries
            b.selected = wentUp ? (entries.firstIndex { $0.name == cameFrom } ?? 0) : 0
            b.loading = false
            s.mode = .browser(b)
            return []
        case .listFailed(_, let message):
            if case .browser(var b) = s.mode { b.loading = false; s.mode = .browser(b) }
            error(&s, message)
            return []
        case .saved(let log, let report):
            info(&s, "saved \(log) and \(Path.name(report))")
            return []
        case .saveFailed(let message):
            error(&s, "save failed: \(message)")
            return []
        case .replayLoaded(let path, let record):
            return replay(&s, path, record)
        case .replayFailed(_, let message):
            if case .browser(var b) = s.mode { b.loading = false; s.mode = .browser(b) }
            error(&s, message)
            return []
        case .sessionLogOpened(let path):
            s.sessionLog = path
            return []
        case .sessionLogFailed(let message):
            error(&s, "session log: \(message) — this session is not logged")
            return []
        case .fileChecked(let path, let exists, .sessionNetwork(let name)):
            if exists { return [.loadNetwork(path: path)] }
            // Added to the replay's message, which is still showing.
            let missing = "its network \(name) (\(path)) is not found"
            if let m = s.message, m.text.hasPrefix("reopened ") {
                s.message = Message(text: m.text + "; " + missing, isError: m.isError)
            } else {
                error(&s, missing)
            }
            return []
        case .methodChecked(let token, let m, let applies, let minimum, let last, let predicted):
            methodChecked(&s, token, m, applies, minimum, last, predicted)
            return []
        case .regionLoaded(let path, let file):
            regionLoaded(&s, path, file)
            return []
        case .regionFailed(_, let message):
            if case .browser(var b) = s.mode { b.loading = false; s.mode = .browser(b) }
            error(&s, message)
            return []
        }
    }

    /// Whether a method runs on a network in a norm (at its lowest degree): the check the
    /// runtime performs for `.checkMethods`.
    public static func applies(_ method: any BoundMethod, _ network: Network, _ norm: Norm) -> Bool {
        guard method.norms.contains(norm) else { return false }
        let request = BoundRequest(network: network, norm: norm, degree: method.minimumDegree(for: network))
        return method.applicability(request) == .applicable
    }

    /// The Run list's order: cheapest predicted first, methods without a prediction after
    /// them, ties in the registry's order.
    public static func runListOrder(_ methods: [Int], _ predictions: [Int: CostPrediction]) -> [Int] {
        methods.sorted { a, b in
            let x = predictions[a]?.seconds ?? .infinity, y = predictions[b]?.seconds ?? .infinity
            return x == y ? a < b : x < y
        }
    }

    static func methodChecked(_ s: inout WorkbenchState, _ token: Int, _ m: Int, _ applies: Bool, _ minimum: Int?, _ last: Bool,
                              _ predicted: CostPrediction? = nil) {
        guard token == s.checkToken, s.methods.indices.contains(m) else { return }
        if let minimum { s.minimumDegrees[m] = minimum }
        s.predictions[m] = predicted
        if applies, !s.applicable.contains(m) {
            let current = s.currentMethod
            s.applicable.append(m)
            // Answers come in any order; the list is ordered by predicted cost.
            s.applicable = runListOrder(s.applicable, s.predictions)
            if let keep = s.keepMethod, s.methods[m].id == keep {
                s.selected = s.applicable.firstIndex(of: m)!
                s.degree = s.keepDegree ?? minimum
                s.keepMethod = nil
                s.selectionSettled = true
            } else if s.selectionSettled, let current {
                s.selected = s.applicable.firstIndex(of: current)!
            } else {
                s.selected = 0
                s.degree = s.minimumDegrees[s.applicable[0]]
            }
        }
        if last {
            s.checking = false
            if let keep = s.keepMethod, let old = s.methods.first(where: { $0.id == keep }) {
                // Added to what the load or norm change said, not in place of it.
                let before = s.message.flatMap { $0.isError ? nil : $0.text + " — " } ?? ""
                info(&s, before + "\(old.label) does not apply in \(s.norm.symbol); \(s.applicable.count) methods do")
            }
            s.keepMethod = nil
        }
    }

    /// The minimum degree of a method on the loaded network (nil: the method has no degree).
    static func minimumDegree(_ s: WorkbenchState, _ m: Int) -> Int? {
        s.minimumDegrees[m]
    }

    // MARK: - Main screen actions (bound in `Keymap`)

    static func quit(_ s: inout WorkbenchState) -> [Effect] {
        if s.isRunning {
            s.mode = .confirmQuit
            return []
        }
        s.quitting = true
        return [.quit]
    }

    static func openBrowser(_ s: inout WorkbenchState, _ purpose: BrowserPurpose) -> [Effect] {
        let dir = purpose == .session ? s.sessionsDirectory
            : s.network.map { Path.directory(of: $0.path) } ?? s.workingDirectory
        s.mode = .browser(Browser(purpose: purpose, directory: dir, entries: [], selected: 0, loading: true))
        return [.listDirectory(path: dir, purpose: purpose)]
    }

    /// Arrow and page keys: a Compare row (`compare`), else the method.
    static func move(_ s: inout WorkbenchState, _ step: Int, compare: Bool) -> [Effect] {
        if compare {
            moveCompare(&s, step)
            s.plot = .convergence  // show the chosen row's run
            return []
        }
        guard !s.applicable.isEmpty else {
            error(&s, noMethodText(s))
            return []
        }
        let next = min(max(0, s.selected + step), s.applicable.count - 1)
        s.keepMethod = nil  // the user chose
        s.selectionSettled = true
        if next != s.selected {
            s.selected = next
            s.degree = s.currentMethod.flatMap { minimumDegree(s, $0) }
            s.optionCursor = 0
        }
        s.message = nil
        return []
    }

    static func toggleFocus(_ s: inout WorkbenchState) -> [Effect] {
        s.focus = s.focus == .run ? .compare : .run
        if s.focus == .compare {
            if let k = s.compareRows.firstIndex(where: { $0.id == s.shownRun }) { s.compareCursor = k }
            moveCompare(&s, 0)
            s.plot = .convergence
        }
        return []
    }

    static func toggleNorm(_ s: inout WorkbenchState) -> [Effect] {
        let keep = s.keepMethod ?? s.currentMethod.map { s.methods[$0].id }
        s.norm = s.norm == .l2 ? .linf : .l2
        info(&s, "norm \(s.norm.symbol)")
        return refreshMethods(&s, keeping: keep, resetDegree: false)
    }

    static func cycleOutput(_ s: inout WorkbenchState, forward: Bool) -> [Effect] {
        guard let net = s.network else { error(&s, "no network loaded — o opens one"); return [] }
        let n = net.network.outputSize
        if n <= 1 { info(&s, "the network has a single output"); s.output = nil; return [] }
        // Cycle nil → 0 → … → n-1 → nil (or backwards).
        let position = s.output.map { $0 + 1 } ?? 0
        let next = (position + (forward ? 1 : n)) % (n + 1)
        s.output = next == 0 ? nil : next - 1
        info(&s, s.output.map { "output \($0) of \(n)" } ?? "all \(n) outputs")
        return []
    }

    static func run(_ s: inout WorkbenchState) -> [Effect] {
        guard let m = s.currentMethod else {
            error(&s, noMethodText(s))
            return []
        }
        // Over the budget: the first ⏎ says the prediction, a second one runs it.
        if s.isOverBudget(m), s.confirmingRun != m, let p = s.predictions[m], let budget = s.budget {
            s.confirmingRun = m
            error(&s, "\(s.methods[m].label): predicted \(Presentation.estimate(p.seconds)) (\(p.basis)), over the \(Presentation.duration(budget)) budget — ⏎ again runs it")
            return []
        }
        s.confirmingRun = nil
        s.plot = .convergence
        return startRun(&s, method: m, degree: s.degree, sweep: false)
    }

    static func togglePlot(_ s: inout WorkbenchState) {
        if s.plot == .sweep { s.plot = .convergence }
        else if s.sweep != nil { s.plot = .sweep }
        else { info(&s, "no degree sweep yet — s starts one") }
    }

    static func cycleSort(_ s: inout WorkbenchState) {
        s.sort = cycle(CompareSort.allCases, s.sort)
        info(&s, "compare sorted by \(s.sort.rawValue)")
        moveCompare(&s, 0)
    }

    // MARK: - Method options

    /// The selected method and its option under the cursor, or a message saying why not.
    static func focusedOption(_ s: inout WorkbenchState) -> (method: any BoundMethod, option: MethodOption)? {
        guard let m = s.currentMethod else { error(&s, noMethodText(s)); return nil }
        let shown = s.shownOptions
        guard !shown.isEmpty else { info(&s, "\(s.methods[m].label) has no options"); return nil }
        s.optionCursor = min(max(0, s.optionCursor), shown.count - 1)
        return (s.methods[m], shown[s.optionCursor])
    }

    static func setOption(_ s: inout WorkbenchState, _ method: any BoundMethod, _ option: MethodOption, _ value: String?) {
        var values = s.optionValues[method.id] ?? [:]
        values[option.key] = value
        s.optionValues[method.id] = values.isEmpty ? nil : values
        info(&s, OptionControls.describe(option, value, method: method.label))
    }

    static func moveOptionCursor(_ s: inout WorkbenchState, _ step: Int) -> [Effect] {
        guard focusedOption(&s) != nil else { return [] }
        s.optionCursor = min(max(0, s.optionCursor + step), s.shownOptions.count - 1)
        let (method, option) = focusedOption(&s)!
        info(&s, OptionControls.describe(option, s.optionValues[method.id]?[option.key], method: method.label))
        return []
    }

    static func stepOption(_ s: inout WorkbenchState, up: Bool) -> [Effect] {
        guard let (method, option) = focusedOption(&s) else { return [] }
        let current = s.optionValues[method.id]?[option.key]
        setOption(&s, method, option, OptionControls.step(option, current, up: up))
        return []
    }

    static func resetOption(_ s: inout WorkbenchState) -> [Effect] {
        guard let (method, option) = focusedOption(&s) else { return [] }
        setOption(&s, method, option, nil)
        return []
    }

    /// k, b, d: cycle the named option of the selected method (and put the cursor on it).
    static func cycleOption(_ s: inout WorkbenchState, named key: String) -> [Effect] {
        guard let m = s.currentMethod else { error(&s, noMethodText(s)); return [] }
        let method = s.methods[m]
        guard let k = s.shownOptions.firstIndex(where: { $0.key == key }) else {
            let keys = s.shownOptions.map(\.key)
            error(&s, "\(method.label) has no \(key) option" + (keys.isEmpty ? "" : " (its options: \(keys.joined(separator: ", ")))"))
            return []
        }
        s.optionCursor = k
        return stepOption(&s, up: true)
    }

    static func cycle<T: Equatable>(_ all: [T], _ current: T) -> T {
        let i = all.firstIndex(of: current) ?? -1
        return all[(i + 1) % all.count]
    }

    static func moveCompare(_ s: inout WorkbenchState, _ step: Int) {
        let rows = s.compareRows
        guard !rows.isEmpty else { s.compareCursor = 0; return }
        s.compareCursor = min(max(0, s.compareCursor + step), rows.count - 1)
        if s.active == nil || s.focus == .compare {
            s.shownRun = rows[s.compareCursor].id
            if s.runningCertify == nil { s.showsCertify = false }
        }
    }

    static func changeDegree(_ s: inout WorkbenchState, _ step: Int) {
        guard s.network != nil, let m = s.currentMethod else {
            error(&s, noMethodText(s))
            return
        }
        let method = s.methods[m]
        guard let minimum = minimumDegree(s, m) else {
            info(&s, "\(method.label) has no relaxation degree")
            return
        }
        let current = s.degree ?? minimum
        let next = current + step
        if next < minimum {
            s.degree = minimum
            error(&s, "degree \(minimum) is the admissible minimum for \(method.label) on this network")
        } else {
            s.degree = next
            info(&s, "degree \(next)")
        }
    }

    /// Starts a new check of the applicable methods for the network and norm; the answers
    /// (`.methodChecked`) rebuild the list and reselect `id` when it applies.
    static func refreshMethods(_ s: inout WorkbenchState, keeping id: String?, resetDegree: Bool) -> [Effect] {
        s.keepDegree = resetDegree ? nil : s.degree
        s.keepMethod = id
        s.selectionSettled = false
        s.applicable = []
        s.predictions = [:]
        s.confirmingRun = nil
        s.selected = 0
        s.degree = nil
        guard let net = s.network else { s.checking = false; return [] }
        s.checkToken += 1
        s.checking = true
        return [.checkMethods(token: s.checkToken, network: net.network, norm: s.norm)]
    }

    static func noMethodText(_ s: WorkbenchState) -> String {
        if s.network == nil { return "no network loaded — o opens one" }
        if s.checking { return "still checking which methods apply…" }
        return "no method applies in \(s.norm.symbol)"
    }

    // MARK: - Runs

    static func startRun(_ s: inout WorkbenchState, method m: Int, degree: Int?, sweep: Bool) -> [Effect] {
        guard let net = s.network else { error(&s, "no network loaded — o opens one"); return [] }
        guard s.active == nil else { error(&s, "a run is active — Esc or c cancels it"); return [] }
        guard s.runningTraining == nil else { error(&s, "training is running — Esc or c cancels it"); return [] }
        guard s.runningCertify == nil else { error(&s, "certify is running — Esc or c cancels it"); return [] }
        let method = s.methods[m]
        // The region goes to the methods that take one (and into the log with the run).
        let options = s.requestOptions(m).merging(s.region.options(for: method)) { mine, _ in mine }
        let degree = minimumDegree(s, m) == nil ? nil : degree
        let norm = sweep ? (s.sweep?.norm ?? s.norm) : s.norm
        let output = sweep ? s.sweep?.output : s.output
        let request = BoundRequest(network: net.network, norm: norm, degree: degree, output: output, seed: s.seed, options: options)
        let parameters = RunParameters(method: method.id, label: method.label, norm: norm, degree: degree, output: output,
                                       seed: s.seed, options: options, network: net.summary.name, sweep: sweep)
        let id = s.nextRunID
        s.nextRunID += 1
        s.active = RunView(id: id, parameters: parameters, startedAt: s.clock)
        s.showsCertify = false
        info(&s, "running \(method.label) (\(norm.symbol)\(degree.map { ", degree \($0)" } ?? ""))… Esc cancels")
        return [.log(.runStarted(time: "", run: id, parameters: parameters)), .start(run: id, method: m, request: request)]
    }

    static func cancel(_ s: inout WorkbenchState) -> [Effect] {
        if var sweep = s.sweep, sweep.running {
            sweep.running = false
            sweep.stopReason = "cancelled by the user"
            s.sweep = sweep
        }
        if s.active == nil, s.runningTraining != nil { return cancelTraining(&s) }
        if s.active == nil, s.runningCertify != nil { return cancelCertify(&s) }
        guard var run = s.active else {
            s.message = nil
            return []
        }
        if run.cancelling { return [] }
        run.cancelling = true
        s.active = run
        info(&s, "cancelling \(run.parameters.label)…")
        return [.cancel(run: run.id)]
    }

    static func job(_ s: inout WorkbenchState, _ id: Int, _ event: JobEvent) -> [Effect] {
        guard var run = s.active, run.id == id else { return [] }
        s.active = nil  // `run` now owns its buffers: appending does not copy the iterations
        defer { if s.active == nil && run.result == nil { s.active = run } }
        switch event {
        case .log(let message):
            run.messages.append(message)
            if run.messages.count > 200 { run.messages.removeFirst(run.messages.count - 200) }
            s.active = run
            return [.log(.log(run: id, message: message))]
        case .progress(let phase, let done, let total):
            run.progress = ProgressState(phase: phase, done: done, total: total)
            s.active = run
            return [.log(.progress(run: id, phase: phase, done: done, total: total))]
        case .iteration(let record):
            run.add(record)
            s.active = run
            return [.log(.iteration(run: id, record: record))]
        case .finished(let result):
            run.result = result
            run.settle(result)
            run.cancelling = false
            s.active = nil
            s.runs.append(run)
            s.shownRun = id
            if s.focus == .compare, let k = s.compareRows.firstIndex(where: { $0.id == id }) { s.compareCursor = k }
            let text = describe(run.parameters.label, result)
            if result.status == .optimal { info(&s, text) } else { error(&s, text) }
            var effects: [Effect] = [.log(.runFinished(time: "", run: id, result: result))]
            if run.parameters.sweep { effects += continueSweep(&s, run: id, result) }
            return effects
        }
    }

    static func describe(_ label: String, _ r: BoundResult) -> String {
        Presentation.sentence(r, label: label)
    }

    // MARK: - Degree sweep

    static func startSweep(_ s: inout WorkbenchState) -> [Effect] {
        guard let net = s.network else { error(&s, "no network loaded — o opens one"); return [] }
        guard !s.isRunning else { error(&s, "a run is active — Esc or c cancels it"); return [] }
        guard let m = s.currentMethod else { error(&s, noMethodText(s)); return [] }
        let method = s.methods[m]
        guard let minimum = minimumDegree(s, m) else {
            error(&s, "s sweeps the degree of a hierarchy method (LiPopt); \(method.label) has no degree")
            return []
        }
        let from = max(minimum, s.degree ?? minimum)
        var sweep = Sweep(method: m, label: method.label, norm: s.norm, fromDegree: from,
                          toDegree: from + WorkbenchState.sweepSpan - 1, budget: WorkbenchState.sweepBudget)
        sweep.output = s.output
        sweep.exact = knownExact(s, network: net.summary.name, norm: s.norm, output: s.output)
        s.plot = .sweep
        s.degree = from
        // p* unknown: learn it first when relaxed-exact is cheap on this network.
        if sweep.exact == nil, let e = s.methods.firstIndex(where: { $0.id == WorkbenchState.exactMethodID }),
           e != m, s.applicable.contains(e) {
            let neurons = net.summary.hiddenNeurons
            if neurons <= WorkbenchState.cheapExactNeurons {
                sweep.exactRun = s.nextRunID
                s.sweep = sweep
                return startRun(&s, method: e, degree: nil, sweep: true)
            }
            sweep.exactNote = "p* unknown: relaxed-exact not run (\(neurons) hidden neurons > \(WorkbenchState.cheapExactNeurons)); run it first"
        }
        s.sweep = sweep
        return startRun(&s, method: m, degree: from, sweep: true)
    }

    /// The newest relaxed-exact value on this network, norm and output among the finished runs.
    static func knownExact(_ s: WorkbenchState, network: String, norm: Norm, output: Int?) -> Double? {
        s.runs.last { run in
            let p = run.parameters
            return p.method == WorkbenchState.exactMethodID && p.network == network && p.norm == norm && p.output == output
                && run.result?.status == .optimal && run.result?.value != nil
        }?.result?.value
    }

    static func continueSweep(_ s: inout WorkbenchState, run id: Int, _ r: BoundResult) -> [Effect] {
        guard var sweep = s.sweep else { return [] }
        if sweep.exactRun == id {
            sweep.exactRun = nil
            if r.status == .optimal, let v = r.value { sweep.exact = v }
            s.sweep = sweep
            guard sweep.running else { return [] }
            return startRun(&s, method: sweep.method, degree: sweep.fromDegree, sweep: true)
        }
        let degree = r.degree ?? sweep.fromDegree
        sweep.points.append(Sweep.Point(degree: degree, value: r.value, seconds: r.seconds, status: r.status))
        defer { s.sweep = sweep }
        guard sweep.running else { return [] }
        if r.status != .optimal {
            sweep.running = false
            sweep.stopReason = "degree \(degree) ended \(r.status.rawValue)"
        } else if let v = r.value, let exact = sweep.exact, sweep.reachesExact(v) {
            sweep.running = false
            sweep.stopReason = "reached relaxed-exact p* = \(Format.number(exact)) at degree \(degree); higher degrees cannot be lower"
        } else if r.seconds > sweep.budget {
            sweep.running = false
            sweep.stopReason = "degree \(degree) took \(Format.seconds(r.seconds)), over the \(Format.seconds(sweep.budget)) budget"
        } else if degree >= sweep.toDegree {
            sweep.running = false
            sweep.stopReason = "done: degrees \(sweep.fromDegree)–\(sweep.toDegree)"
        }
        guard sweep.running else {
            info(&s, "sweep of \(sweep.label): \(sweep.stopReason!)")
            return []
        }
        s.sweep = sweep
        s.degree = degree + 1
        return startRun(&s, method: sweep.method, degree: degree + 1, sweep: true)
    }

    // MARK: - Replay

    static func replay(_ s: inout WorkbenchState, _ path: String, _ record: SessionRecord) -> [Effect] {
        let file = Path.name(path)
        var effects: [Effect] = []
        var count = 0
        for run in record.runs {
            guard let result = run.result else { continue }
            var parameters = run.parameters
            if parameters.replayedFrom == nil { parameters.replayedFrom = file }
            let id = s.nextRunID
            s.nextRunID += 1
            var view = RunView(id: id, parameters: parameters, startedAt: s.clock, iterations: run.iterations, result: result)
            view.messages = run.messages
            view.settle(result)
            view.progress = run.lastProgress
            s.runs.append(view)
            effects.append(.log(.runStarted(time: "", run: id, parameters: parameters)))
            effects += run.messages.map { .log(.log(run: id, message: $0)) }
            effects += run.iterations.map { .log(.iteration(run: id, record: $0)) }
            effects.append(.log(.runFinished(time: "", run: id, result: result)))
            s.shownRun = id
            count += 1
        }
        // Certification runs come back as they ended (verdict, bounds); the live pane shows the last.
        for var record in record.certifications {
            if record.replayedFrom == nil { record.replayedFrom = file }
            let id = s.nextRunID
            s.nextRunID += 1
            effects.append(.log(.certifyFinished(time: "", run: id, record: record)))
            if s.runningCertify == nil {
                var job = CertifyJob(id: id, record: record, startedAt: s.clock)
                job.running = false
                s.certify = job
                s.showsCertify = true
            }
        }
        effects.append(.log(.note(time: "", text: "reopened \(file): \(count) finished runs")))
        s.mode = .main
        var text = "reopened \(file): \(count) runs"
        if let last = record.certifications.last {
            let n = record.certifications.count
            text += ", \(n) certify run\(n == 1 ? "" : "s") (last: \(last.outcome))"
        }
        // Training runs are not re-run or copied; the report of the reopened log shows them.
        if !record.trainings.isEmpty { text += ", \(record.trainings.count) training run\(record.trainings.count == 1 ? "" : "s") (lipscope report shows them)" }
        // Bring back the session's network when it is not the one loaded.
        if let net = record.networks.last, net.summary.name != s.network?.summary.name {
            effects.append(.checkFile(path: net.path, purpose: .sessionNetwork(name: net.summary.name)))
        }
        if let problem = record.problem {
            error(&s, text + " — log recovered: " + problem)
        } else {
            info(&s, text)
        }
        s.focus = .compare
        s.plot = .convergence
        if let k = s.compareRows.firstIndex(where: { $0.id == s.shownRun }) { s.compareCursor = k }
        return effects
    }

    // MARK: - Other modes

    static func browserMove(_ s: inout WorkbenchState, _ key: Key) {
        guard case .browser(var b) = s.mode else { return }
        let last = max(0, b.entries.count - 1)
        switch key {
        case .up: b.selected = max(0, b.selected - 1)
        case .down: b.selected = min(last, b.selected + 1)
        case .pageUp: b.selected = max(0, b.selected - 10)
        case .pageDown: b.selected = min(last, b.selected + 10)
        case .home: b.selected = 0
        case .end: b.selected = last
        default: break
        }
        s.mode = .browser(b)
    }

    static func browserParent(_ s: inout WorkbenchState) -> [Effect] {
        guard case .browser(var b) = s.mode else { return [] }
        let up = Path.directory(of: b.directory)
        guard up != b.directory else { return [] }
        b.loading = true
        s.mode = .browser(b)
        return [.listDirectory(path: up, purpose: b.purpose)]
    }

    static func browserOpen(_ s: inout WorkbenchState) -> [Effect] {
        guard case .browser(var b) = s.mode, b.entries.indices.contains(b.selected) else { return [] }
        let entry = b.entries[b.selected]
        if entry.name == ".." { return browserParent(&s) }
        let path = Path.join(b.directory, entry.name)
        b.loading = true
        s.mode = .browser(b)
        if entry.isDirectory { return [.listDirectory(path: path, purpose: b.purpose)] }
        if b.purpose == .network {
            info(&s, "loading \(entry.name)…")
            return [.loadNetwork(path: path)]
        }
        if b.purpose == .region {
            guard let net = s.network else { s.mode = .main; error(&s, "no network loaded — o opens one"); return [] }
            return [.loadRegion(path: path, inputSize: net.network.inputSize, outputSize: net.network.outputSize)]
        }
        return [.replay(path: path)]
    }

    /// A letter or digit: the next entry starting with it.
    static func browserJump(_ s: inout WorkbenchState, _ key: Key) {
        guard case .browser(var b) = s.mode, case .char(let c) = key else { return }
        let n = b.entries.count
        let lower = String(c).lowercased()
        let order = (1...max(1, n)).map { (b.selected + $0) % max(1, n) }
        if let k = order.first(where: { b.entries.indices.contains($0) && b.entries[$0].name.lowercased().hasPrefix(lower) }) {
            b.selected = k
        }
        s.mode = .browser(b)
    }

    /// Typing in the save or note prompt (`nil`: Backspace).
    static func promptEdit(_ s: inout WorkbenchState, _ c: Character?) {
        switch s.mode {
        case .prompt(let text):
            if let c { if text.count < 60 { s.mode = .prompt(text: text + String(c)) } }
            else { s.mode = .prompt(text: String(text.dropLast())) }
        case .note(let text):
            if let c { if text.count < 300 { s.mode = .note(text: text + String(c)) } }
            else { s.mode = .note(text: String(text.dropLast())) }
        default: break
        }
    }

    static func promptCancel(_ s: inout WorkbenchState) {
        if case .note = s.mode { info(&s, "note discarded") } else { info(&s, "save cancelled") }
        s.mode = .main
    }

    static func promptSubmit(_ s: inout WorkbenchState) -> [Effect] {
        switch s.mode {
        case .prompt(let text):
            let name = SessionStore.sanitize(text)
            guard !name.isEmpty else { error(&s, "type a name (letters, digits, . _ -)"); return [] }
            s.mode = .main
            info(&s, "saving \(name)…")
            return [.save(name: name)]
        case .note(let text):
            s.mode = .main
            let note = text.trimmingCharacters(in: .whitespaces)
            guard !note.isEmpty else { info(&s, "empty note discarded"); return [] }
            info(&s, "note added to the session log")
            return [.log(.note(time: "", text: note))]
        default:
            return []
        }
    }

    static func confirmQuit(_ s: inout WorkbenchState) -> [Effect] {
        s.mode = .main
        s.quitting = true
        var effects: [Effect] = []
        if let run = s.active { effects.append(.cancel(run: run.id)) }
        if let t = s.runningTraining { effects.append(.cancel(run: t.id)) }
        if let c = s.runningCertify { effects.append(.cancel(run: c.id)) }
        return effects + [.quit]
    }

    static func info(_ s: inout WorkbenchState, _ text: String) { s.message = Message(text: text, isError: false) }
    static func error(_ s: inout WorkbenchState, _ text: String) { s.message = Message(text: text, isError: true) }
}
