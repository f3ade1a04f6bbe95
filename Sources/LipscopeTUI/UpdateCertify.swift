import Foundation
import LipscopeEngine

/// The certification run (`v`): the region's label against the other classes, in the
/// background like a bound run (c cancels it), its classes counted in the live pane as they
/// settle, its verdict and bounds written to the session log.
extension Update {
    /// Why `v` cannot certify now, or the problem to certify and how the log records its region.
    static func certifyProblem(_ s: WorkbenchState) -> Result<(Certifier.Problem, CertifyRecord.Region), CertifyRefusal> {
        guard let net = s.network else { return .failure("no network loaded — o opens one") }
        guard let chain = net.network.layerChain else {
            return .failure("certify needs a feedforward network (a chain of layers) or an implicit one; \(net.summary.name) is \(net.summary.kind)")
        }
        return certifyRegion(s, outputs: chain.outputSize).map { found in
            (Certifier.Problem(network: chain, region: found.region, label: found.label, others: found.others), found.record)
        }
    }

    /// The same for an implicit net (nil when the loaded network is not one).
    static func implicitCertifyProblem(_ s: WorkbenchState) -> Result<(ImplicitCertifier.Problem, CertifyRecord.Region), CertifyRefusal>? {
        guard let loaded = s.network, case .implicit(let net) = loaded.network else { return nil }
        return certifyRegion(s, outputs: net.outputSize).map { found in
            (ImplicitCertifier.Problem(network: net, region: found.region, label: found.label, others: found.others), found.record)
        }
    }

    /// The region, label and other classes `v` certifies, or why not.
    static func certifyRegion(_ s: WorkbenchState, outputs: Int)
        -> Result<(region: InputRegion, label: Int, others: [Int], record: CertifyRecord.Region), CertifyRefusal> {
        guard s.region.file != nil else {
            return .failure("certify needs a region — l loads a center point (.json, .txt) or a .vnnlib property")
        }
        guard s.region.active else { return .failure("the region is off (global) — g switches it on; certify needs a ball or a box") }
        guard let label = s.region.label else {
            return .failure("no label: \(s.region.source ?? "the region file") carries none (a .vnnlib property does) — L sets one")
        }
        do {
            guard let (region, record) = try s.region.certifyRegion() else { return .failure("no region") }
            return .success((region, label, s.region.others(outputs: outputs), record))
        } catch {
            return .failure(CertifyRefusal(String(describing: error)))
        }
    }

    static func startCertify(_ s: inout WorkbenchState) -> [Effect] {
        if s.isRunning {
            error(&s, "a run is active — Esc or c cancels it")
            return []
        }
        let label: Int, others: [Int], region: CertifyRecord.Region, method: String, effect: (Int) -> Effect
        if let implicit = implicitCertifyProblem(s) {
            switch implicit {
            case .failure(let why): error(&s, why.text); return []
            case .success(let (problem, found)):
                (label, others, region, method) = (problem.label, problem.others, found, CertifyJob.implicitMethod.rawValue)
                let seed = s.seed
                effect = { .startImplicitCertify(run: $0, problem: problem, method: CertifyJob.implicitMethod, seed: seed) }
            }
        } else {
            switch certifyProblem(s) {
            case .failure(let why): error(&s, why.text); return []
            case .success(let (problem, found)):
                (label, others, region, method) = (problem.label, problem.others, found, CertifyJob.method.rawValue)
                let seed = s.seed
                effect = { .startCertify(run: $0, problem: problem, method: CertifyJob.method, seed: seed) }
            }
        }
        let id = s.nextRunID
        s.nextRunID += 1
        let record = CertifyRecord(network: s.network!.summary.name, label: label, others: others,
                                   method: method, region: region, verdict: .unknown, status: .finished,
                                   classes: [], seconds: 0)
        s.certify = CertifyJob(id: id, record: record, startedAt: s.clock)
        s.showsCertify = true
        info(&s, "\(s.certify!.title): certifying over the \(s.region.description) (\(method))… Esc cancels")
        return [effect(id)]
    }

    static func cancelCertify(_ s: inout WorkbenchState) -> [Effect] {
        guard var job = s.runningCertify, !job.cancelling else { return [] }
        job.cancelling = true
        s.certify = job
        info(&s, "cancelling \(job.title)…")
        return [.cancel(run: job.id)]
    }

    static func certify(_ s: inout WorkbenchState, _ id: Int, _ update: CertifyUpdate) -> [Effect] {
        guard var job = s.certify, job.id == id, job.running else { return [] }
        defer { s.certify = job }
        switch update {
        case .phase(let phase):
            job.phase = phase
            return []
        case .settled(let k, let margin, let bound, let lower):
            guard job.record.others.indices.contains(k) else { return [] }
            job.record.classes.append(.init(other: job.record.others[k], margin: margin, bound: bound, lowerMargin: lower))
            return []
        case .finished(let o):
            job.record.finish(margins: o.margins, bounds: o.bounds, lowerMargins: o.lowerMargins, verdict: o.verdict,
                              seconds: o.seconds, note: o.note, domains: o.method == .bab ? o.domains : nil,
                              counterexample: o.counterexample)
        case .finishedImplicit(let o):
            job.record.finish(margins: o.margins, bounds: o.bounds, lowerMargins: o.lowerMargins, verdict: o.verdict,
                              seconds: o.seconds, note: o.note, domains: nil, counterexample: o.counterexample)
        case .cancelled(let seconds):
            job.record.status = .cancelled
            job.record.seconds = seconds
        case .failed(let message, let seconds):
            job.record.status = .failed
            job.record.note = message
            job.record.seconds = seconds
        }
        job.running = false
        job.cancelling = false
        job.phase = nil
        // A violation is news the user must not miss; unknown and holds are plain answers.
        if job.record.status == .finished && job.record.verdict != .violated { info(&s, job.verdictText) } else { error(&s, job.verdictText) }
        return [.log(.certifyFinished(time: "", run: id, record: job.record))]
    }
}

/// Why `v` does not start: the message line's text.
struct CertifyRefusal: Error, ExpressibleByStringInterpolation {
    var text: String
    init(_ text: String) { self.text = text }
    init(stringLiteral value: String) { text = value }
    init(stringInterpolation: DefaultStringInterpolation) { text = String(stringInterpolation: stringInterpolation) }
}
