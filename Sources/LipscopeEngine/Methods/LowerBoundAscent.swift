import LipscopeLinearAlgebra

/// Refinements of a sampled lower bound that climb from the best sampled inputs, every value
/// ‖J(x)‖ of the true Jacobian at a real input (of the region when there is one).
///
/// Piecewise linear nets: ‖J(x)‖ is constant on each linear region, so its gradient is zero
/// and ascent in x cannot leave a region; the climb hops across hyperplanes instead
/// (`RegionHopping`, LP-checked, clipped to the input region). Smooth nets (tanh, sigmoid,
/// ELU, softplus, GELU, SiLU): projected gradient ascent of ‖J(x)‖ (`gradientAscent`).
enum LowerBoundAscent {
    /// Distinct activation patterns among the best inputs climbed from (the best input first).
    static let hopStarts = 64

    /// Climbs across linear regions from the best distinct patterns among `candidates` (best
    /// first), staying inside `region`. nil when the net is not piecewise linear or too wide
    /// for the hop (`RegionHopping.maximumNeurons`).
    static func hop(_ ff: FeedforwardNetwork, norm: Norm, region: InputRegion?, from candidates: [[Double]],
                    isCancelled: () -> Bool) -> (x: [Double], value: Double, lps: Int)? {
        guard var hop = RegionHopping(ff, output: nil, norm: norm, region: region) else { return nil }
        var starts: [[Double]] = []
        var seen = Set<[Int8]>()
        for x in candidates where starts.count < hopStarts {
            if seen.insert(hop.net.pattern(at: x).bits).inserted { starts.append(x) }
        }
        var best: (x: [Double], value: Double)? = nil
        for x in starts {
            if isCancelled() { break }
            let (y, v) = hop.climb(from: x, isCancelled: isCancelled)
            // The LP's point is in the box up to its tolerance: keep only inputs of the region.
            guard region?.contains(y) ?? true else { continue }
            if v > best?.value ?? -.infinity { best = (y, v) }
        }
        return best.map { ($0.x, $0.value, hop.lpCount) }
    }

    /// Starts and steps of the smooth ascent.
    static let ascentStarts = 8
    static let ascentSteps = 40

    /// Projected gradient ascent of ‖J(x)‖ from each start (inside `region` when given). With
    /// (u, v) the pair attaining the induced norm, ‖J(x)‖ = uᵀJ(x)v, whose gradient in x is
    /// ∇²(uᵀf)(x)v — a central difference of the vector–Jacobian product Jᵀu along v, two
    /// Jacobians a step. Each step doubles its length after a success and halves it until
    /// ‖J‖ grows; every returned value is ‖J‖ at a real input. nil when no start has a Jacobian.
    static func gradientAscent(_ network: Network, norm: Norm, region: InputRegion?, from starts: [[Double]],
                               stop: () -> Bool) -> (x: [Double], value: Double, jacobians: Int)? {
        var best: (x: [Double], value: Double)? = nil
        var jacobians = 0
        for start in starts.prefix(ascentStarts) {
            if stop() { break }
            var x = region.map { $0.clamp(start) } ?? start
            guard var j = network.jacobian(at: x), var value = try? norm.induced(j) else { continue }
            jacobians += 1
            let scale = max(1, x.reduce(0) { max($0, abs($1)) })
            var step = 1e-2 * scale
            steps: for _ in 0..<ascentSteps {
                if stop() { break }
                guard let (u, v) = maximizingPair(j, norm) else { break }
                let eps = 1e-5 * scale
                guard let jp = network.jacobian(at: zip(x, v).map { $0 + eps * $1 }),
                      let jm = network.jacobian(at: zip(x, v).map { $0 - eps * $1 }) else { break }
                jacobians += 2
                var g = [Double](repeating: 0, count: x.count)
                for c in 0..<x.count {
                    var d = 0.0
                    for r in 0..<u.count where u[r] != 0 { d += u[r] * (jp[r, c] - jm[r, c]) }
                    g[c] = d / (2 * eps)
                }
                let length = g.reduce(0) { $0 + $1 * $1 }.squareRoot()
                guard length > 0, length.isFinite else { break }
                while step > 1e-9 * scale {
                    if stop() { break steps }
                    var y = zip(x, g).map { $0 + step * $1 / length }
                    if let region { y = region.clamp(y) }
                    jacobians += 1
                    if let jy = network.jacobian(at: y), let vy = try? norm.induced(jy), vy > value {
                        x = y; j = jy; value = vy
                        step *= 2
                        continue steps
                    }
                    step /= 2
                }
                break
            }
            if value > best?.value ?? -.infinity { best = (x, value) }
        }
        return best.map { ($0.x, $0.value, jacobians) }
    }

    /// (u, v) with ‖J‖ = uᵀJv: the top singular pair (ℓ2, from the small side's Gram matrix),
    /// or the largest row and its signs (ℓ∞).
    static func maximizingPair(_ j: Matrix, _ norm: Norm) -> (u: [Double], v: [Double])? {
        guard j.rows > 0, j.columns > 0 else { return nil }
        switch norm {
        case .linf:
            let sums = j.absoluteRowSums
            guard let i = sums.indices.max(by: { sums[$0] < sums[$1] }) else { return nil }
            var u = [Double](repeating: 0, count: j.rows)
            u[i] = 1
            return (u, j.row(i).map { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) })
        case .l2:
            guard let (values, vectors) = try? LinearAlgebra.symmetricEigen(j * j.transposed),
                  let top = values.indices.max(by: { values[$0] < values[$1] }), values[top] > 0 else { return nil }
            let u = vectors.column(top)
            let jtu = Matrix.transposeTimes(j, Matrix(rows: j.rows, columns: 1, storage: u)).storage
            let n = jtu.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return n > 0 ? (u, jtu.map { $0 / n }) : nil
        }
    }
}
