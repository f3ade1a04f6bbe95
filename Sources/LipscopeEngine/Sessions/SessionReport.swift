import Foundation

/// Renders a session as Markdown: networks, the comparison table per network, a convergence
/// summary per run, and notes.
public enum SessionReport {
    public static func markdown(_ session: SessionRecord, title: String, logPath: String? = nil) -> String {
        var out: [String] = ["# lipscope session: \(title)", ""]
        if let logPath { out.append("- log: `\(logPath)`") }
        out.append("- lipscope \(session.version ?? "?"), started \(session.started ?? "?")"
                   + (session.ended.map { ", ended \($0)" } ?? ", no end recorded"))
        out.append("- \(session.runs.count) runs (\(session.finishedRuns.count) finished) on \(session.networkNames.count) network(s)"
                   + (session.trainings.isEmpty ? "" : ", \(session.trainings.count) training run(s)")
                   + (session.certifications.isEmpty ? "" : ", \(session.certifications.count) certify run(s)"))
        if let problem = session.problem {
            out.append("- **Recovered log:** \(problem)")
        }
        out.append("")
        for name in session.networkNames {
            out += networkSection(session, name)
        }
        for training in session.trainings {
            out += trainingSection(training)
        }
        if !session.certifications.isEmpty {
            out += certifySection(session.certifications)
        }
        if !session.notes.isEmpty {
            out += ["## Notes", ""] + session.notes.map { "- \($0)" } + [""]
        }
        return out.joined(separator: "\n")
    }

    static func networkSection(_ session: SessionRecord, _ name: String) -> [String] {
        var out = ["## Network: \(name)", ""]
        if let net = session.network(named: name) {
            let s = net.summary
            out += ["| | |", "|---|---|",
                    "| file | `\(net.path)` |",
                    "| sha256 | `\(net.sha256 ?? "unknown")` |",
                    "| kind | \(s.kind) |",
                    "| sizes | \(s.sizes.map(String.init).joined(separator: " → ")) |",
                    "| activations | \(s.activations.joined(separator: ", ")) |",
                    "| parameters | \(s.parameters) (nonzero \(s.nonzeros), \(s.sparseLayers) sparse layers) |",
                    "| hidden neurons | \(s.hiddenNeurons) |"]
            if let mu = s.muInf { out.append("| μ∞(A) | \(number(mu)) |") }
            if let best = s.bestWeightedMu {
                out.append("| best μ_η(A) | \(number(best)) |")
                out.append("| well-posed | \(best < 1 ? "yes (weighted ℓ∞ contraction)" : "not shown by contraction") |")
            }
            for note in s.notes { out.append("| note | \(note) |") }
            out.append("")
        }
        let runs = session.runs.filter { $0.parameters.network == name }
        guard !runs.isEmpty else { return out + ["No runs.", ""] }
        let comparison = session.comparison(network: name)
        out += ["### Comparison", "",
                "| run | method | norm | degree | output | bound | kind | certified | status | time | iterations | ÷ best lower |",
                "|---:|---|---|---:|---:|---:|---|---|---|---:|---:|---:|"]
        for run in runs {
            let p = run.parameters
            guard let r = run.result else {
                out.append("| \(run.id) | \(p.label) | \(p.norm.symbol) | \(p.degree.map(String.init) ?? "") | \(p.output.map(String.init) ?? "all") | — | | | did not finish | | \(run.iterations.last.map { String($0.index) } ?? "") | |")
                continue
            }
            let cert = Presentation.certifiedCell(r)
            let ratio = Presentation.ratio(comparison?.ratioToBestLower(r))
            out.append("| \(run.id) | \(p.label) | \(r.norm.symbol) | \(r.degree.map(String.init) ?? "") | \(r.output.map(String.init) ?? "all") | \(number(r.value)) | \(r.kind.rawValue) | \(cert) | \(Presentation.status(r.status)) | \(seconds(r.seconds)) | \(r.iterations) | \(ratio) |")
        }
        out.append("")
        if let comparison {
            for norm in Norm.allCases {
                if let lower = comparison.bestLower(norm) { out.append("Best lower bound (\(norm.symbol)): \(number(lower))  ") }
            }
            out.append("")
        }
        out += ["### Convergence", ""]
        for run in runs { out += convergence(run) }
        return out
    }

    static func convergence(_ run: SessionRun) -> [String] {
        let p = run.parameters
        var head = "#### Run \(run.id): \(p.label) (`\(p.method)`), \(p.norm.symbol)"
        if let d = p.degree { head += ", degree \(d)" }
        if let o = p.output { head += ", output \(o)" }
        var out = [head, ""]
        var facts: [String] = []
        if p.sweep { facts.append("part of a degree sweep") }
        if let from = p.replayedFrom { facts.append("replayed from `\(from)`") }
        if !p.options.isEmpty { facts.append("options: " + p.options.keys.sorted().map { "\($0)=\(p.options[$0]!)" }.joined(separator: ", ")) }
        if let r = run.result {
            facts.append("status \(Presentation.status(r.status)), \(r.iterations) iterations reported, \(seconds(r.seconds))")
            if case .string(let reason)? = r.details["reason"] { facts.append("reason: \(reason)") }
        } else {
            facts.append("**did not finish** (the log ends before the run's result)")
        }
        if let progress = run.lastProgress {
            facts.append("last progress: \(progress.phase) \(progress.done)/\(progress.total)")
        }
        out += facts.map { "- \($0)" }
        if let first = run.iterations.first, let last = run.iterations.last {
            out.append("- \(run.iterations.count) iterations logged (\(first.index) … \(last.index)), last at \(seconds(last.elapsed))")
            var names: [String] = []
            for it in run.iterations { for m in it.metrics where !names.contains(m.name) { names.append(m.name) } }
            out += ["", "| metric | first | last | min | max |", "|---|---:|---:|---:|---:|"]
            for name in names {
                let values = run.iterations.compactMap { $0.value(name) }
                guard let f = values.first, let l = values.last else { continue }
                out.append("| \(name) | \(number(f)) | \(number(l)) | \(number(values.min()!)) | \(number(values.max()!)) |")
            }
        } else {
            out.append("- no iterations logged")
        }
        if let r = run.result {
            let certificate = r.details.keys.sorted().filter { $0 != "reason" }
            if !certificate.isEmpty {
                out += ["", "Details: " + certificate.map { "\($0) = \(describe(r.details[$0]!))" }.joined(separator: "; ")]
            }
        }
        out.append("")
        return out
    }

    /// One training run: its settings (as a command line), each epoch, and how it ended.
    /// One row per certification run (`v`): its region, label, verdict and the worst class.
    static func certifySection(_ records: [CertifyRecord]) -> [String] {
        var out = ["## Certify runs", "",
                   "| network | region | label | method | verdict | classes holding | lowest margin over the region (class) | time |",
                   "|---|---|---:|---|---|---:|---:|---:|"]
        for r in records {
            let worst = r.classes.min { $0.lowerMargin < $1.lowerMargin }
            out.append("| \(r.network) | \(r.region.description) | \(r.label) | \(r.method) | **\(r.outcome)**"
                       + (r.replayedFrom.map { " (from \($0))" } ?? "") + " | \(r.classes.filter(\.holds).count)/\(r.others.count) | "
                       + (worst.map { "\(number($0.lowerMargin)) (\($0.other))" } ?? "—") + " | \(seconds(r.seconds)) |")
        }
        return out + [""]
    }

    static func trainingSection(_ t: SessionTraining) -> [String] {
        let p = t.parameters
        var out = ["## Training run \(t.id)", "",
                   "- data \(p.data), \(p.hidden) hidden states, \(p.parameterization.rawValue), γ = \(p.gamma), λ = \(p.lambda), "
                   + "\(p.epochs) epochs, seed \(p.seed), batch \(p.batch), learning rate \(p.learningRate)",
                   "- repeat with: `\(p.command)`"]
        out += t.messages.map { "- \($0)" }
        if let sum = t.summary {
            out.append("- **\(sum.status.rawValue)**\(sum.reason.map { " (\($0))" } ?? ""): \(sum.epochs) epochs in \(seconds(sum.seconds))")
            if let saved = sum.saved { out.append("- network saved to `\(saved)` (the last finished epoch's)") }
            if let error = sum.saveError { out.append("- **not saved:** \(error)") }
        } else {
            out.append("- **did not finish** (the log ends before the training's end)")
        }
        out.append("")
        guard !t.epochs.isEmpty else { return out + ["No epoch finished.", ""] }
        out += ["| epoch | loss | train acc | test acc | μ∞(A) | certified ℓ∞ bound (η = 1) | mean fwd iter | epoch time |",
                "|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in t.epochs {
            out.append("| \(r.epoch) | \(number(r.loss)) | \(percent(r.trainAccuracy)) | \(percent(r.testAccuracy)) | \(number(r.muInf)) | "
                       + "\(r.certifiedBound.map(number) ?? "not certified (μ∞(A) ≥ 1)") | \(String(format: "%.1f", r.meanForwardIterations)) | \(seconds(r.seconds)) |")
        }
        out.append("")
        return out
    }

    static func percent(_ x: Double) -> String { x.isFinite ? String(format: "%.2f %%", 100 * x) : "—" }

    static func describe(_ v: JSONValue) -> String { Presentation.detail(v) }

    static func number(_ x: Double?) -> String { Presentation.number(x) }
    static func seconds(_ s: Double) -> String { Presentation.duration(s) }
}
