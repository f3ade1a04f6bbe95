import Foundation
import LipscopeEngine

/// Training runs in the workbench (`t`): the train form, the run's epochs in the live pane, its
/// end (the network is saved beside the session log and opened), and cancelling.
extension Update {
    // MARK: - The train form

    static func openTrainForm(_ s: inout WorkbenchState) -> [Effect] {
        guard !s.isRunning else { error(&s, "a run is active — Esc or c cancels it"); return [] }
        s.mode = .trainForm
        info(&s, "train an implicit network on the bundled digits: ↑↓ a setting, ←→ its value, Enter trains, Esc closes")
        return []
    }

    static func moveTrainCursor(_ s: inout WorkbenchState, _ step: Int) {
        let all = TrainForm.Field.allCases
        s.trainForm.cursor = all[(s.trainForm.cursor.rawValue + step + all.count) % all.count]
    }

    static func stepTrainField(_ s: inout WorkbenchState, up: Bool) {
        s.trainForm.step(s.trainForm.cursor, up: up)
        describeTrainField(&s)
    }

    static func resetTrainField(_ s: inout WorkbenchState) {
        s.trainForm.reset(s.trainForm.cursor)
        describeTrainField(&s)
    }

    static func describeTrainField(_ s: inout WorkbenchState) {
        let field = s.trainForm.cursor
        if let problem = s.trainForm.problem { error(&s, problem); return }
        info(&s, "\(field.label) \(s.trainForm.value(field))" + (s.trainForm.isDefault(field) ? " (default)" : ""))
    }

    /// Where run `id` saves its network: beside the session log, named after it (so the two
    /// stay together), else in the sessions directory. The runtime picks the next unused name
    /// if the file exists.
    public static func trainingOutputPath(_ s: WorkbenchState, run id: Int) -> String {
        if let log = s.sessionLog {
            let stem = (Path.name(log) as NSString).deletingPathExtension
            return Path.join(Path.directory(of: log), "\(stem)-train\(id).json")
        }
        return Path.join(s.sessionsDirectory, "trained-\(id).json")
    }

    static func startTraining(_ s: inout WorkbenchState) -> [Effect] {
        guard !s.isRunning else { s.mode = .main; error(&s, "a run is active — Esc or c cancels it"); return [] }
        if let problem = s.trainForm.problem { error(&s, problem); return [] }
        s.mode = .main
        let id = s.nextRunID
        s.nextRunID += 1
        let parameters = s.trainForm.parameters(out: trainingOutputPath(s, run: id))
        let name = (Path.name(parameters.out) as NSString).deletingPathExtension
        let runParameters = RunParameters(method: TrainingRun.methodID, label: "Training", norm: .linf, seed: parameters.seed,
                                          options: ["hidden": String(parameters.hidden)], network: name)
        s.training = TrainingRun(parameters: parameters, view: RunView(id: id, parameters: runParameters, startedAt: s.clock))
        s.shownRun = id
        s.showsCertify = false
        s.plot = .convergence
        info(&s, "training \(s.trainForm.summary) on digits… Esc cancels (keeps the last finished epoch)")
        return [.log(.trainingStarted(time: "", run: id, parameters: parameters)), .startTraining(run: id, parameters: parameters)]
    }

    static func cancelTraining(_ s: inout WorkbenchState) -> [Effect] {
        guard var t = s.runningTraining else { return [] }
        if t.view.cancelling { return [] }
        t.view.cancelling = true
        s.training = t
        info(&s, "cancelling training after the current batch… (keeps the last finished epoch's network)")
        return [.cancel(run: t.id)]
    }

    /// The live table's row of an epoch: loss, accuracies, μ∞(A), the certified bound (inf
    /// when μ∞(A) ≥ 1: no finite bound is certified), mean forward iterations, the epoch's seconds.
    public static func epochRow(_ r: EpochRecord) -> IterationRecord {
        let metrics = [Metric("loss", r.loss), Metric("train_acc", r.trainAccuracy), Metric("test_acc", r.testAccuracy),
                       Metric("mu_inf", r.muInf), Metric("bound", r.certifiedBound ?? .infinity),
                       Metric("iter", r.meanForwardIterations), Metric("epoch_s", r.seconds)]
        return IterationRecord(index: r.epoch, elapsed: r.elapsed, metrics: metrics)
    }

    static func training(_ s: inout WorkbenchState, _ id: Int, _ update: TrainingUpdate) -> [Effect] {
        guard var t = s.training, t.id == id, t.running else { return [] }
        switch update {
        case .log(let message):
            t.view.messages.append(message)
            s.training = t
            return [.log(.log(run: id, message: message))]
        case .epoch(let record):
            t.epochs.append(record)
            t.view.add(epochRow(record))
            s.training = t
            return [.log(.trainingEpoch(run: id, record: record))]
        case .finished(let summary):
            t.summary = summary
            t.view.cancelling = false
            let text = finishText(s, t, summary)
            t.endText = text
            t.view.messages.append(text)
            s.training = t
            s.shownRun = id
            let ok = summary.status == .finished && summary.saveError == nil
            if ok { info(&s, text) } else { error(&s, text) }
            var effects: [Effect] = [.log(.trainingFinished(time: "", run: id, summary: summary))]
            // Open the trained network so contraction / implicit-sdp run on it.
            if let saved = summary.saved, summary.epochs > 0 {
                effects.append(.loadNetwork(path: saved))
            }
            return effects
        }
    }

    static func finishText(_ s: WorkbenchState, _ t: TrainingRun, _ summary: TrainingSummary) -> String {
        let epochs = "\(summary.epochs) epoch\(summary.epochs == 1 ? "" : "s")"
        var text: String
        switch summary.status {
        case .finished: text = "trained \(epochs) in \(Format.seconds(summary.seconds))"
        case .cancelled: text = "training cancelled after \(epochs)"
        case .failed: text = "training failed: \(summary.reason ?? "unknown reason")"
        }
        if let last = t.epochs.last {
            text += String(format: ": test accuracy %.2f %%", 100 * last.testAccuracy)
            text += last.certifiedBound.map { ", certified ℓ∞ bound \(Format.number($0)) (η = 1)" } ?? ", no certified ℓ∞ bound (μ∞(A) ≥ 1)"
        }
        if let saved = summary.saved {
            // Beside the session log (the title bar shows where that is): the file name is enough.
            let besideLog = s.sessionLog.map { Path.directory(of: $0) == Path.directory(of: saved) } ?? false
            let shown = besideLog ? Path.name(saved) : View.relative(saved, s.workingDirectory)
            text += summary.status == .finished ? "; saved \(shown)" : "; kept epoch \(summary.epochs)'s network in \(shown)"
        } else if let problem = summary.saveError {
            text += "; could not save the network: \(problem)"
        } else if summary.epochs == 0 {
            text += "; no epoch finished, nothing saved"
        }
        return text
    }
}
