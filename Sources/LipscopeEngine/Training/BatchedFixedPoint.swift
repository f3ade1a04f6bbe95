import LipscopeLinearAlgebra

/// How the equilibrium x = relu(Ax + d) is iterated.
public enum FixedPointScheme: String, Sendable, CaseIterable {
    /// x ← (1 − α)x + α relu(Ax + d) with α = 1/(1 − minᵢ(aᵢᵢ)₋): contracts in ℓ∞ with factor
    /// 1 − α(1 − μ∞(A)₊) whenever μ∞(A) < 1 (spec D.2), whatever the sign of the diagonal.
    case averaged
    /// x ← relu(Ax + d), the averaged iteration with α = 1: diverges or cycles when a strongly
    /// negative diagonal makes the map expansive, even though μ∞(A) < 1.
    case picard
    /// x ← relu((1 − α)x + α(Ax + d)) with α = m/‖I − A‖₂²: forward–backward splitting, which
    /// converges in ℓ2 when I − A ⪰ mI (monDEQ's monotone parameterization; no ℓ∞ guarantee).
    case forwardBackward = "forward-backward"
    /// Peaceman–Rachford splitting as in monDEQ: u½ = 2z − u, z½ = R(u½ + αd) with the resolvent
    /// R = ((1 + α)I − αA)⁻¹, u = 2z½ − u½, z = relu(u). Converges linearly for any α > 0 when
    /// I − A ⪰ mI (m > 0), far faster than forward–backward when ‖I − A‖₂ ≫ m; α = 1.
    case peacemanRachford = "peaceman-rachford"
}

/// Result of one batched solve: the state (n × m) and how the iteration went.
struct BatchedSolve {
    var state: Matrix
    var iterations: Int
    var residual: Double
    var converged: Bool
}

/// The forward equilibrium and the backward adjoint of x = relu(Ax + d), for a whole batch at
/// once (one column per example), with the state matrix products done by BLAS.
struct BatchedFixedPoint {
    let A: Matrix
    let scheme: FixedPointScheme
    let step: Double
    let tolerance: Double
    let maxIterations: Int
    /// ((1 + α)I − αA)⁻¹ for Peaceman–Rachford; nil otherwise (or when singular).
    let resolvent: Matrix?

    /// The largest step of the averaged iteration that keeps the ℓ∞ contraction (spec D.2).
    static func averagingStep(_ A: Matrix) -> Double {
        let minDiagonal = (0..<A.rows).map { A[$0, $0] }.min() ?? 0
        return 1 / (1 - min(0, minDiagonal))
    }

    /// m/‖I − A‖₂², half the largest step for which forward–backward splitting converges when
    /// I − A ⪰ mI.
    static func splittingStep(_ A: Matrix, monotonicity m: Double) -> Double {
        let lipschitz = (try? LinearAlgebra.spectralNorm(Matrix.identity(A.rows) - A)) ?? 1
        return min(1, m / max(lipschitz * lipschitz, 1e-300))
    }

    init(A: Matrix, scheme: FixedPointScheme, step: Double? = nil, tolerance: Double, maxIterations: Int) {
        self.A = A; self.scheme = scheme; self.tolerance = tolerance; self.maxIterations = maxIterations
        switch scheme {
        case .averaged: self.step = step ?? Self.averagingStep(A)
        case .picard: self.step = 1
        case .forwardBackward: self.step = step ?? 1
        case .peacemanRachford: self.step = step ?? 1
        }
        if scheme == .peacemanRachford {
            let n = A.rows
            resolvent = try? LinearAlgebra.solve(Matrix.identity(n) + self.step * (Matrix.identity(n) - A), Matrix.identity(n))
        } else {
            resolvent = nil
        }
    }

    /// Peaceman–Rachford for 0 ∈ (I − M)w − r + N(w), where `project` is the resolvent of the
    /// normal-cone part N (relu for the forward equilibrium, the active-set mask for the adjoint)
    /// and `linear` the resolvent of the linear part. Residual: the change of w in one step.
    private func peacemanRachford(_ linear: Matrix, transpose: Bool, rhs: Matrix, scale: Double,
                                  project: (Int, Double) -> Double) -> BatchedSolve {
        let n = A.rows, m = rhs.columns
        var w = Matrix(rows: n, columns: m), u = Matrix(rows: n, columns: m)
        var half = Matrix(rows: n, columns: m), image = Matrix(rows: n, columns: m)
        let alpha = step
        var residual = Double.infinity
        for k in 1...max(1, maxIterations) {
            for i in 0..<half.storage.count { half.storage[i] = 2 * w.storage[i] - u.storage[i] + alpha * rhs.storage[i] }
            DenseKernels.gemm(linear, transposeA: transpose, half, into: &image)
            residual = 0
            for i in 0..<u.storage.count {
                // u = 2 z½ − u½ with u½ = half − α·rhs.
                u.storage[i] = 2 * image.storage[i] - (half.storage[i] - alpha * rhs.storage[i])
                let next = project(i, u.storage[i])
                residual = max(residual, abs(next - w.storage[i]))
                w.storage[i] = next
            }
            if !residual.isFinite { return BatchedSolve(state: w, iterations: k, residual: residual, converged: false) }
            if residual <= tolerance * scale { return BatchedSolve(state: w, iterations: k, residual: residual / scale, converged: true) }
        }
        return BatchedSolve(state: w, iterations: maxIterations, residual: residual / scale, converged: false)
    }

    /// Solves X = relu(A X + drive). The residual is maxᵢⱼ |relu(AX + drive) − X| (for
    /// forward–backward, the size of the last step divided by α).
    func forward(drive: Matrix, initial: Matrix? = nil) -> BatchedSolve {
        if scheme == .peacemanRachford {
            guard let resolvent else { return BatchedSolve(state: drive, iterations: 0, residual: .infinity, converged: false) }
            return peacemanRachford(resolvent, transpose: false, rhs: drive, scale: 1) { _, value in max(value, 0) }
        }
        let n = A.rows, m = drive.columns
        var x = initial ?? Matrix(rows: n, columns: m)
        var product = Matrix(rows: n, columns: m)
        let alpha = step
        var residual = Double.infinity
        for k in 1...max(1, maxIterations) {
            DenseKernels.gemm(A, x, into: &product)
            residual = 0
            x.storage.withUnsafeMutableBufferPointer { xs in
                product.storage.withUnsafeBufferPointer { ps in
                    drive.storage.withUnsafeBufferPointer { ds in
                        switch scheme {
                        case .averaged, .picard:
                            for i in 0..<xs.count {
                                let target = max(ps[i] + ds[i], 0)
                                residual = max(residual, abs(target - xs[i]))
                                xs[i] += alpha * (target - xs[i])
                            }
                        case .forwardBackward, .peacemanRachford:
                            for i in 0..<xs.count {
                                let target = max((1 - alpha) * xs[i] + alpha * (ps[i] + ds[i]), 0)
                                residual = max(residual, abs(target - xs[i]) / alpha)
                                xs[i] = target
                            }
                        }
                    }
                }
            }
            if !residual.isFinite { return BatchedSolve(state: x, iterations: k, residual: residual, converged: false) }
            if residual <= tolerance { return BatchedSolve(state: x, iterations: k, residual: residual, converged: true) }
        }
        return BatchedSolve(state: x, iterations: maxIterations, residual: residual, converged: false)
    }

    /// The adjoint of the equilibrium: with S = diag(relu′(z)) at the fixed point (a 0/1 mask,
    /// `active`), solves V = S(AᵀV + H). Then dL/dA = V Xᵀ, dL/dB = V Uᵀ and dL/db = V𝟙: the
    /// implicit-function gradient, (I − SA)⁻ᵀ applied without forming or unrolling anything.
    /// The iteration V ← S((1 − α)V + α(AᵀV + H)) keeps V on the active coordinates, where
    /// (1 − α)I + αA_𝒜𝒜ᵀ has ℓ1 norm ≤ 1 − α(1 − μ∞(A)₊) (the transpose of the forward
    /// contraction) and, for a monotone A, the ℓ2 argument of the forward splitting holds too.
    /// The tolerance is relative to ‖H‖∞.
    func adjoint(_ h: Matrix, active: [Bool]) -> BatchedSolve {
        let scale0 = max(h.storage.reduce(0) { max($0, abs($1)) }, 1e-300)
        if scheme == .peacemanRachford {
            // The adjoint is 0 ∈ (I − Aᵀ)V − H + N_K(V), K = {V zero off the active set}: the same
            // splitting with the transposed resolvent and the mask as the projection.
            guard let resolvent else { return BatchedSolve(state: h, iterations: 0, residual: .infinity, converged: false) }
            return peacemanRachford(resolvent, transpose: true, rhs: h, scale: scale0) { i, value in active[i] ? value : 0 }
        }
        let n = A.rows, m = h.columns
        var v = Matrix(rows: n, columns: m)
        var product = Matrix(rows: n, columns: m)
        let alpha = step
        let scale = max(h.storage.reduce(0) { max($0, abs($1)) }, 1e-300)
        var residual = Double.infinity
        for k in 1...max(1, maxIterations) {
            DenseKernels.gemm(A, transposeA: true, v, into: &product)
            residual = 0
            v.storage.withUnsafeMutableBufferPointer { vs in
                product.storage.withUnsafeBufferPointer { ps in
                    h.storage.withUnsafeBufferPointer { hs in
                        for i in 0..<vs.count where active[i] {
                            let target = ps[i] + hs[i]
                            residual = max(residual, abs(target - vs[i]))
                            vs[i] += alpha * (target - vs[i])
                        }
                    }
                }
            }
            if !residual.isFinite { return BatchedSolve(state: v, iterations: k, residual: residual, converged: false) }
            if residual <= tolerance * scale { return BatchedSolve(state: v, iterations: k, residual: residual / scale, converged: true) }
        }
        return BatchedSolve(state: v, iterations: maxIterations, residual: residual / scale, converged: false)
    }
}
