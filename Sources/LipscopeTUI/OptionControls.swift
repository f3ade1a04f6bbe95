import Foundation
import LipscopeEngine

/// The Run pane's controls for a method's declared options (`BoundMethod.options`): which are
/// shown, how a key steps a value, and how a value reads. A value is either set by the user
/// (passed in `BoundRequest.options`) or unset (nil: the method uses its declared default).
public enum OptionControls {
    /// The options the pane shows: every declared one but file paths (typed on the CLI).
    public static func shown(_ method: any BoundMethod) -> [MethodOption] {
        method.options.filter { $0.kind != .path }
    }

    /// The value after one step up (`up`) or down. Choices and flags cycle through unset (the
    /// default) and every other accepted word — setting the default explicitly would mean the
    /// same; integers step by one (by doubling from 1000 on); reals walk the 1-2-5 ladder.
    /// Stepping below the range, or onto the default, unsets the option.
    public static func step(_ option: MethodOption, _ current: String?, up: Bool) -> String? {
        switch option.kind {
        case .choice, .flag:
            let words = (option.choices ?? []).filter { $0 != option.defaultValue?.lowercased() }
            let cycle: [String?] = [nil] + words.map { Optional($0) }
            let i = cycle.firstIndex { $0 == current?.lowercased() } ?? 0
            return cycle[(i + (up ? 1 : cycle.count - 1)) % cycle.count]
        case .int(let lo, let hi):
            let base = current.flatMap { Int($0) } ?? option.defaultValue.flatMap { Int($0) }
            guard let base else { return up ? String(max(lo ?? 1, min(hi ?? .max, 1))) : nil }
            let large = base >= 1000
            var next = up ? (large ? base * 2 : base + 1) : (large ? base / 2 : base - 1)
            if let hi { next = min(next, hi) }
            if let lo, next < lo { return nil }
            return String(next) == option.defaultValue ? nil : String(next)
        case .double(let lo, let hi, let open):
            let ladder = Self.ladder(lo: lo, hi: hi, open: open)
            guard !ladder.isEmpty else { return current }
            let base = current.flatMap { Double($0) } ?? option.defaultValue.flatMap { Double($0) }
            guard let base else {
                // Unset without a default: start at the ladder's value nearest 1.
                guard up else { return nil }
                return format(ladder.min { abs(log10($0)) < abs(log10($1)) }!)
            }
            if up {
                return format(ladder.first { $0 > base * (1 + 1e-12) } ?? ladder.last!)
            }
            guard let below = ladder.last(where: { $0 < base * (1 - 1e-12) }) else { return nil }
            return format(below) == option.defaultValue ? nil : format(below)
        case .list, .path:
            return current
        }
    }

    /// 1, 2, 5 × 10^k for k in −9…9, inside the option's range.
    static func ladder(lo: Double?, hi: Double?, open: Bool) -> [Double] {
        (-9...9).flatMap { e in [1.0, 2, 5].map { $0 * pow(10, Double(e)) } }.filter { v in
            (lo.map { open ? v > $0 : v >= $0 } ?? true) && (hi.map { open ? v < $0 : v <= $0 } ?? true)
        }
    }

    static func format(_ v: Double) -> String { String(format: "%g", v) }

    /// What the pane shows for an option: the value in effect, marked "*" with the default
    /// beside it when the user set it ("solver csdp* (default dsdp)"); "—" for a default the
    /// method decides itself.
    public static func token(_ option: MethodOption, _ value: String?) -> String {
        if let value { return "\(option.key) \(value)*" + (option.defaultValue.map { " (default \($0))" } ?? "") }
        return "\(option.key) \(option.defaultValue ?? "—")"
    }

    /// The message line's account of an option: value, default, and the declaration's help.
    public static func describe(_ option: MethodOption, _ value: String?, method: String) -> String {
        let setting = value.map { "\($0) (set; default \(option.defaultValue ?? "—"))" }
            ?? "\(option.defaultValue ?? "—") (default)"
        return "\(method) \(option.key): \(setting) — \(option.help)"
    }
}
