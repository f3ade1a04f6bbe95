import Foundation

/// Number and time formatting for narrow table cells.
public enum Format {
    /// Six significant digits, scientific outside [1e-3, 1e6).
    public static func number(_ x: Double?) -> String {
        guard let x else { return "—" }
        if x.isNaN { return "nan" }
        if x.isInfinite { return x > 0 ? "inf" : "-inf" }
        if x == 0 { return "0" }
        if abs(x) >= 1e6 || abs(x) < 1e-3 { return String(format: "%.3e", x) }
        return String(format: "%.6g", x)
    }

    /// At most `width` characters.
    public static func compact(_ x: Double?, width: Int) -> String {
        guard let x else { return "—" }
        if x.isNaN || x.isInfinite || x == 0 { return number(x) }
        for digits in stride(from: 6, through: 1, by: -1) {
            let s = abs(x) >= 1e5 || abs(x) < 1e-3 ? trimMantissa(String(format: "%.\(max(0, digits - 1))e", x)) : String(format: "%.\(digits)g", x)
            if s.count <= width { return s }
        }
        return String(format: "%.0e", x)
    }

    /// "1.0000e-05" → "1e-05", "2.5000e+07" → "2.5e+07".
    static func trimMantissa(_ s: String) -> String {
        guard let e = s.firstIndex(of: "e"), s[..<e].contains(".") else { return s }
        var mantissa = String(s[..<e])
        while mantissa.hasSuffix("0") { mantissa.removeLast() }
        if mantissa.hasSuffix(".") { mantissa.removeLast() }
        return mantissa + s[e...]
    }

    public static func seconds(_ s: Double) -> String {
        if s < 1 { return String(format: "%.0f ms", s * 1000) }
        if s < 100 { return String(format: "%.2f s", s) }
        if s < 3600 { return String(format: "%.0f s", s) }
        return String(format: "%.1f h", s / 3600)
    }

    public static func pad(_ s: String, _ width: Int, right: Bool = false) -> String {
        if s.count >= width { return String(s.prefix(width)) }
        let fill = String(repeating: " ", count: width - s.count)
        return right ? fill + s : s + fill
    }
}
