import Foundation
import LipscopeEngine

/// The workbench's names for the engine's presentation (`Presentation`): narrow cells use
/// six significant digits and short durations.
public enum Format {
    public static func number(_ x: Double?) -> String { Presentation.shortNumber(x) }

    /// At most `width` characters.
    public static func compact(_ x: Double?, width: Int) -> String { Presentation.compact(x, width: width) }

    public static func seconds(_ s: Double) -> String { Presentation.shortDuration(s) }

    public static func pad(_ s: String, _ width: Int, right: Bool = false) -> String {
        if s.count >= width { return String(s.prefix(width)) }
        let fill = String(repeating: " ", count: width - s.count)
        return right ? fill + s : s + fill
    }
}
