import Foundation
import LipscopeEngine

/// What a certification run reports to the workbench (`Effect.startCertify`): the certifier's
/// progress as it happens, then exactly one end.
public enum CertifyUpdate: Sendable {
    /// A stage shared by the classes ("bounding the region", "attack", "branching on class 3").
    case phase(String)
    /// Class `others[index]` settled with these certified lower bounds of f_c − f_j.
    case settled(index: Int, margin: Double, bound: Double, lowerMargin: Double)
    case finished(Certifier.Outcome)
    /// The end of an implicit net's run.
    case finishedImplicit(ImplicitCertifier.Outcome)
    case cancelled(seconds: Double)
    case failed(message: String, seconds: Double)
}

/// A certification run (`v`): does the label stay strictly above every other class over the
/// region? The record is what the session log keeps; it fills in as classes settle, and its
/// verdict is the certifier's own (holds only from certified bounds, violated only with a
/// counterexample a forward pass confirmed), so it reads exactly like `lipscope certify`.
public struct CertifyJob: Sendable {
    public var id: Int
    public var record: CertifyRecord
    public var startedAt: Double
    /// The certifier's current stage while it runs.
    public var phase: String?
    public var cancelling = false
    public var running = true

    public init(id: Int, record: CertifyRecord, startedAt: Double) {
        self.id = id; self.record = record; self.startedAt = startedAt
    }

    /// The method the workbench certifies with: the CLI's default (the tightest).
    public static let method = Certifier.Method.standard
    /// For implicit nets: the CLI's default for them.
    public static let implicitMethod = ImplicitCertifier.Method.standard

    /// "certify label 3 r=0.03".
    public var title: String { "certify label \(record.label) \(record.region.tag)" }

    public var holding: Int { record.classes.filter(\.holds).count }

    /// While it runs: "certify label 3 r=0.03: 5/9 classes, 5 hold".
    public var progressText: String {
        "\(title): \(record.classes.count)/\(record.others.count) classes, \(holding) hold"
    }

    /// Once it ended: "certify label 3 r=0.03 (bab): holds — 9/9 classes hold, 0.12 s".
    public var verdictText: String {
        "\(title) (\(record.method)): \(record.outcome) — \(record.detail), \(Format.seconds(record.seconds))"
    }

    /// The class bound of `other`, once settled.
    public func bound(of other: Int) -> CertifyRecord.ClassBound? {
        record.classes.first { $0.other == other }
    }
}
