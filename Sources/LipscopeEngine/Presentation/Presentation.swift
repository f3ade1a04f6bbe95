import Foundation

/// How lipscope shows numbers and durations to people — the CLI, the workbench and session
/// reports all call these, so a value reads the same everywhere. (JSON never goes through
/// here: it is Codable, with full precision.)
public enum Presentation {
    /// Six decimals, scientific outside [1e-3, 1e6): the CLI's and the reports' bound columns
    /// ("4.110333", "8.826557e+04"); "—" for no value.
    public static func number(_ x: Double?) -> String {
        guard let x else { return "—" }
        if let special = nonFinite(x) { return special }
        if x == 0 { return "0" }
        if abs(x) >= 1e6 || abs(x) < 1e-3 { return String(format: "%.6e", x) }
        return String(format: "%.6f", x)
    }

    /// Six significant digits, scientific outside [1e-3, 1e6): the workbench's status line and
    /// narrow panes ("1.73625", "8.827e+04").
    public static func shortNumber(_ x: Double?) -> String {
        guard let x else { return "—" }
        if let special = nonFinite(x) { return special }
        if x == 0 { return "0" }
        if abs(x) >= 1e6 || abs(x) < 1e-3 { return String(format: "%.3e", x) }
        return String(format: "%.6g", x)
    }

    /// At most `width` characters, dropping significant digits as needed (iteration tables).
    public static func compact(_ x: Double?, width: Int) -> String {
        guard let x else { return "—" }
        if x.isNaN || x.isInfinite || x == 0 { return shortNumber(x) }
        for digits in stride(from: 6, through: 1, by: -1) {
            let s = abs(x) >= 1e5 || abs(x) < 1e-3 ? trimMantissa(String(format: "%.\(max(0, digits - 1))e", x)) : String(format: "%.\(digits)g", x)
            if s.count <= width { return s }
        }
        return String(format: "%.0e", x)
    }

    /// A ratio to the best lower bound ("1.470"), "—" when there is none.
    public static func ratio(_ x: Double?) -> String {
        x.map { String(format: "%.3f", $0) } ?? "—"
    }

    /// Wall time with one decimal of milliseconds below a second ("0.7 ms", "2.50 s"): the CLI
    /// and reports, where times are compared across methods.
    public static func duration(_ s: Double) -> String {
        s < 1 ? String(format: "%.1f ms", s * 1000) : String(format: "%.2f s", s)
    }

    /// Wall time in at most eight characters ("500 ms", "2.50 s", "100 s", "1.5 h"): the
    /// workbench's running clocks and table cells.
    /// A predicted duration, as coarse as the prediction: "~3 ms", "~40 s", "~12 min", "~2 h".
    public static func estimate(_ s: Double) -> String {
        if s < 1 { return String(format: "~%.0f ms", max(1, (s * 1000).rounded())) }
        if s < 100 { return String(format: "~%.0f s", s.rounded()) }
        if s < 5400 { return String(format: "~%.0f min", (s / 60).rounded()) }
        return String(format: "~%.0f h", (s / 3600).rounded())
    }

    public static func shortDuration(_ s: Double) -> String {
        if s < 1 { return String(format: "%.0f ms", s * 1000) }
        if s < 100 { return String(format: "%.2f s", s) }
        if s < 3600 { return String(format: "%.0f s", s) }
        return String(format: "%.1f h", s / 3600)
    }

    static func nonFinite(_ x: Double) -> String? {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x > 0 ? "inf" : "-inf" }
        return nil
    }

    /// "1.0000e-05" → "1e-05", "2.5000e+07" → "2.5e+07".
    static func trimMantissa(_ s: String) -> String {
        guard let e = s.firstIndex(of: "e"), s[..<e].contains(".") else { return s }
        var mantissa = String(s[..<e])
        while mantissa.hasSuffix("0") { mantissa.removeLast() }
        if mantissa.hasSuffix(".") { mantissa.removeLast() }
        return mantissa + s[e...]
    }
}

extension Presentation {
    /// A `details` value in one line: whole numbers without decimals ("6930"), other numbers as
    /// `number`, arrays and objects abbreviated after six entries.
    public static func detail(_ v: JSONValue) -> String {
        switch v {
        case .number(let x): return x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : number(x)
        case .string(let s): return s
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        case .array(let a):
            let shown = a.prefix(6).map(detail).joined(separator: ", ")
            return "[\(shown)\(a.count > 6 ? ", … (\(a.count) entries)" : "")]"
        case .object(let o):
            return "{" + o.keys.sorted().prefix(6).map { "\($0): \(detail(o[$0]!))" }.joined(separator: ", ") + "}"
        }
    }
}
