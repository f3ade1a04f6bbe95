import CLapack
import Foundation

/// The Newton (Schur) system of the structured methods: an m × m symmetric positive definite
/// matrix, factored by Cholesky with a growing diagonal shift when it is numerically singular
/// (near the optimum the multipliers' columns become nearly dependent).
enum SchurSystem {
    static func factor(_ h: [Double], _ m: Int) -> [Double]? {
        var maxDiag = 0.0
        for i in 0..<m { maxDiag = max(maxDiag, abs(h[i * (m + 1)])) }
        for shift in [0.0, 1e-14, 1e-12, 1e-10, 1e-8] {
            var a = h
            if shift > 0 { for i in 0..<m { a[i * (m + 1)] += shift * maxDiag } }
            if LAPACKE_dpotrf(LAPACK_COL_MAJOR, CChar(UInt8(ascii: "L")), Int32(m), &a, Int32(m)) == 0 { return a }
        }
        return nil
    }

    static func solve(_ l: [Double], _ b: [Double]) -> [Double]? {
        var x = b
        let m = b.count
        guard LAPACKE_dpotrs(LAPACK_COL_MAJOR, CChar(UInt8(ascii: "L")), Int32(m), 1, l, Int32(m), &x, Int32(m)) == 0,
              x.allSatisfy(\.isFinite) else { return nil }
        return x
    }
}
