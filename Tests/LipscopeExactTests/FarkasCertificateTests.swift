import Foundation
import Testing
import BigInt
@testable import LipscopeEngine

/// The exact arithmetic behind `exact`'s emptiness proofs over all of Rⁿ: dyadic values of
/// doubles, checked against error-free float transformations, and Farkas certificates on
/// polyhedra whose emptiness is known by construction.
@Suite struct FarkasCertificateTests {
    static func doubles(_ count: Int, seed: UInt64) -> [Double] {
        var rng = SeededGenerator(seed: seed)
        return (0..<count).map { i in
            let scale = [1e-300, 1e-20, 1e-3, 1, 1e5, 1e200][i % 6]
            return (rng.uniform(-1, 1)) * scale
        } + [0, -0.0, 1, 0.1, Double.leastNonzeroMagnitude, -Double.leastNormalMagnitude, Double.greatestFiniteMagnitude]
    }

    /// m·2^e rebuilt in floating point is the double itself (subnormals and extremes included).
    @Test func dyadicHoldsEveryDoubleExactly() {
        for x in Self.doubles(60, seed: 3) {
            let d = Dyadic(x)
            // Odd mantissas fit in 53 bits; scale in two steps so no step overflows or flushes.
            let m = Double(d.mantissa)
            let half = d.exponent / 2
            #expect(m * pow(2, Double(half)) * pow(2, Double(d.exponent - half)) == x, "\(x)")
            #expect(d.mantissa == 0 || d.mantissa % 2 != 0)
        }
    }

    /// a·b = fl(a·b) + fma(a, b, −fl(a·b)) and a + b = s + e (TwoSum) hold exactly: the dyadic
    /// product and sum must equal the sum of the two floating-point parts.
    @Test func dyadicArithmeticIsExact() {
        let xs = Self.doubles(30, seed: 5).filter { abs($0) < 1e100 && (abs($0) > 1e-100 || $0 == 0) }
        for a in xs {
            for b in xs {
                let p = a * b
                let pe = (-p).addingProduct(a, b)
                #expect(Dyadic(a) * Dyadic(b) == Dyadic(p) + Dyadic(pe), "\(a) · \(b)")
                let s = a + b
                let bb = s - a
                let se = (a - (s - bb)) + (b - bb)
                #expect(Dyadic(a) + Dyadic(b) == Dyadic(s) + Dyadic(se), "\(a) + \(b)")
                #expect(Dyadic(a) - Dyadic(a) == .zero)
            }
        }
    }

    static func row(_ a: [Double], _ b: Double) -> ExactAffineForms.Row {
        ExactAffineForms.Row(a: a.map(Dyadic.init), b: Dyadic(b))
    }

    /// x > 0, y > x, y < 0: empty, with the open set's closure the single point 0 (Σ λb = 0).
    @Test func provesADegenerateEmptyCone() {
        let rows = [Self.row([1, 0], 0), Self.row([-1, 1], 0), Self.row([0, -1], 0)]
        #expect(FarkasCertificate.proveNoInterior(rows, guess: [0.7, 0.7, 0.7]))
        // The guide's values need not be right: the pivots are solved exactly.
        #expect(FarkasCertificate.proveNoInterior(rows, guess: [1, 0.999, 1.001]))
    }

    /// Two half-spaces with inexact directions whose boundaries are 2^−900 apart: empty one way
    /// round, a thin strip (not empty) the other. As doubles the two constants are the same
    /// number; the exact rows tell them apart.
    @Test func separatesHairlineStripsFromEmptySets() {
        let a = [0.1, 0.3, -0.7]
        let d = Dyadic(mantissa: 1, exponent: -900)
        #expect(-0.2 - pow(2.0, -900) == -0.2 + pow(2.0, -900))
        let negated = a.map { -Dyadic($0) }
        let empty = [Self.row(a, 0.2), ExactAffineForms.Row(a: negated, b: -Dyadic(0.2) - d)]
        let strip = [Self.row(a, 0.2), ExactAffineForms.Row(a: negated, b: -Dyadic(0.2) + d)]
        let hyperplane = [Self.row(a, 0.2), ExactAffineForms.Row(a: negated, b: -Dyadic(0.2))]
        #expect(FarkasCertificate.proveNoInterior(empty, guess: [1, 1]))
        #expect(FarkasCertificate.proveNoInterior(hyperplane, guess: [1, 1]), "the open sides of one hyperplane")
        #expect(!FarkasCertificate.proveNoInterior(strip, guess: [1, 1]))
        #expect(!FarkasCertificate.proveNoInterior(strip, guess: [1, 0.5]))
    }

    /// A nonempty open polyhedron (a triangle around (1, 1)) is never "proven" empty, whatever
    /// multipliers the guide offers.
    @Test func neverProvesANonEmptySet() {
        let rows = [Self.row([1, 0], 0), Self.row([0, 1], 0), Self.row([-1, -1], 3)]
        var rng = SeededGenerator(seed: 11)
        for _ in 0..<200 {
            let guess = (0..<3).map { _ in rng.uniform(0, 1) }
            #expect(!FarkasCertificate.proveNoInterior(rows, guess: guess))
        }
    }
}
