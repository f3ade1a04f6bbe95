import LipscopeLinearAlgebra

/// A lower bound: the largest induced norm of the true Jacobian over seeded random inputs at
/// several scales (some linear regions only show far from the origin), then refined by a
/// random local search around the best points, and (piecewise linear nets) walks along lines
/// through the best points that visit every linear region crossed. Every value is attained at
/// a real input.
public struct SamplingBound: BoundMethod {
    public let id = "sampling"
    public let label = "Sampled lower bound"
    public let kind = BoundKind.lower
    public let norms: [Norm] = [.l2, .linf]
    public static let scales: [Double] = [1, 10, 100, 1000]
    /// An input region and/or a margin make it a local lower bound (Regions/LocalSampling.swift);
    /// `time_limit` caps the wall clock (stopping early only loses candidates: still a lower bound).
    public var options: [MethodOption] {
        LocalScope.options + [
            MethodOption("time_limit", .double(min: 0, max: nil, open: true), default: String(Self.defaultTimeLimit),
                         help: "wall-clock limit, seconds: the phases (random samples, local search, line walks, region climbing) share it and stop early on big nets; small nets finish their fixed work budget well before it"),
        ]
    }
    /// Seconds. Nets up to MNIST size finish the work budget in well under a second (release);
    /// big conv and residual nets stop at this limit, leaving load and naive room within 5 s.
    public static let defaultTimeLimit = 2.5
    /// Random lines walked region by region through each of the best inputs (piecewise linear nets).
    static let lineWalkDirections = 24
    /// Region-to-region climbing steps per start (piecewise linear nets).
    static let climbSteps = 200
    /// Starts of the region hopping (distinct activation patterns among the best inputs).
    static let hopStarts = 64
    public init() {}

    public func applicability(_ request: BoundRequest) -> Applicability { .applicable }

    /// Jacobian norms at batches of inputs, with the network prepared once.
    struct Evaluator {
        let network: Network
        let norm: Norm
        /// The layers' weights as stored (sparse ones stay sparse).
        let weights: [WeightMatrix]
        /// W₁W₁ᵀ when the ℓ2 norm is asked and the input is wider than the first layer:
        /// ‖G W₁‖₂² = λmax(G (W₁W₁ᵀ) Gᵀ) skips the widest product for every sample.
        let firstLayerGram: Matrix?
        let costPerSample: Int

        init(_ network: Network, norm: Norm) {
            self.network = network
            self.norm = norm
            switch network {
            case .feedforward(let ff):
                weights = ff.layers.map(\.weight)
                let w1 = ff.layers[0].weight
                // Through the Gram a sample costs outputs·rows² instead of outputs·(W₁ as
                // stored): worth it for a dense W₁ wider than tall, rarely for a sparse
                // (convolution) one, whose rows² dwarfs its nonzeros.
                let stored = w1.isSparse ? w1.nonzeroCount : w1.rows * w1.columns
                firstLayerGram = norm == .l2 && ff.layers.count > 1 && w1.rows * w1.rows < stored ? w1.dense * w1.dense.transposed : nil
                let flops = ff.layers.reduce(0) { $0 + $1.weight.nonzeroCount }
                costPerSample = flops * (1 + ff.outputSize)
            case .implicit(let imp):
                weights = []
                firstLayerGram = nil
                let n = imp.stateSize
                costPerSample = 200 * n * n + n * n * n / 3 + n * imp.inputSize * imp.outputSize
            case .graph(let g):
                weights = []
                firstLayerGram = nil
                // A forward pass, then one (outputs × rows) · W product per edge.
                costPerSample = g.nodes.reduce(0) { $0 + $1.inputs.reduce(0) { $0 + $1.weight.nonzeroCount } } * (1 + g.outputSize)
            }
        }

        /// ‖J(x)‖ for each input, nil where the Jacobian does not exist.
        func norms(_ xs: [[Double]]) throws -> [Double?] {
            switch network {
            case .feedforward(let ff):
                if let gram = firstLayerGram {
                    return try ff.jacobians(at: xs, weights: weights, throughFirstLayer: false).map { g in
                        guard let g else { return nil }
                        let m = g * gram * g.transposed
                        let top = m.rows == 1 ? m[0, 0] : try LinearAlgebra.symmetricEigenvalues(m).last ?? 0
                        return max(0, top).squareRoot()
                    }
                }
                return try ff.jacobians(at: xs, weights: weights).map { try $0.map(norm.induced) }
            case .implicit(let imp):
                return try xs.map { try imp.jacobian(at: $0).map(norm.induced) }
            case .graph(let g):
                return try g.jacobians(at: xs).map { try $0.map(norm.induced) }
            }
        }
    }

    public func run(_ request: BoundRequest, context: JobContext) throws -> BoundResult {
        let parsed = try parseOptions(request)
        let timeLimit = parsed.double("time_limit") ?? Self.defaultTimeLimit
        if !parsed.explicit.filter({ $0.key != "time_limit" }).isEmpty {
            if case .implicit(let imp) = request.network {
                return try runLocal(request, parsed: parsed, implicit: imp, context: context)
            }
            guard let ff = request.network.layerChain else {
                throw MethodFailure("an input region or margin needs a chain of layers or an implicit network; this graph has skip connections or branches (regions of graphs: not implemented)")
            }
            return try runLocal(request, scope: try LocalScope(request, parsed: parsed, network: ff), context: context)
        }
        let network: Network
        switch (request.network, request.output) {
        case (.feedforward(let ff), .some(let j)): network = .feedforward(ff.restricted(toOutput: j))
        case (.implicit(var imp), .some(let j)):
            imp.C = imp.C.selectingRows([j]); imp.D = imp.D.selectingRows([j])
            network = .implicit(imp)
        case (.graph(let g), .some(let j)): network = .graph(g.restricted(toOutput: j))
        default: network = request.network
        }
        let evaluator = Evaluator(network, norm: request.norm)
        let n = network.inputSize
        // Samples per (scale, distribution): deterministic, sized so a run stays well under a second.
        let budget = 4.0e8
        let perGroup = max(100, min(1000, Int(budget / Double(8 * max(evaluator.costPerSample, 1)))))
        var rng = SeededGenerator(seed: request.seed)
        var best = 0.0
        var bestInput = [Double](repeating: 0, count: n)
        var bestPhase = "none"
        var candidates: [(value: Double, x: [Double], scale: Double)] = []
        var evaluated = 0
        var iteration = 0

        // The wall clock: each phase stops at its fraction of the limit (a phase that finishes
        // sooner leaves its time to the next), so a net whose whole fixed-work run takes under
        // 0.4 × time_limit is never cut. Without line walks (graphs with skips, smooth
        // activations) the random samples and the local search share all of it.
        let walks = LineWalk(network) != nil
        let randomEnd = (walks ? 0.4 : 0.7) * timeLimit
        var localEnd = (walks ? 0.55 : 1.0) * timeLimit
        let climbEnd = 0.95 * timeLimit
        // One climb step's neighbours cost a product with an inputs × inputs matrix per layer,
        // and fresh rows × inputs matrices (counted as 8 multiply-adds an entry): when that
        // alone would not fit in the climb's share, the climb is skipped and the walks take
        // its share.
        let neighbourFlops = Double(n) * Double(network.layerChain?.layers.dropLast().reduce(0) { $0 + $1.weight.nonzeroCount + 8 * $1.weight.rows } ?? 0)
        let walkEnd = (neighbourFlops / CostModel.loopFlopsPerSecond < 0.15 * timeLimit ? 0.8 : 0.95) * timeLimit
        var stoppedByTime = false
        func timeUp(_ until: Double) -> Bool {
            if context.elapsed >= until { stoppedByTime = true; return true }
            return false
        }

        // Batches sized so the stacked Jacobians (batch·outputs × widest layer) stay near 64 MB:
        // a line walk can return thousands of points at once. Costly samples come in smaller
        // batches (≈ 5e7 multiply-adds each) so the clock is looked at often.
        let batchSize = max(4, min(256, Int(5e7 / Double(max(evaluator.costPerSample, 1)))))
        let widest: Int
        switch network {
        case .graph(let g) where network.layerChain == nil: widest = max(n, g.nodes.map(\.size).max() ?? 1)
        default: widest = max(1, network.layerChain?.layers.map(\.weight.columns).max() ?? n)
        }
        let chunk = max(1, min(batchSize, (64 << 20) / (8 * max(1, network.outputSize) * widest)))
        /// The norms at xs, chunk by chunk; past `until` the rest is left out (the answer is
        /// then shorter than xs, and zip drops the points not evaluated).
        func values(at xs: [[Double]], until: Double = .infinity) throws -> [Double?] {
            var out: [Double?] = []
            out.reserveCapacity(xs.count)
            for start in stride(from: 0, to: xs.count, by: chunk) {
                if timeUp(until) { break }
                let part = Array(xs[start..<min(xs.count, start + chunk)])
                evaluated += part.count
                out += try evaluator.norms(part)
            }
            return out
        }

        let groups = 2 * Self.scales.count
        var groupSamples = perGroup
        var batches = 0, group = 0
        for scale in Self.scales {
            for gaussian in [true, false] {
                group += 1
                var remaining = groupSamples
                while remaining > 0 {
                    try context.checkCancelled()
                    // At least one batch in all, whatever the clock: a value needs a sample.
                    if evaluated > 0 && timeUp(randomEnd) { break }
                    let count = min(batchSize, remaining)
                    remaining -= count
                    let xs = (0..<count).map { _ in
                        (0..<n).map { _ in gaussian ? scale * rng.gaussian() : rng.uniform(-scale, scale) }
                    }
                    let before = context.elapsed
                    for (x, v) in zip(xs, try values(at: xs)) {
                        guard let v else { continue }
                        candidates.append((v, x, scale))
                        if v > best { best = v; bestInput = x; bestPhase = "random" }
                    }
                    batches += 1
                    if batches == 2 {
                        // The second batch's time (the first pays one-time costs), extrapolated:
                        // when the groups would overrun the random phase's time, every group
                        // left gets fewer samples (each scale and distribution keeps a share
                        // instead of the first ones taking all).
                        let now = context.elapsed
                        let perSample = max(now - before, 1e-9) / Double(count)
                        let affordable = Int(min(1e9, max(0, randomEnd - now) / perSample))
                        let groupsLeft = groups - group
                        if affordable < remaining + groupsLeft * groupSamples {
                            let share = affordable / (groupsLeft + 1)
                            remaining = min(remaining, share)
                            groupSamples = max(1, share)
                            stoppedByTime = true
                        }
                    }
                }
                iteration += 1
                context.emit(.progress(phase: "sampling", done: iteration, total: 2 * Self.scales.count + 1))
                context.iteration(iteration, [Metric("scale", scale), Metric("samples", Double(evaluated)),
                                              Metric("best", best)])
            }
        }

        // Local search: random steps around the best few points, shrinking on failure; the
        // chains advance together so each step is one batched evaluation. When the clock
        // already cut the random phase, the net is big: there the local search is what finds
        // the best values (measured on the conv nets), so it takes the walks' first half too.
        if stoppedByTime && walks { localEnd = 0.7 * timeLimit }
        candidates.sort { $0.value > $1.value }
        var chains = candidates.prefix(5).map { (x: $0.x, value: $0.value, radius: 0.1 * $0.scale, scale: $0.scale) }
        let stepsPerStart = max(50, min(400, perGroup / 2))
        for step in 0..<stepsPerStart where !chains.isEmpty {
            try context.checkCancelled()
            if timeUp(localEnd) { break }
            let trials = chains.map { chain in chain.x.map { $0 + chain.radius * rng.gaussian() } }
            for (c, v) in try values(at: trials).enumerated() {
                if let v, v > chains[c].value {
                    chains[c].x = trials[c]; chains[c].value = v; chains[c].radius *= 1.5
                    if v > best { best = v; bestInput = trials[c]; bestPhase = "local search" }
                } else {
                    chains[c].radius *= 0.9
                }
            }
            chains.removeAll { $0.radius < 1e-6 * $0.scale }
            if step % 25 == 24 {
                iteration += 1
                context.iteration(iteration, [Metric("scale", chains.first?.scale ?? 0), Metric("samples", Double(evaluated)),
                                              Metric("best", best)])
            }
        }
        // The region walks below cost about as much as everything above, and no more: on tiny
        // nets that is millions of evaluations (every region), on MNIST-sized nets a few
        // hundred (a line crosses hundreds of hyperplanes, a climb step evaluates one
        // neighbour per neuron), so sampling stays a quick lower bound at any size.
        let walkLimit = evaluated + max(evaluated, Int(budget / Double(max(evaluator.costPerSample, 1))))
        // Piecewise linear nets: visit every linear region on lines through the best inputs.
        if var walk = LineWalk(network) {
            candidates.sort { $0.value > $1.value }
            // Lines reach far past their start: regions that are thin near the data can be
            // cones that only widen far out.
            var starts = [(x: bestInput, scale: 1.0), (x: [Double](repeating: 0, count: n), scale: 1.0)]
            for c in candidates.prefix(7) { starts.append((c.x, c.scale)) }
            for start in starts {
                try context.checkCancelled()
                for _ in 0..<Self.lineWalkDirections where evaluated < walkLimit {
                    if timeUp(walkEnd) { break }
                    // A line through a big net crosses thousands of regions: stop it at the budget.
                    walk.maxSegments = max(16, min(4000, walkLimit - evaluated))
                    let d = (0..<n).map { _ in rng.gaussian() }
                    let norm = d.reduce(0) { $0 + $1 * $1 }.squareRoot()
                    guard norm > 0 else { continue }
                    let xs = walk.midpoints(from: start.x, direction: d.map { $0 / norm }, reach: 20 * (start.scale + (start.x.map(abs).max() ?? 0)),
                                            stop: { timeUp(walkEnd) })
                    for (x, v) in zip(xs, try values(at: xs, until: walkEnd)) {
                        if let v, v > best { best = v; bestInput = x; bestPhase = "line walk" }
                    }
                }
                iteration += 1
                context.iteration(iteration, [Metric("scale", start.scale), Metric("samples", Double(evaluated)),
                                              Metric("best", best)])
            }
        }
        // Piecewise linear nets: climb from region to neighbouring region (across one
        // hyperplane at a time) while the Jacobian's norm grows, from the best few inputs.
        let climbFits = neighbourFlops / CostModel.loopFlopsPerSecond < climbEnd - context.elapsed
        if !climbFits && walks { stoppedByTime = true }
        if climbFits, let walk = LineWalk(network) {
            candidates.sort { $0.value > $1.value }
            var climbers: [(x: [Double], value: Double)] = [(bestInput, best)] + stride(from: 0, to: min(candidates.count, 640), by: 10).map { (candidates[$0].x, candidates[$0].value) }
            climbing: for c in climbers.indices where evaluated < walkLimit {
                for _ in 0..<Self.climbSteps where evaluated < walkLimit {
                    try context.checkCancelled()
                    if timeUp(climbEnd) { break climbing }
                    let near = walk.neighbours(of: climbers[c].x, stop: { timeUp(climbEnd) })
                    guard let (x, v) = zip(near, try values(at: near, until: climbEnd)).compactMap({ p, v in v.map { (p, $0) } })
                        .max(by: { $0.1 < $1.1 }), v > climbers[c].value else { break }
                    climbers[c] = (x, v)
                    if v > best { best = v; bestInput = x; bestPhase = "region climb" }
                }
            }
            iteration += 1
            context.iteration(iteration, [Metric("samples", Double(evaluated)), Metric("best", best)])
        }
        // Piecewise linear nets with up to 128 hidden neurons: hop across one or two
        // hyperplanes at a time to regions with larger Jacobians (LP-checked), from the best
        // input and the best distinct starts of the sampling.
        if case .feedforward(let ff) = network, var hop = RegionHopping(ff, output: nil, norm: request.norm, region: nil) {
            candidates.sort { $0.value > $1.value }
            // The best distinct patterns of every scale: the best region near the origin can
            // be a sliver whose neighbours all beat the far-out cones' local optima.
            var starts = [bestInput]
            var seen = Set([hop.net.pattern(at: bestInput).bits])
            for scale in Self.scales {
                var taken = 0
                for c in candidates where c.scale == scale && taken < Self.hopStarts / Self.scales.count {
                    if seen.insert(hop.net.pattern(at: c.x).bits).inserted { starts.append(c.x); taken += 1 }
                }
            }
            for x in starts {
                try context.checkCancelled()
                if timeUp(timeLimit) { break }
                let (y, v) = hop.climb(from: x, isCancelled: { context.isCancelled || context.elapsed >= timeLimit })
                if v > best { best = v; bestInput = y; bestPhase = "region hopping" }
            }
            evaluated += hop.lpCount
            iteration += 1
            context.iteration(iteration, [Metric("region_lps", Double(hop.lpCount)), Metric("best", best)])
        }
        // Smooth nets: gradient ascent of ‖J(x)‖ from the best input and the best distinct samples.
        if network.hasSmoothActivation, !timeUp(timeLimit) {
            candidates.sort { $0.value > $1.value }
            let starts = [bestInput] + candidates.map(\.x)
            if let ascent = LowerBoundAscent.gradientAscent(network, norm: request.norm, region: nil, from: starts,
                                                            stop: { context.isCancelled || context.elapsed >= timeLimit }) {
                evaluated += ascent.jacobians
                if ascent.value > best { best = ascent.value; bestInput = ascent.x; bestPhase = "gradient ascent" }
                iteration += 1
                context.iteration(iteration, [Metric("samples", Double(evaluated)), Metric("best", best)])
            }
        }
        context.emit(.progress(phase: "sampling", done: 2 * Self.scales.count + 1, total: 2 * Self.scales.count + 1))
        return result(request, value: best, certified: false, iterations: evaluated,
                      details: ["witness": .numbers(bestInput), "samples": .number(Double(evaluated)),
                                "stopped_by": .string(stoppedByTime ? "time limit" : "work budget"),
                                "time_limit": .number(timeLimit), "found_by": .string(bestPhase),
                                "note": .string("lower bound: the induced norm of the true Jacobian at the witness input")])
    }
}
