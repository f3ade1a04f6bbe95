import Foundation
import LipscopeLinearAlgebra

/// A box holding the fixed point x*(u) of an implicit network x = σ(Ax + Bu + b) for every u of
/// an input box U = [u̲, ū], and bounds on the pre-activations v = Ax*(u) + Bu + b there: what
/// local slopes of implicit nets rest on (spec §D.3, the embedded network of Jafarpour et al.).
///
/// How: the α-averaged embedded network
///     x̄ ← (1−s)x̄ + s σ(⌈A⌉x̄ + ⌊A⌋x̲ + [B]⁺ū + [B]⁻u̲ + b),   x̲ likewise with the roles swapped,
/// (⌈A⌉: diagonal and positive off-diagonal entries, ⌊A⌋ = A − ⌈A⌉) is iterated to approximate
/// convergence; that is only a guess. The proof is a floating-point check, rounded outward, that
/// one step of the plain embedded map sends a slightly widened box Y = [y̲, ȳ] into itself:
///     σ(aᵢᵢȳᵢ + w̄ᵢ(Y)) ≤ ȳᵢ and σ(aᵢᵢy̲ᵢ + w̲ᵢ(Y)) ≥ y̲ᵢ for every i,
/// with [w̲ᵢ, w̄ᵢ] the range of ωᵢ = Σ_{j≠i} aᵢⱼxⱼ + (Bu)ᵢ + bᵢ over x ∈ Y, u ∈ U.
///
/// Why that suffices (Brouwer + uniqueness). Fix u ∈ U and s = 1/(1 − β·min(0, minᵢ aᵢᵢ)), β the
/// largest slope of σ. The averaged map F(x) = (1−s)x + sσ(Ax + Bu + b) has the fixed points of
/// x = σ(Ax + Bu + b). Its component Fᵢ = (1−s)xᵢ + sσ(aᵢᵢxᵢ + ωᵢ) is non-decreasing in ωᵢ (σ is)
/// and in xᵢ: a step of xᵢ changes it by the step times (1−s) + s·aᵢᵢ·q, q ∈ [0, β] a secant slope
/// of σ, which is ≥ 0 by the choice of s. So over x ∈ Y, Fᵢ(x) ≤ (1−s)ȳᵢ + sσ(aᵢᵢȳᵢ + w̄ᵢ) ≤ ȳᵢ,
/// and likewise ≥ y̲ᵢ: F maps the compact convex box Y into itself and, being continuous, has a
/// fixed point there (Brouwer). When the network is well-posed — one fixed point per input, which
/// the caller proves (a certified μ_η(A) < 1, or the implicit-SDP certificate) — that fixed point
/// is x*(u). Hence x*(u) ∈ Y for every u ∈ U. Without well-posedness the box proves nothing about
/// "the" network output, so callers never use one without it.
///
/// Pre-activations: at the fixed point vᵢ = aᵢᵢσ(vᵢ) + ωᵢ, i.e. gᵢ(vᵢ) = ωᵢ with
/// gᵢ(t) = t − aᵢᵢσ(t), strictly increasing when aᵢᵢβ < 1 (secant slope 1 − aᵢᵢq > 0). Any V with
/// gᵢ(V) ≥ w̄ᵢ (checked in floating point, rounded) is then an upper bound of vᵢ, and any V with
/// gᵢ(V) ≤ w̲ᵢ a lower one; a bisection finds nearly the tightest. The plain interval range of
/// aᵢᵢxᵢ + ωᵢ over Y is the fallback, and σ of the bounds tightens the state box.
public struct FixedPointBox: Sendable, Equatable {
    public let lower: [Double]
    public let upper: [Double]
    public let preLower: [Double]
    public let preUpper: [Double]
    /// Embedded-network iterations and widenings it took.
    public let iterations: Int
    public let widenings: Int

    /// Why no box could be proven (the caller falls back to global slopes).
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    public static func compute(_ net: ImplicitNetwork, region: InputRegion, maxIterations: Int = 20_000) -> Result<FixedPointBox, Failure> {
        guard region.dimension == net.inputSize else {
            return .failure(Failure(description: "the region has \(region.dimension) coordinates but the network has \(net.inputSize) inputs"))
        }
        let map = EmbeddedMap(net, region: region)
        let n = net.stateSize
        // Start from the center's fixed point (the box shrinks to it as the region does).
        let start = net.fixedPoint(input: region.center, tolerance: 1e-13, maxIterations: 2000).state
        var lo = start.allSatisfy(\.isFinite) ? start : [Double](repeating: 0, count: n)
        var hi = lo
        var iterations = 0
        let scale = { (l: [Double], h: [Double]) in 1 + max(l.map(abs).max() ?? 0, h.map(abs).max() ?? 0) }
        while iterations < maxIterations {
            iterations += 1
            let (nl, nh) = map.averaged(lo, hi)
            guard nl.allSatisfy(\.isFinite), nh.allSatisfy(\.isFinite), scale(nl, nh) < 1e150 else {
                return .failure(Failure(description: "the embedded network diverged after \(iterations) iterations (it converges when a weighted ℓ∞ measure of A is < 1)"))
            }
            var change = 0.0
            for i in 0..<n { change = max(change, abs(nl[i] - lo[i]), abs(nh[i] - hi[i])) }
            lo = nl; hi = nh
            if change <= 1e-14 * scale(lo, hi) { break }
        }
        // ε-inflation (Rump): widen, map once, accept when the image lies inside; else restart
        // from the image. The averaged map is inclusion-isotone, so with a fixed ε the widening
        // propagates along A (one round per layer of a feedforward net, geometrically for a
        // contraction) and the check passes; ε doubles only every fourth failed round, because a
        // growing ε keeps the upstream states ahead of the downstream ones.
        var widenings = 0
        var verified: (lo: [Double], hi: [Double])?
        var relative = 1e-9
        while widenings < 60 {
            widenings += 1
            let s = scale(lo, hi)
            let yl = (0..<n).map { lo[$0] - (relative * (abs(lo[$0]) + hi[$0] - lo[$0]) + 1e-3 * relative * s) }
            let yh = (0..<n).map { hi[$0] + (relative * (abs(hi[$0]) + hi[$0] - lo[$0]) + 1e-3 * relative * s) }
            if map.mapsInto(yl, yh) { verified = (yl, yh); break }
            (lo, hi) = map.averaged(yl, yh)
            guard lo.allSatisfy(\.isFinite), hi.allSatisfy(\.isFinite) else { break }
            if widenings % 4 == 0 { relative *= 2 }
        }
        guard let box = verified else {
            return .failure(Failure(description: "no widening of the embedded network's box (up to a relative \(relative)) was proven to map into itself"))
        }
        let (vl, vh) = map.preActivationBounds(box.lo, box.hi)
        let act = net.activation
        let xl = (0..<n).map { max(box.lo[$0], PreActivationBounds.lowerValue(act, vl[$0])) }
        let xh = (0..<n).map { min(box.hi[$0], PreActivationBounds.upperValue(act, vh[$0])) }
        return .success(FixedPointBox(lower: xl, upper: xh, preLower: vl, preUpper: vh, iterations: iterations, widenings: widenings))
    }

    public var width: Double { zip(lower, upper).map { $1 - $0 }.max() ?? 0 }

    public func contains(_ x: [Double]) -> Bool {
        x.count == lower.count && x.indices.allSatisfy { lower[$0] <= x[$0] && x[$0] <= upper[$0] }
    }
}

/// The embedded network's pieces for one net and input box, with the rounding slack of each row.
struct EmbeddedMap {
    let activation: Activation
    let diagonal: [Double]
    /// Off-diagonal positive / negative parts of A (zero diagonal).
    let positive: Matrix
    let negative: Matrix
    let absOff: Matrix
    /// Range of (Bu)ᵢ + bᵢ over the input box, rounded outward, and |B||u| + |b| for rounding.
    let driveLow: [Double]
    let driveHigh: [Double]
    let step: Double
    let beta: Double
    let gamma: Double

    init(_ net: ImplicitNetwork, region: InputRegion) {
        let n = net.stateSize, p = net.inputSize
        activation = net.activation
        beta = net.activation.slopeBounds.beta
        diagonal = (0..<n).map { net.A[$0, $0] }
        var pos = Matrix(rows: n, columns: n), neg = Matrix(rows: n, columns: n)
        for j in 0..<n { for i in 0..<n where i != j {
            let a = net.A[i, j]
            if a > 0 { pos[i, j] = a } else { neg[i, j] = a }
        } }
        positive = pos; negative = neg
        absOff = Matrix(rows: n, columns: n, storage: zip(pos.storage, neg.storage).map { $0 - $1 })
        let g = 4 * Double(n + p + 8) * Double.ulpOfOne
        gamma = g
        let bPos = Matrix(rows: n, columns: p, storage: net.B.storage.map { max($0, 0) })
        let bNeg = Matrix(rows: n, columns: p, storage: net.B.storage.map { min($0, 0) })
        let absB = Matrix(rows: n, columns: p, storage: net.B.storage.map(abs))
        let uMag = zip(region.lower, region.upper).map { max(abs($0), abs($1)) }
        let mag = absB * uMag
        let hi = zip(bPos * region.upper, bNeg * region.lower).map(+)
        let lo = zip(bPos * region.lower, bNeg * region.upper).map(+)
        let bias = net.bias
        driveHigh = (0..<n).map { hi[$0] + bias[$0] + g * (mag[$0] + abs(bias[$0])) }
        driveLow = (0..<n).map { lo[$0] + bias[$0] - g * (mag[$0] + abs(bias[$0])) }
        let b = net.activation.slopeBounds.beta
        step = 1 / (1 - b * min(0, (0..<n).map { net.A[$0, $0] }.min() ?? 0))
    }

    /// [w̲, w̄]: the range of Σ_{j≠i} aᵢⱼxⱼ + (Bu)ᵢ + bᵢ over x ∈ [lo, hi], u in the region, rounded outward.
    func offDiagonalRange(_ lo: [Double], _ hi: [Double]) -> (low: [Double], high: [Double]) {
        let up = zip(positive * hi, negative * lo).map(+)
        let down = zip(positive * lo, negative * hi).map(+)
        let mag = absOff * zip(lo, hi).map { max(abs($0), abs($1)) }
        let n = diagonal.count
        return ((0..<n).map { down[$0] + driveLow[$0] - gamma * (mag[$0] + abs(driveLow[$0])) },
                (0..<n).map { up[$0] + driveHigh[$0] + gamma * (mag[$0] + abs(driveHigh[$0])) })
    }

    /// One step of the averaged embedded network (approximate; only a guess for the check).
    func averaged(_ lo: [Double], _ hi: [Double]) -> ([Double], [Double]) {
        let (wl, wh) = offDiagonalRange(lo, hi)
        let s = step
        let nl = lo.indices.map { (1 - s) * lo[$0] + s * activation.apply(diagonal[$0] * lo[$0] + wl[$0]) }
        let nh = hi.indices.map { (1 - s) * hi[$0] + s * activation.apply(diagonal[$0] * hi[$0] + wh[$0]) }
        return (nl, nh)
    }

    /// The check of the proof: σ(aᵢᵢȳᵢ + w̄ᵢ) ≤ ȳᵢ and σ(aᵢᵢy̲ᵢ + w̲ᵢ) ≥ y̲ᵢ, every quantity rounded
    /// the unfavourable way (the argument and σ itself).
    func mapsInto(_ lo: [Double], _ hi: [Double]) -> Bool {
        guard zip(lo, hi).allSatisfy({ $0 <= $1 }) else { return false }
        let (wl, wh) = offDiagonalRange(lo, hi)
        for i in lo.indices {
            let a = diagonal[i]
            let argHigh = a * hi[i] + wh[i], argLow = a * lo[i] + wl[i]
            let slackHigh = 2 * Double.ulpOfOne * (abs(a * hi[i]) + abs(wh[i])) + Double.leastNormalMagnitude
            let slackLow = 2 * Double.ulpOfOne * (abs(a * lo[i]) + abs(wl[i])) + Double.leastNormalMagnitude
            guard PreActivationBounds.upperValue(activation, argHigh + slackHigh) <= hi[i],
                  PreActivationBounds.lowerValue(activation, argLow - slackLow) >= lo[i] else { return false }
        }
        return true
    }

    /// Bounds of the pre-activation vᵢ at the fixed points, given that they lie in [lo, hi]
    /// (see FixedPointBox: gᵢ(vᵢ) = ωᵢ with gᵢ increasing, else the interval range).
    func preActivationBounds(_ lo: [Double], _ hi: [Double]) -> (low: [Double], high: [Double]) {
        let (wl, wh) = offDiagonalRange(lo, hi)
        var vl = [Double](repeating: 0, count: lo.count), vh = vl
        for i in lo.indices {
            let a = diagonal[i]
            let ends = [a * lo[i], a * hi[i]]
            let slack = 2 * Double.ulpOfOne * (abs(ends[0]) + abs(ends[1]) + abs(wl[i]) + abs(wh[i])) + Double.leastNormalMagnitude
            var low = ends.min()! + wl[i] - slack, high = ends.max()! + wh[i] + slack
            if a * beta < 1 - 1e-12, a != 0 {
                // Proven lower bound of g(t) = t − aσ(t) and upper bound, rounded.
                func gLow(_ t: Double) -> Double {
                    let s = a > 0 ? PreActivationBounds.upperValue(activation, t) : PreActivationBounds.lowerValue(activation, t)
                    return t - a * s - 2 * Double.ulpOfOne * (abs(t) + abs(a * s)) - Double.leastNormalMagnitude
                }
                func gHigh(_ t: Double) -> Double {
                    let s = a > 0 ? PreActivationBounds.lowerValue(activation, t) : PreActivationBounds.upperValue(activation, t)
                    return t - a * s + 2 * Double.ulpOfOne * (abs(t) + abs(a * s)) + Double.leastNormalMagnitude
                }
                // Smallest V in [low, high] with g(V) ≥ w̄ (high is valid whatever happens).
                var bad = low, good = high
                for _ in 0..<80 where good - bad > 1e-15 * (abs(good) + abs(bad)) {
                    let mid = (bad + good) / 2
                    if gLow(mid) >= wh[i] { good = mid } else { bad = mid }
                }
                let newHigh = good
                bad = high; good = low
                for _ in 0..<80 where bad - good > 1e-15 * (abs(good) + abs(bad)) {
                    let mid = (bad + good) / 2
                    if gHigh(mid) <= wl[i] { good = mid } else { bad = mid }
                }
                low = good; high = newHigh
            } else if a == 0 {
                low = wl[i]; high = wh[i]
            }
            vl[i] = low; vh[i] = high
        }
        return (vl, vh)
    }
}
