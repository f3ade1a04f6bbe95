/// The words for what a result promises. One wording everywhere: an upper bound whose
/// certificate the engine did not check is "upper bound, NOT certified" — the value is shown,
/// and the sentence says in the same breath that it is not a proven bound.
extension Presentation {
    /// "certified upper bound", "upper bound, NOT certified", "lower bound" or "exact value".
    public static func meaning(_ r: BoundResult) -> String {
        switch r.kind {
        case .upper: r.certified ? "certified upper bound" : "upper bound, NOT certified"
        case .lower: "lower bound"
        case .exact: r.certified ? "exact value" : "exact value, upper side NOT certified"
        }
    }

    /// "certified" or "NOT certified" for an upper bound or exact value (whose upper side is a
    /// bound too); nil otherwise (a lower bound is attained at a real input and needs no
    /// certificate, and a missing value has nothing to certify).
    public static func certification(_ r: BoundResult) -> String? {
        guard r.kind != .lower, r.value != nil else { return nil }
        return r.certified ? "certified" : "NOT certified"
    }

    /// The table cell under "cert": "yes", "NO", or empty where `certification` is nil.
    public static func certifiedCell(_ r: BoundResult) -> String {
        guard certification(r) != nil else { return "" }
        return r.certified ? "yes" : "NO"
    }

    /// A status as shown to people: the same word as the `--json` `status` field
    /// ("not_contractive"), so a table and a script read the same thing.
    public static func status(_ s: BoundStatus) -> String { s.rawValue }

    /// One line for a finished run: "<label> ℓ2 d=3: 1.73625 certified upper bound (12 ms)", or
    /// "<label> ℓ2: failed — <reason> (12 ms)" without a value.
    public static func sentence(_ r: BoundResult, label: String) -> String {
        let time = shortDuration(r.seconds)
        guard let v = r.value else {
            var text = "\(label) \(r.norm.symbol): \(status(r.status))"
            if case .string(let reason)? = r.details["reason"] { text += " — \(reason)" }
            return text + " (\(time))"
        }
        return "\(label) \(r.norm.symbol)\(r.degree.map { " d=\($0)" } ?? ""): \(shortNumber(v)) \(meaning(r)) (\(time))"
    }
}
