import Foundation
import LipscopeLinearAlgebra
import Testing
@testable import LipscopeEngine

/// The layer balancing of LipSDP takes each large layer's norm by Lanczos instead of a dense
/// SVD: it must agree with LAPACK's largest singular value closely enough that the power-of-two
/// rounding is the same, dense or sparse.
@Suite struct BalancingNormTests {
    /// A seeded 700 × 600 layer (420 000 entries, past the SVD limit), dense or with 80 % zeros.
    static func layer(sparse: Bool) -> Matrix {
        var state = UInt64(11)
        var w = Matrix(rows: 700, columns: 600)
        for j in 0..<600 {
            for i in 0..<700 {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                let u = Double(state >> 11) / 9_007_199_254_740_992
                state = state &* 6364136223846793005 &+ 1442695040888963407
                let keep = Double(state >> 11) / 9_007_199_254_740_992
                w[i, j] = sparse && keep < 0.8 ? 0 : (u - 0.5) * 3
            }
        }
        return w
    }

    @Test(arguments: [false, true])
    func lanczosNormMatchesTheSVD(sparse: Bool) throws {
        let w = Self.layer(sparse: sparse)
        #expect(w.rows * w.columns > SlopeLMI.balancingSVDLimit)
        let weight = WeightMatrix.automatic(w)
        #expect(weight.isSparse == sparse)
        let svd = try LinearAlgebra.spectralNorm(w)
        let lanczos = try SlopeLMI.balancingNorm(weight)
        #expect(abs(lanczos - svd) <= 1e-6 * svd, "\(lanczos) vs \(svd)")
        #expect(Int(log2(lanczos).rounded()) == Int(log2(svd).rounded()))
    }
}
