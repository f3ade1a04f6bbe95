import Foundation
import LipscopeLinearAlgebra

/// Turns a solver's multipliers into a proof. The solver's ρ is not one: its point may sit
/// outside the cone by rounding or by the solver's own tolerances. The certificate rebuilds −M
/// densely for the network as given (no layer scaling, no input reduction) with the multipliers
/// clipped to λ ≥ 0, and proves it positive definite by a floating-point Cholesky factorization
/// of −M − c·I, where c covers every rounding error:
///  * building −M: each entry is a sum of at most K rounded products, so |Δ(−M)ᵢⱼ| ≤ γ_K·|−M|ᵢⱼ,
///    computed from the same sums over absolute values, and ‖Δ‖₂ ≤ ‖Δ‖_F;
///  * the Cholesky itself: if it runs to completion on A then A + ΔA = L̂L̂ᵀ ⪰ 0 with
///    ‖ΔA‖₂ ≤ γ_{n+1} Σᵢ|aᵢᵢ| (Demmel 1989; Rump, BIT 46, 2006), plus the rounding of aᵢᵢ − c;
/// c is twice the sum of these bounds. The check runs on D(−M)D with D an exact power-of-two
/// diagonal equilibration (same inertia). Success proves λ_min(D(−M)D) ≥ c/2 > 0, so −M ≻ 0.
/// The input term is then the smallest shift t ≥ 0 (on a grid refined by bisection) of every
/// input diagonal entry for which the check passes: ρ' = ρ + t.
enum LMICertifier {
    struct Certificate: Sendable {
        /// The shift t added to every input diagonal entry.
        var shift: Double
        /// The certified input diagonal (base + t).
        var inputDiagonal: [Double]
        /// The safety margin c subtracted from the diagonal in the final check.
        var margin: Double
        var checks: Int
    }

    /// u = 2⁻⁵³ and γ_k = k·u / (1 − k·u) (Higham's notation).
    static func gamma(_ k: Int) -> Double {
        let u = Double.ulpOfOne / 2
        return Double(k) * u / (1 - Double(k) * u)
    }

    /// Certifies `lmi` (the network as given) with per-group multipliers `groupMultipliers` and the
    /// input diagonal `base` (ρ on every input for ℓ2, μ for ℓ∞). Shifts above `maxRelativeShift` ×
    /// max(base) are not tried. Returns the certificate or the reason none was found.
    static func certify(_ lmi: SlopeLMI, base: [Double], groupMultipliers: [Double],
                        maxRelativeShift: Double = 0.01,
                        checkCancelled: () throws -> Void = {}) throws -> Result<Certificate, CertificationFailure> {
        precondition(base.count == lmi.inputSize && groupMultipliers.count == lmi.groupCount)
        let lambda = (0..<lmi.stateSize).map { max(0, groupMultipliers[lmi.group[$0]]) }
        let base = base.map { max(0, $0) }
        var (rest, absRest) = lmi.negatedMatrixWithoutInput(neuronMultipliers: lambda)
        let n = lmi.dimension, p = lmi.inputSize
        let scale = max(base.max() ?? 0, Double.leastNormalMagnitude)
        let maxShift = maxRelativeShift * scale
        // Exact power-of-two equilibration: −M ⪰ 0 ⇔ D(−M)D ⪰ 0 for D = diag(2^{−kᵢ}) > 0, and
        // multiplying by powers of two is exact unless it over- or underflows (eᵢ + eⱼ can reach
    // −800): underflow is covered by the absolute term of the margin, overflow makes it ∞ and
    // the check fail — never an unsound pass. `certificate_margin` is in these scaled units. With
        // the diagonal of D(−M)D near 1, the rounding margin (which grows with Σ|aᵢᵢ|) no longer
        // swamps a hidden block many orders of magnitude below a large input term (ACAS Xu:
        // ρ ≈ 8e9 against hidden eigenvalues ≈ 3e-4). Sizes below use the scaled matrix.
        let exponents: [Int] = (0..<n).map { i in
            let d = rest[i, i] + (i < p ? base[i] : 0)
            guard d > 0, d.isFinite else { return 0 }
            return max(-400, min(400, -Int((log2(d) / 2).rounded())))
        }
        let inputFactor = (0..<p).map { scalbn(1.0, 2 * exponents[$0]) }
        for j in 0..<n {
            for i in 0..<n {
                let e = exponents[i] + exponents[j]
                if e != 0 { rest[i, j] = scalbn(rest[i, j], e); absRest[i, j] = scalbn(absRest[i, j], e) }
            }
        }
        // Build error: at most K rounded terms per entry (products of three factors, the
        // input term and its shift included).
        let terms = lmi.stateSize + lmi.outputs.count + 8
        var squares = 0.0
        for j in 0..<n {
            for i in 0..<n {
                var e = absRest[i, j]
                if i == j && i < p { e += (base[i] + maxShift) * inputFactor[i] }
                squares += e * e
            }
        }
        let buildError = gamma(terms) * squares.squareRoot()
        var checks = 0
        /// Whether −M with input shift t passes; returns the margin used.
        func check(_ t: Double) -> (passed: Bool, margin: Double) {
            checks += 1
            var a = rest
            for j in 0..<p { a[j, j] += (base[j] + t) * inputFactor[j] }
            var diagonal = 0.0
            for i in 0..<n { diagonal += abs(a[i, i]) }
            let c = 2 * (buildError + gamma(n + 2) * diagonal * 1.01) + Double(n) * Double.leastNormalMagnitude * 1e20
            for i in 0..<n { a[i, i] -= c }
            return (LinearAlgebra.cholesky(a) != nil, c)
        }
        let first = check(0)
        if first.passed { return .success(Certificate(shift: 0, inputDiagonal: base, margin: first.margin, checks: checks)) }
        // The shift needed is usually of the order of the margin c (the solver's point sits at the
        // boundary up to its tolerance): try 2c, 20c, 200c, … up to the allowed factor, then refine.
        var low = 0.0
        var high: (t: Double, margin: Double)? = nil
        // (c is in equilibrated units; the input coordinates were multiplied by inputFactor.)
        var t = 2 * first.margin / max(inputFactor.min() ?? 1, Double.leastNormalMagnitude)
        while t <= maxShift * 10 {
            try checkCancelled()
            let tt = min(t, maxShift)
            let r = check(tt)
            if r.passed { high = (tt, r.margin); break }
            low = tt
            if tt == maxShift { break }
            t *= 10
        }
        guard var best = high else {
            return .failure(diagnose(rest: rest, p: p, maxRelativeShift: maxRelativeShift))
        }
        for _ in 0..<3 {
            try checkCancelled()
            let mid = low > 0 ? (low * best.t).squareRoot() : best.t / 4
            let r = check(mid)
            if r.passed { best = (mid, r.margin) } else { low = mid }
        }
        return .success(Certificate(shift: best.t, inputDiagonal: base.map { $0 + best.t }, margin: best.margin, checks: checks))
    }

    /// Why no shift of the input term helped: the state block (which the input term does not
    /// touch) is not positive definite, or the shift needed is larger than allowed.
    static func diagnose(rest: Matrix, p: Int, maxRelativeShift: Double) -> CertificationFailure {
        let n = rest.rows - p
        var block = Matrix(rows: n, columns: n)
        for j in 0..<n { for i in 0..<n { block[i, j] = rest[p + i, p + j] } }
        let eigenvalues: [Double] = n == 0 ? [] : ((try? LinearAlgebra.symmetricEigenvalues(block)) ?? [])
        let smallest = eigenvalues.first ?? .nan
        if n > 0, !(smallest > 0) {
            return CertificationFailure(description: "with the solver's multipliers (clipped to ≥ 0) the hidden-state block of −M (equilibrated by powers of two) has smallest eigenvalue \(smallest); no input term can make −M positive semidefinite")
        }
        return CertificationFailure(description: "no input term within a factor 1 + \(maxRelativeShift) of the solver's makes −M provably positive definite (smallest eigenvalue of the equilibrated hidden block \(smallest))")
    }
}

struct CertificationFailure: Error, CustomStringConvertible, Sendable {
    let description: String
}
