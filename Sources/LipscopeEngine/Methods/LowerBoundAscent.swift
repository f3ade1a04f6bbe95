import LipscopeLinearAlgebra

/// Refinements of a sampled lower bound that climb from the best sampled inputs, every value
/// ‖J(x)‖ of the true Jacobian at a real input (of the region when there is one).
///
/// Piecewise linear nets: ‖J(x)‖ is constant on each linear region, so its gradient is zero
/// and ascent in x cannot leave a region; the climb hops across hyperplanes instead
/// (`RegionHopping`, LP-checked, clipped to the input region).
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
}
