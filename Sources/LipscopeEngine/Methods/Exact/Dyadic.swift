import BigInt

/// An exact dyadic rational m·2^e. Every finite Double is one, and sums and products of
/// dyadics stay dyadic, so the affine forms a network's weights induce on a linear region are
/// computed here with no rounding at all: the exact values of the network the doubles define.
struct Dyadic: Sendable, Equatable {
    /// Odd, or zero (then `exponent` is 0): one representation per value.
    private(set) var mantissa: BigInt
    private(set) var exponent: Int

    static let zero = Dyadic(mantissa: 0, exponent: 0)

    init(mantissa: BigInt, exponent: Int) {
        if mantissa == 0 {
            self.mantissa = 0
            self.exponent = 0
            return
        }
        let shift = mantissa.trailingZeroBitCount
        self.mantissa = mantissa >> shift
        self.exponent = exponent + shift
    }

    /// The exact value of a finite double.
    init(_ x: Double) {
        precondition(x.isFinite, "Dyadic of a non-finite double")
        let bits = BigInt(x.significandBitPattern)
        let biased = Int(x.exponentBitPattern)
        // Subnormals have no implicit leading bit and the smallest exponent.
        let m = biased == 0 ? bits : bits + (BigInt(1) << Double.significandBitCount)
        let e = (biased == 0 ? 1 : biased) - 1023 - Double.significandBitCount
        self.init(mantissa: x.sign == .minus ? -m : m, exponent: e)
    }

    var isZero: Bool { mantissa == 0 }
    /// −1, 0 or 1.
    var sign: Int { mantissa == 0 ? 0 : (mantissa < 0 ? -1 : 1) }

    static func + (a: Dyadic, b: Dyadic) -> Dyadic {
        if a.isZero { return b }
        if b.isZero { return a }
        let e = min(a.exponent, b.exponent)
        return Dyadic(mantissa: (a.mantissa << (a.exponent - e)) + (b.mantissa << (b.exponent - e)), exponent: e)
    }

    static prefix func - (a: Dyadic) -> Dyadic { Dyadic(mantissa: -a.mantissa, exponent: a.exponent) }
    static func - (a: Dyadic, b: Dyadic) -> Dyadic { a + (-b) }

    static func * (a: Dyadic, b: Dyadic) -> Dyadic {
        if a.isZero || b.isZero { return .zero }
        return Dyadic(mantissa: a.mantissa * b.mantissa, exponent: a.exponent + b.exponent)
    }

    /// The integer N with value = N·2^k, for k at most `exponent`: with k the smallest exponent
    /// of a row, a row of dyadics becomes a row of integers (the row times 2^−k > 0).
    func integer(atExponent k: Int) -> BigInt {
        precondition(k <= exponent || isZero, "Dyadic.integer: exponent \(k) would lose bits")
        return isZero ? 0 : mantissa << (exponent - k)
    }
}
