import BigInt

/// A proof in exact arithmetic that the open polyhedron { x ∈ Rⁿ : aᵢ·x + bᵢ > 0 for every
/// row } is empty: multipliers λ ≥ 0, not all zero, with Σ λᵢaᵢ = 0 and Σ λᵢbᵢ ≤ 0 (at a
/// point of the polyhedron Σ λᵢ(aᵢ·x + bᵢ) would be > 0). Over all of Rⁿ floating point cannot
/// show Σ λᵢaᵢ = 0; here it is checked exactly. The LP's floating-point multipliers only guide
/// the search (they choose the support and the free coordinates, the rest is solved exactly),
/// and the final check is exact whatever the guide was.
enum FarkasCertificate {
    /// Multipliers below this fraction of the largest count as zero in the guide.
    static let supportThreshold = 1e-9

    /// The rows a proof may use: those whose guide multiplier is not negligible.
    static func support(of guess: [Double]) -> [Int] {
        let magnitudes = guess.map { $0.isFinite ? abs($0) : 0 }
        let largest = magnitudes.max() ?? 0
        guard largest > 0 else { return [] }
        return magnitudes.indices.filter { magnitudes[$0] > supportThreshold * largest }
            .sorted { magnitudes[$0] > magnitudes[$1] }
    }

    /// True when the rows (with their guide multipliers) carry a certificate that no x has
    /// aᵢ·x + bᵢ > 0 for all of them; false when none was found (which proves nothing).
    static func proveNoInterior(_ rows: [ExactAffineForms.Row], guess: [Double]) -> Bool {
        guard rows.count == guess.count, let n = rows.first?.a.count else { return false }
        // A row constant on Rⁿ (a = 0 exactly) with b ≤ 0 is a certificate by itself.
        if rows.contains(where: { row in row.a.allSatisfy(\.isZero) && row.b.sign <= 0 }) { return true }
        // Integer rows: row t times 2^−k_t (k_t its smallest exponent), which scales λ_t by 2^k_t.
        var integerRows: [[BigInt]] = []
        var scaledGuess: [Dyadic] = []
        for (t, row) in rows.enumerated() {
            let entries = row.a + [row.b]
            let k = entries.filter { !$0.isZero }.map(\.exponent).min() ?? 0
            integerRows.append(entries.map { $0.integer(atExponent: k) })
            let g = guess[t].isFinite ? abs(guess[t]) : 0
            scaledGuess.append(Dyadic(g) * Dyadic(mantissa: 1, exponent: k))
        }
        var support = Self.support(of: guess)
        while !support.isEmpty {
            guard let lambda = nullVector(integerRows, support: support, columns: n, guess: scaledGuess) else { return false }
            let negatives = support.indices.filter { lambda[$0] < 0 }
            if let worst = negatives.max(by: { magnitudeLess(lambda[$0], lambda[$1]) }) {
                // A negative multiplier: that row does not belong to the certificate.
                support.remove(at: worst)
                continue
            }
            return verify(integerRows, support: support, lambda: lambda, columns: n)
        }
        return false
    }

    /// |a| < |b|.
    private static func magnitudeLess(_ a: BigInt, _ b: BigInt) -> Bool { a.magnitude < b.magnitude }

    /// A nonzero integer λ on the support with Σ λ_t a_t = 0 exactly: fraction-free (Bareiss)
    /// elimination to echelon form, the free coordinates set to the guide's values (scaled to
    /// integers), the pivots by back substitution, scaling λ up whenever a division would not
    /// be exact. nil when the support's rows are independent (no such λ).
    static func nullVector(_ rows: [[BigInt]], support: [Int], columns n: Int, guess: [Dyadic]) -> [BigInt]? {
        let k = support.count
        // M is n × k: column t is row support[t]'s x-coefficients.
        var m = (0..<n).map { j in support.map { rows[$0][j] } }
        var pivotColumns: [Int] = []
        var r = 0
        var previous = BigInt(1)
        for col in 0..<k where r < n {
            guard let p = (r..<n).first(where: { m[$0][col] != 0 }) else { continue }
            m.swapAt(r, p)
            let pivot = m[r][col]
            for i in (r + 1)..<n {
                let f = m[i][col]
                for c in (col + 1)..<k { m[i][c] = (pivot * m[i][c] - f * m[r][c]) / previous }
                m[i][col] = 0
            }
            previous = pivot
            pivotColumns.append(col)
            r += 1
        }
        let free = (0..<k).filter { !pivotColumns.contains($0) }
        guard !free.isEmpty else { return nil }
        var lambda = [BigInt](repeating: 0, count: k)
        let exponent = free.map { guess[support[$0]] }.filter { !$0.isZero }.map(\.exponent).min() ?? 0
        for f in free { lambda[f] = guess[support[f]].integer(atExponent: exponent) }
        for (row, p) in pivotColumns.enumerated().reversed() {
            var rhs = BigInt(0)
            for c in (p + 1)..<k where m[row][c] != 0 && lambda[c] != 0 { rhs -= m[row][c] * lambda[c] }
            let e = m[row][p]
            let g = rhs.greatestCommonDivisor(with: e)
            let scale = (e / (g == 0 ? e : g)).magnitude
            if scale != 1 {
                let s = BigInt(scale)
                for c in 0..<k where lambda[c] != 0 { lambda[c] *= s }
                rhs *= s
            }
            lambda[p] = rhs / e
        }
        return lambda
    }

    /// The certificate's conditions, each checked exactly in integers.
    static func verify(_ rows: [[BigInt]], support: [Int], lambda: [BigInt], columns n: Int) -> Bool {
        guard lambda.allSatisfy({ $0 >= 0 }), lambda.contains(where: { $0 > 0 }) else { return false }
        for j in 0...n {
            var sum = BigInt(0)
            for (t, i) in support.enumerated() where lambda[t] != 0 { sum += lambda[t] * rows[i][j] }
            if j < n ? sum != 0 : sum > 0 { return false }
        }
        return true
    }
}
