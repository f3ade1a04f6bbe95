import CClpExt
import Foundation

/// Is a linear region of the net full-dimensional (inside the box, if any)? The region of a
/// partial activation pattern is { x : sᵢ(aᵢ·x + bᵢ) > 0 for every decided neuron i }; the LP
///
///     maximize t  subject to  sᵢ(aᵢ·x + bᵢ) ≥ ‖aᵢ‖ t,   x in the box,   t ≤ 1
///
/// finds the point deepest inside it (t is its distance to the nearest hyperplane, capped at 1).
/// t* > 0 gives an interior point, a witness input. t* ≤ 0 means the region has no interior,
/// and the row multipliers y ≥ 0 prove it: max over the box of Σ yᵢ sᵢ(aᵢ·x + bᵢ) < 0 is
/// checked here in floating point with a rounding margin, so a pruned region is a certificate,
/// not the LP solver's word. Over all of Rⁿ that check needs Σ yᵢ sᵢ aᵢ = 0 exactly, which
/// floating point cannot show: there the multipliers are returned, and `FarkasCertificate`
/// turns them into an exact proof on the exact rows.
struct RegionLP {
    /// One strict inequality a·x + b > 0 (the sign already folded in), with the magnitudes
    /// |a|, |b| of its terms, whose rounding errors it carries.
    struct Row {
        var a: [Double]
        var b: Double
        var absA: [Double]
        var absB: Double
    }

    enum Outcome {
        /// t* > 0: x is at distance ≥ t* from every hyperplane of the region.
        case interior(x: [Double], depth: Double)
        /// t* ≤ 0; `certified` when the multipliers passed the rounding-safe check. Over all
        /// of Rⁿ, `radius` is how far the multipliers prove the region empty (ℓ∞ ball) in
        /// floating point; `multipliers` (one per input row) guide the exact proof.
        case empty(certified: Bool, radius: Double, multipliers: [Double])
        /// CLP did not finish; the region must be kept.
        case unknown
    }

    /// Terms of the affine forms (products through the layers) for the rounding margin.
    let operations: Int

    func solve(rows: [Row], inputSize n: Int, box: InputRegion?) -> Outcome {
        var kept: [Row] = [], keptIndex: [Int] = []
        for (index, row) in rows.enumerated() {
            if row.a.allSatisfy({ $0 == 0 }) {
                // A neuron constant on the region: its sign is that of b.
                if row.b > 0 { continue }
                let proven = row.b + margin(row.absB) < 0
                var unit = [Double](repeating: 0, count: rows.count)
                unit[index] = 1
                return .empty(certified: proven, radius: proven ? .infinity : 0, multipliers: unit)
            }
            kept.append(row)
            keptIndex.append(index)
        }
        if kept.isEmpty {
            return .interior(x: box?.center ?? [Double](repeating: 0, count: n), depth: 1)
        }
        guard let model = Clp_newModel() else { return .unknown }
        defer { Clp_deleteModel(model) }
        clpx_set_log_file(model, nil)
        let m = kept.count
        var start: [Int32] = [0], index: [Int32] = [], value: [Double] = []
        for j in 0...n {
            for (i, row) in kept.enumerated() {
                let v: Double
                if j < n { v = row.a[j] } else { v = -Self.norm(row.a) }
                if v != 0 { index.append(Int32(i)); value.append(v) }
            }
            start.append(Int32(index.count))
        }
        let colLower = (0..<n).map { box?.lower[$0] ?? -Double.infinity } + [-Double.infinity]
        let colUpper = (0..<n).map { box?.upper[$0] ?? Double.infinity } + [1]
        let objective = [Double](repeating: 0, count: n) + [1]
        let rowLower = kept.map { -$0.b }
        let rowUpper = [Double](repeating: .infinity, count: m)
        Clp_loadProblem(model, Int32(n + 1), Int32(m), start, index, value, colLower, colUpper, objective, rowLower, rowUpper)
        Clp_setOptimizationDirection(model, -1)
        Clp_dual(model, 0)
        guard Clp_status(model) == 0 else { return .unknown }
        let solution = Array(UnsafeBufferPointer(start: Clp_getColSolution(model), count: n + 1))
        let depth = solution[n]
        if depth > 0 {
            var x = Array(solution[0..<n])
            if let box { x = box.clamp(x) }
            return .interior(x: x, depth: depth)
        }
        let prices = Array(UnsafeBufferPointer(start: Clp_getRowPrice(model), count: m)).map(abs)
        var multipliers = [Double](repeating: 0, count: rows.count)
        for (i, index) in keptIndex.enumerated() { multipliers[index] = prices[i] }
        if let box {
            return .empty(certified: proveEmpty(kept, multipliers: prices, box: box), radius: 0, multipliers: multipliers)
        }
        return .empty(certified: false, radius: emptyRadius(kept, multipliers: prices), multipliers: multipliers)
    }

    /// Over all of Rⁿ: with g = Σ yᵢaᵢ ≈ 0 and c = Σ yᵢbᵢ < 0, an interior point x has
    /// g·x + c > 0, so ‖x‖∞ ≥ −c/‖g‖₁. With rounding margins on g and c this proves the region
    /// empty inside the ℓ∞ ball of that radius (0 when the multipliers prove nothing).
    func emptyRadius(_ rows: [Row], multipliers y: [Double]) -> Double {
        guard let n = rows.first?.a.count else { return 0 }
        var g = [Double](repeating: 0, count: n), gError = [Double](repeating: 0, count: n)
        var c = 0.0, cScale = 0.0
        for (i, row) in rows.enumerated() where y[i] > 0 {
            for j in 0..<n {
                g[j] += y[i] * row.a[j]
                gError[j] += y[i] * (row.absA[j] + abs(row.a[j]))
            }
            c += y[i] * row.b
            cScale += y[i] * (row.absB + abs(row.b))
        }
        let cHigh = c + margin(cScale)
        guard cHigh < 0 else { return 0 }
        var gNorm = 0.0
        for j in 0..<n { gNorm += abs(g[j]) + margin(gError[j] + abs(g[j])) }
        return gNorm > 0 ? -cHigh / (gNorm * (1 + 4 * Double(n) * .ulpOfOne)) : .infinity
    }

    /// max over the box of Σ yᵢ(aᵢ·x + bᵢ) < 0, with every rounding error bounded.
    func proveEmpty(_ rows: [Row], multipliers y: [Double], box: InputRegion) -> Bool {
        let n = box.dimension
        var g = [Double](repeating: 0, count: n)
        var c = 0.0, scale = 0.0
        let reach = (0..<n).map { max(abs(box.lower[$0]), abs(box.upper[$0])) }
        for (i, row) in rows.enumerated() where y[i] > 0 {
            for j in 0..<n { g[j] += y[i] * row.a[j] }
            c += y[i] * row.b
            var s = row.absB
            for j in 0..<n { s += (row.absA[j] + abs(row.a[j])) * reach[j] }
            scale += y[i] * s
        }
        var top = c
        for j in 0..<n {
            top += max(g[j] * box.lower[j], g[j] * box.upper[j])
            scale += abs(g[j]) * reach[j]
        }
        return top + margin(scale + abs(c)) < 0
    }

    private func margin(_ scale: Double) -> Double {
        8 * Double(operations + 8) * Double.ulpOfOne * scale + Double.leastNormalMagnitude
    }

    static func norm(_ a: [Double]) -> Double { a.reduce(0) { $0 + $1 * $1 }.squareRoot() }
}
