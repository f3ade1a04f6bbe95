import Foundation

/// Braille line plots and block bars, drawn into a screen buffer.
public enum Plot {
    public struct Series: Sendable {
        public var name: String
        public var values: [Double]
        public var style: Style
        public init(name: String, values: [Double], style: Style) { self.name = name; self.values = values; self.style = style }
    }

    /// Draws the series (one value per x step, sharing the x axis) in `rect`: a label column with
    /// the top and bottom of the y range, then braille dots (2×4 per cell). With `log`, the y axis
    /// is log10 and non-positive values are skipped. The x axis grows with the data until it
    /// fills the width, then compresses.
    /// With `spread`, the points always span the whole width (few points, e.g. degrees).
    public static func braille(_ screen: inout ScreenBuffer, _ rect: Rect, _ series: [Series], log: Bool, spread: Bool = false) {
        let labelWidth = 9
        guard rect.width > labelWidth + 2, rect.height >= 2 else { return }
        let plotWidth = rect.width - labelWidth
        let pxW = plotWidth * 2, pxH = rect.height * 4
        func transform(_ v: Double) -> Double? {
            guard v.isFinite else { return nil }
            if log { return v > 0 ? log10(v) : nil }
            return v
        }
        let all = series.flatMap { $0.values.compactMap(transform) }
        guard let low = all.min(), let high = all.max() else {
            screen.text(rect.row, rect.col, "(no data to plot)", .muted, width: rect.width)
            return
        }
        let (lo, hi) = yRange(low, high, log: log)
        let label: (Double) -> String = { log ? Format.compact(pow(10, $0), width: labelWidth - 1) : Format.compact($0, width: labelWidth - 1) }
        screen.text(rect.row, rect.col, Format.pad(label(hi), labelWidth - 1, right: true) + "┤", .muted)
        screen.text(rect.row + rect.height - 1, rect.col, Format.pad(label(lo), labelWidth - 1, right: true) + "┤", .muted)
        for r in 1..<(rect.height - 1) { screen.set(rect.row + r, rect.col + labelWidth - 1, "│", .muted) }

        var bits = [UInt8](repeating: 0, count: plotWidth * rect.height)
        var owner = [Int](repeating: -1, count: plotWidth * rect.height)
        func dot(_ x: Int, _ y: Int, _ s: Int) {
            guard x >= 0, x < pxW, y >= 0, y < pxH else { return }
            let cell = (y / 4) * plotWidth + x / 2
            let map: [[UInt8]] = [[0x01, 0x02, 0x04, 0x40], [0x08, 0x10, 0x20, 0x80]]
            bits[cell] |= map[x % 2][y % 4]
            owner[cell] = s
        }
        for (k, s) in series.enumerated() {
            let n = s.values.count
            guard n > 0 else { continue }
            var previous: (Int, Int)?
            for (i, v) in s.values.enumerated() {
                guard let t = transform(v) else { previous = nil; continue }
                let x = spread ? (n == 1 ? 0 : Int((Double(i) * Double(pxW - 1) / Double(n - 1)).rounded()))
                    : n <= pxW / 2 ? i * max(1, pxW / max(n, 40)) : Int((Double(i) * Double(pxW - 1) / Double(max(1, n - 1))).rounded())
                let y = Int(((hi - t) / (hi - lo) * Double(pxH - 1)).rounded())
                if let (px, py) = previous {
                    // Connect with a straight segment, one dot per pixel step.
                    let steps = max(abs(x - px), abs(y - py), 1)
                    for t in 0...steps {
                        let f = Double(t) / Double(steps)
                        dot(px + Int((f * Double(x - px)).rounded()), py + Int((f * Double(y - py)).rounded()), k)
                    }
                }
                dot(x, y, k)
                previous = (x, y)
            }
        }
        for r in 0..<rect.height {
            for c in 0..<plotWidth where bits[r * plotWidth + c] != 0 {
                let ch = Character(Unicode.Scalar(0x2800 + UInt32(bits[r * plotWidth + c]))!)
                screen.set(rect.row + r, rect.col + labelWidth + c, ch, series[owner[r * plotWidth + c]].style)
            }
        }
    }

    /// The y axis for data from `min` to `max` (log10 units with `log`). A range narrower than a
    /// thousandth of the values (a bound that stays at 1.79613 up to solver rounding) is widened
    /// around its middle to that much: rounding noise must not fill the plot's height.
    public static func yRange(_ min: Double, _ max: Double, log: Bool) -> (lo: Double, hi: Double) {
        let minimumSpan: Double
        if log {
            minimumSpan = 1e-3 / Foundation.log(10)  // a relative change of 0.1 %, in decades
        } else {
            let magnitude = Swift.max(abs(min), abs(max))
            minimumSpan = magnitude > 0 ? magnitude * 1e-3 : 1
        }
        guard max - min < minimumSpan else { return (min, max) }
        let middle = (min + max) / 2
        return (middle - minimumSpan / 2, middle + minimumSpan / 2)
    }

    /// A horizontal bar of `fraction` (0…1) of `width` cells, in eighths.
    public static func bar(_ fraction: Double, width: Int) -> String {
        guard width > 0, fraction.isFinite else { return "" }
        let eighths = Int((min(1, max(0, fraction)) * Double(width * 8)).rounded())
        let partial = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]
        return String(repeating: "█", count: eighths / 8) + partial[eighths % 8]
    }

    /// The common scale of the compare bars: linear from 0, or log when the values span more
    /// than a factor of 20.
    public struct Scale: Sendable, Equatable {
        public var lo: Double
        public var hi: Double
        public var log: Bool

        public init?(_ values: [Double]) {
            let positive = values.filter { $0.isFinite && $0 > 0 }
            guard let mx = positive.max(), let mn = positive.min() else { return nil }
            hi = mx
            log = mx / mn > 20
            lo = log ? mn / 2 : 0
        }

        public func fraction(_ v: Double) -> Double {
            guard v.isFinite, v > 0 else { return 0 }
            if log { return (Foundation.log(v) - Foundation.log(lo)) / (Foundation.log(hi) - Foundation.log(lo)) }
            return v / hi
        }
    }
}
