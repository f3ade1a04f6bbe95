import Foundation
import LipscopeEngine

/// The live pane of a certification run (`v`): which label over which region, how many
/// classes settled and hold while it runs, then the verdict and every class's bounds.
extension View {
    static func certifyPane(_ screen: inout ScreenBuffer, _ s: WorkbenchState, _ job: CertifyJob, _ rect: Rect) {
        let r = job.record
        var title = "Live: #\(job.id) "
        if job.running {
            let elapsed = max(0, s.clock - job.startedAt)
            title += job.cancelling ? "\(job.progressText) — cancelling…" : "\(job.progressText) — running \(Format.seconds(elapsed))"
        } else {
            title += job.verdictText + (r.replayedFrom != nil ? " (replayed)" : "")
        }
        screen.box(rect, title: title, style: job.running ? .normal : .muted, titleStyle: job.running ? .accent : .title)
        let inner = rect.inner
        guard inner.height >= 1 else { return }
        var row = inner.row
        let end = inner.row + inner.height
        func line(_ text: String, _ style: Style) {
            guard row < end else { return }
            screen.text(row, inner.col, text, style, width: inner.width)
            row += 1
        }
        let verdictStyle: Style = job.running ? .muted : r.status != .finished ? .warn
            : r.verdict == .holds ? Style(.good, bold: true) : r.verdict == .violated ? Style(.bad, bold: true) : .warn
        line("label \(r.label) over the \(r.region.description), method \(r.method) — "
             + (job.running ? (job.phase ?? "starting") : r.summary), verdictStyle)
        // The Lipschitz methods certify from L_cj; the others bound the margin directly.
        let lipschitz = Certifier.Method(rawValue: r.method)?.usesLipschitz == true
            || ImplicitCertifier.Method(rawValue: r.method)?.usesLipschitz == true
        line(Format.pad("class", 6) + Format.pad("at center ≥", 14, right: true) + Format.pad("over region ≥", 15, right: true)
             + (lipschitz ? Format.pad("L", 12, right: true) : "") + "  ", Style(.title, bold: true))
        for other in r.others {
            guard row < end else { break }
            var text = Format.pad("\(other)", 6)
            guard let b = job.bound(of: other) else {
                line(text + Format.pad("…", 14, right: true), .muted)
                continue
            }
            text += Format.pad(Format.compact(b.margin, width: 13), 14, right: true)
                + Format.pad(Format.compact(b.lowerMargin, width: 14), 15, right: true)
            if lipschitz { text += Format.pad(Format.compact(b.bound, width: 11), 12, right: true) }
            let mark = b.holds ? "holds" : r.counterexample?.other == other ? "violated" : "not certified"
            line(text + "  " + mark, b.holds ? .normal : .warn)
        }
        if let ce = r.counterexample {
            line("counterexample: class \(ce.other) reaches \(Format.number(ce.outputs[ce.other])) ≥ \(Format.number(ce.outputs[r.label])) (forward pass checked)", Style(.bad, bold: true))
        }
        if let note = r.note { line("note: \(note)", .warn) }
    }
}
