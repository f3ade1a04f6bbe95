import Foundation

/// A certification run (`v` in the workbench) as the session log keeps it: on which network,
/// which region and label, by which method, the verdict and every class's certified bounds.
/// Enough to repeat the run (the region's numbers are kept, not only its file's name).
public struct CertifyRecord: Codable, Sendable, Equatable {
    /// An ℓ∞ ball (center, radius) or a box (lower, upper), and the file it came from.
    public struct Region: Codable, Sendable, Equatable {
        public var center: [Double]?
        public var radius: Double?
        public var lower: [Double]?
        public var upper: [Double]?
        public var source: String?

        public init(center: [Double]? = nil, radius: Double? = nil, lower: [Double]? = nil, upper: [Double]? = nil,
                    source: String? = nil) {
            self.center = center; self.radius = radius; self.lower = lower; self.upper = upper; self.source = source
        }

        /// "ball r=0.03 around x.json", "box of prop_7.vnnlib".
        public var description: String {
            let name = source ?? "a point"
            if let radius { return "ball r=\(radius) around \(name)" }
            return "box of \(name)"
        }

        /// The short tag of a Compare row ("r=0.03", "box").
        public var tag: String { radius.map { "r=\($0)" } ?? "box" }
    }

    /// One other class j: the certified lower bounds of f_c − f_j.
    public struct ClassBound: Codable, Sendable, Equatable {
        public var other: Int
        /// At the region's center.
        public var margin: Double
        /// L_cj for the Lipschitz methods; the lower bound over the region for the others.
        public var bound: Double
        /// Over the region: what the class's verdict rests on.
        public var lowerMargin: Double
        public var holds: Bool { lowerMargin > 0 }

        public init(other: Int, margin: Double, bound: Double, lowerMargin: Double) {
            self.other = other; self.margin = margin; self.bound = bound; self.lowerMargin = lowerMargin
        }

        enum CodingKeys: String, CodingKey { case other = "class", margin, bound, lowerMargin = "lower_margin" }
    }

    public struct Counterexample: Codable, Sendable, Equatable {
        public var other: Int
        public var input: [Double]
        public var outputs: [Double]
        public init(other: Int, input: [Double], outputs: [Double]) { self.other = other; self.input = input; self.outputs = outputs }
        enum CodingKeys: String, CodingKey { case other = "class", input, outputs }
    }

    /// Whether the certification ran to its verdict.
    public enum Status: String, Codable, Sendable { case finished, cancelled, failed }

    public var network: String
    public var label: Int
    /// The classes that must stay below the label, in the certifier's order.
    public var others: [Int]
    public var method: String
    public var region: Region
    public var verdict: Certifier.Verdict
    public var status: Status
    /// The settled classes, in the order they settled (all of `others` once finished).
    public var classes: [ClassBound]
    public var seconds: Double
    public var counterexample: Counterexample?
    public var note: String?
    /// bab: the sub-domains it bounded.
    public var domains: Int?
    /// Set when copied from another session log.
    public var replayedFrom: String?

    public init(network: String, label: Int, others: [Int], method: String, region: Region, verdict: Certifier.Verdict,
                status: Status, classes: [ClassBound], seconds: Double, counterexample: Counterexample? = nil,
                note: String? = nil, domains: Int? = nil, replayedFrom: String? = nil) {
        self.network = network; self.label = label; self.others = others; self.method = method; self.region = region
        self.verdict = verdict; self.status = status; self.classes = classes; self.seconds = seconds
        self.counterexample = counterexample; self.note = note; self.domains = domains; self.replayedFrom = replayedFrom
    }

    enum CodingKeys: String, CodingKey {
        case network, label, others, method, region, verdict, status, classes, seconds, counterexample, note, domains
        case replayedFrom = "replayed_from"
    }

    /// "holds", "violated", "unknown", or "cancelled" / "failed" when it did not reach a verdict.
    public var outcome: String {
        switch status {
        case .finished: verdict.rawValue
        case .cancelled, .failed: status.rawValue
        }
    }

    /// "9/9 classes hold", "class 7 reaches label 3 (forward pass checked)", "5/9 classes settled, 5 hold".
    public var detail: String {
        let holding = classes.filter(\.holds).count
        switch (status, verdict) {
        case (.cancelled, _): return "\(classes.count)/\(others.count) classes settled, \(holding) hold"
        case (.failed, _): return note ?? "no verdict"
        case (_, .violated):
            return "class \(counterexample.map { "\($0.other)" } ?? "?") reaches label \(label) (forward pass checked)"
        default: return "\(holding)/\(others.count) classes hold"
        }
    }

    /// "holds: 9/9 classes hold".
    public var summary: String { "\(outcome): \(detail)" }

    /// Records a finished run. The outcome is authoritative: every class, in the certifier's
    /// order (the live `settled` updates may have come in any order).
    public mutating func finish(margins: [Double], bounds: [Double], lowerMargins: [Double], verdict: Certifier.Verdict,
                                seconds: Double, note: String?, domains: Int?, counterexample: Certifier.Counterexample?) {
        classes = others.indices.map {
            .init(other: others[$0], margin: margins[$0], bound: bounds[$0], lowerMargin: lowerMargins[$0])
        }
        self.verdict = verdict
        self.seconds = seconds
        self.note = note
        self.domains = domains
        self.counterexample = counterexample.map { .init(other: $0.winner, input: $0.input, outputs: $0.outputs) }
    }
}
