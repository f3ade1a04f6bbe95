import Foundation
import Testing
@testable import LipscopeSolvers
import LipscopeLinearAlgebra

/// The structured solver's band operators against the same quantities formed densely: the LMI
/// of a 3-4-3 ReLU chain with a 2-row output (per-neuron and per-layer multipliers), random
/// symmetric dX, a positive definite S and a direction dy.
@Suite struct RankTwoOperatorsTests {
    /// Deterministic pseudo-random numbers in [−1, 1].
    struct Numbers {
        var state: UInt64
        mutating func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53) * 2 - 1
        }
        mutating func matrix(_ rows: Int, _ columns: Int) -> Matrix {
            var m = Matrix(rows: rows, columns: columns)
            for j in 0..<columns { for i in 0..<rows { m[i, j] = next() } }
            return m
        }
    }

    static func lmi(perLayer: Bool) -> RankTwoLMI {
        var numbers = Numbers(state: 7)
        let r = 3
        let bands = [RankTwoLMI.Band(firstRow: 0, columnStart: 0, weights: numbers.matrix(4, 3)),
                     RankTwoLMI.Band(firstRow: 4, columnStart: r, weights: numbers.matrix(3, 4))]
        let output = RankTwoLMI.Band(firstRow: 0, columnStart: r + 4, weights: numbers.matrix(2, 3))
        let n = 7
        return RankTwoLMI(inputCount: r, neuronCount: n, bands: bands, output: output,
                          p: Array(repeating: 0, count: n), q: Array(repeating: -1, count: n), s: Array(repeating: 2, count: n),
                          group: perLayer ? [0, 0, 0, 0, 1, 1, 1] : Array(0..<n), groupCount: perLayer ? 2 : n)
    }

    static func symmetric(_ d: Int, _ numbers: inout Numbers, diagonal: Double) -> [Double] {
        var a = [Double](repeating: 0, count: d * d)
        for j in 0..<d {
            for i in 0...j {
                let v = numbers.next() + (i == j ? diagonal : 0)
                a[i + j * d] = v
                a[j + i * d] = v
            }
        }
        return a
    }

    static func multiply(_ a: [Double], _ b: [Double], _ d: Int) -> [Double] {
        var c = [Double](repeating: 0, count: d * d)
        for j in 0..<d { for k in 0..<d { for i in 0..<d { c[i + j * d] += a[i + k * d] * b[k + j * d] } } }
        return c
    }

    @Test(arguments: [false, true]) func correctorAdjointMatchesTheDenseProduct(perLayer: Bool) throws {
        let ops = RankTwoOperators(lmi: Self.lmi(perLayer: perLayer))
        let d = ops.dim
        var numbers = Numbers(state: 11)
        let dx = Self.symmetric(d, &numbers, diagonal: 0)
        let s = Self.symmetric(d, &numbers, diagonal: Double(d))
        let factor = try #require(DenseSym.cholesky(s, d))
        let t = try #require(DenseSym.inverse(fromCholesky: factor, d))
        let dy = (0...ops.groups).map { _ in numbers.next() }
        let dS = ops.assemble(dy, linear: true)
        // Dense reference: A*(sym(dX·dS·T)).
        let g = Self.multiply(Self.multiply(dx, dS, d), t, d)
        var sym = g
        for j in 0..<d { for i in 0..<d { sym[i + j * d] = 0.5 * (g[i + j * d] + g[j + i * d]) } }
        let want = ops.adjoint(sym, ops.timesRows(sym))
        // The band form, from T·dS (`timesDirection` of T).
        let tdS = ops.timesDirection(t, ops.timesRows(t), dy)
        let tdSDense = Self.multiply(t, dS, d)
        for k in 0..<(d * d) { #expect(abs(tdS[k] - tdSDense[k]) <= 1e-12 * (1 + abs(tdSDense[k]))) }
        let got = ops.correctorAdjoint(dx: dx, dxa: ops.timesRows(dx), tdS: tdS)
        #expect(got.count == want.count)
        for k in want.indices {
            #expect(abs(got[k] - want[k]) <= 1e-11 * (1 + abs(want[k])), "coordinate \(k): \(got[k]) vs \(want[k])")
        }
        // The reference is not trivially zero.
        #expect(want.map(abs).max() ?? 0 > 1e-3)
    }
}
