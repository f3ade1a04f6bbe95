import CLapack
import Foundation

extension RankTwoOperators {
    /// A*(sym(G S⁻¹)) for Mehrotra's second-order term G = dX·dS (dX symmetric, dS = A(dy)),
    /// without the dense d × d × d product G·S⁻¹. With T = S⁻¹ and P = T·dS (a band product,
    /// `timesDirection`), dS·T = Pᵀ, and for Fᵢ = UᵢDᵢUᵢᵀ, Uᵢ = [aᵢ bᵢ]:
    ///     ⟨Fᵢ, sym(G T)⟩ = tr(Dᵢ (Uᵢᵀ dX)(Pᵀ Uᵢ)) = p (dX aᵢ)·(Pᵀaᵢ) + q [(dX aᵢ)·(Pᵀbᵢ) + (dX bᵢ)·(Pᵀaᵢ)] + s (dX bᵢ)·(Pᵀbᵢ),
    ///     ⟨E_r, sym(G T)⟩ = Σ_{k<r} Σ_j dX_kj P_kj,
    /// where Pᵀaᵢ comes from `timesRows(Pᵀ)` and Pᵀbᵢ is a row of P: O(d²·width) instead of 2d³.
    /// `dxa` = `timesRows(dX)`, `tdS` = T·dS (column-major d × d).
    func correctorAdjoint(dx: [Double], dxa: [Double], tdS: [Double]) -> [Double] {
        let d = dim
        var transposed = [Double](repeating: 0, count: d * d)
        for j in 0..<d { for i in 0..<d { transposed[j + i * d] = tdS[i + j * d] } }
        let pa = timesRows(transposed)
        var out = [Double](repeating: 0, count: groups + 1)
        var rho = 0.0
        for j in 0..<d { for k in 0..<r { rho += dx[k + j * d] * tdS[k + j * d] } }
        out[0] = rho
        dx.withUnsafeBufferPointer { xb in
        dxa.withUnsafeBufferPointer { xab in
        pa.withUnsafeBufferPointer { pab in
        transposed.withUnsafeBufferPointer { tb in
            for i in 0..<n {
                let xa = xab.baseAddress! + i * d, xb_ = xb.baseAddress! + (r + i) * d
                let pai = pab.baseAddress! + i * d, pbi = tb.baseAddress! + (r + i) * d
                let aa = cblas_ddot(Int32(d), xa, 1, pai, 1), ab = cblas_ddot(Int32(d), xa, 1, pbi, 1)
                let ba = cblas_ddot(Int32(d), xb_, 1, pai, 1), bb = cblas_ddot(Int32(d), xb_, 1, pbi, 1)
                out[1 + lmi.group[i]] += lmi.p[i] * aa + lmi.q[i] * (ab + ba) + lmi.s[i] * bb
            }
        }}}}
        return out
    }
}
