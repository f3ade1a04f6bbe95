import Foundation
import LipscopeLinearAlgebra

extension SamplingBound {
    /// A lower bound on the local constant: the largest ‖J(x)‖ over seeded points of the region
    /// (uniform, and vertices, where ReLU patterns change most), then a random local search
    /// clamped to the region, then (piecewise linear nets) region hopping inside the region. Without a region (a margin only) it samples as the global run does.
    func runLocal(_ request: BoundRequest, scope: LocalScope, context: JobContext) throws -> BoundResult {
        try runLocal(request, network: .feedforward(scope.network), region: scope.region, details: scope.details, context: context)
    }

    /// An implicit net over a region and/or for a margin: the same search, every Jacobian taken
    /// at the solved fixed point (`ImplicitNetwork.jacobian`), so it needs no fixed-point box.
    func runLocal(_ request: BoundRequest, parsed: ParsedOptions, implicit full: ImplicitNetwork, context: JobContext) throws -> BoundResult {
        let region = try InputRegion.from(parsed, inputSize: full.inputSize)
        var net = full
        var details: [String: JSONValue] = [:]
        if let (c, j) = try LocalScope.margin(request, parsed: parsed, outputCount: full.outputSize) {
            net.C = Matrix(rows: 1, columns: full.C.columns, storage: (0..<full.C.columns).map { full.C[c, $0] - full.C[j, $0] })
            net.D = Matrix(rows: 1, columns: full.D.columns, storage: (0..<full.D.columns).map { full.D[c, $0] - full.D[j, $0] })
            net.outputBias = [full.outputBias[c] - full.outputBias[j]]
            details["margin"] = .string("f_\(c) − f_\(j)")
        } else if let j = request.output {
            net.C = full.C.selectingRows([j]); net.D = full.D.selectingRows([j]); net.outputBias = [full.outputBias[j]]
        }
        if let region { details["region"] = .string(EquilibriumScope.describe(region)) }
        return try runLocal(request, network: .implicit(net), region: region, details: details, context: context)
    }

    func runLocal(_ request: BoundRequest, network: Network, region: InputRegion?, details scopeDetails: [String: JSONValue],
                  context: JobContext) throws -> BoundResult {
        let evaluator = Evaluator(network, norm: request.norm)
        let n = network.inputSize
        var rng = SeededGenerator(seed: request.seed)
        func draw(_ s: Int) -> [Double] {
            guard let region else {
                let scale = Self.scales[s % Self.scales.count]
                return (0..<n).map { _ in rng.uniform(-scale, scale) }
            }
            if s % 4 == 3 { return (0..<n).map { rng.uniform(0, 1) < 0.5 ? region.lower[$0] : region.upper[$0] } }
            return (0..<n).map { rng.uniform(region.lower[$0], region.upper[$0]) }
        }
        let budget = 2.0e8
        let samples = max(200, min(4000, Int(budget / Double(max(evaluator.costPerSample, 1)))))
        var best = 0.0
        var bestInput = region?.center ?? [Double](repeating: 0, count: n)
        var candidates: [(value: Double, x: [Double])] = []
        var evaluated = 0
        var drawn = 0
        // The wall clock (`time_limit`): the draws stop at 0.7 of it (after one batch at least),
        // the local search at all of it; costly samples come in smaller batches.
        let timeLimit = (try? parseOptions(request).double("time_limit")) ?? Self.defaultTimeLimit
        var stoppedByTime = false
        let batchSize = max(4, min(256, Int(5e7 / Double(max(evaluator.costPerSample, 1)))))
        while drawn < samples {
            try context.checkCancelled()
            if drawn > 0 && context.elapsed >= 0.7 * timeLimit { stoppedByTime = true; break }
            let count = min(batchSize, samples - drawn)
            let xs = (0..<count).map { draw(drawn + $0) }
            drawn += count
            evaluated += count
            for (x, v) in zip(xs, try evaluator.norms(xs)) {
                guard let v else { continue }
                candidates.append((v, x))
                if v > best { best = v; bestInput = x }
            }
            context.emit(.progress(phase: "sampling", done: drawn, total: samples))
        }
        candidates.sort { $0.value > $1.value }
        let step0 = 0.1 * (region.map { max($0.radius, 1e-12) } ?? 1)
        var chains = candidates.prefix(5).map { (x: $0.x, value: $0.value, radius: step0) }
        for step in 0..<200 where !chains.isEmpty {
            try context.checkCancelled()
            if context.elapsed >= timeLimit { stoppedByTime = true; break }
            let trials = chains.map { chain in
                let moved = chain.x.map { $0 + chain.radius * rng.gaussian() }
                return region?.clamp(moved) ?? moved
            }
            evaluated += trials.count
            for (c, v) in try evaluator.norms(trials).enumerated() {
                if let v, v > chains[c].value {
                    chains[c].x = trials[c]; chains[c].value = v; chains[c].radius *= 1.5
                    if v > best { best = v; bestInput = trials[c] }
                } else {
                    chains[c].radius *= 0.9
                }
            }
            chains.removeAll { $0.radius < 1e-6 * step0 }
            if step % 25 == 24 { context.iteration(step / 25 + 1, [Metric("samples", Double(evaluated)), Metric("best", best)]) }
        }
        // Piecewise linear nets: hop across hyperplanes to regions (inside the input region)
        // with larger Jacobians, from the best distinct patterns of the samples.
        if case .feedforward(let ff) = network,
           let hop = LowerBoundAscent.hop(ff, norm: request.norm, region: region,
                                          from: [bestInput] + chains.map(\.x) + candidates.map(\.x),
                                          isCancelled: { context.isCancelled || context.elapsed >= timeLimit }) {
            try context.checkCancelled()
            evaluated += hop.lps
            if hop.value > best { best = hop.value; bestInput = hop.x }
            context.iteration(200 / 25 + 1, [Metric("region_lps", Double(hop.lps)), Metric("best", best)])
        }
        // Smooth nets: gradient ascent of ‖J(x)‖ inside the region from the best inputs.
        if network.hasSmoothActivation, context.elapsed < timeLimit,
           let ascent = LowerBoundAscent.gradientAscent(network, norm: request.norm, region: region,
                                                        from: [bestInput] + chains.map(\.x) + candidates.map(\.x),
                                                        stop: { context.isCancelled || context.elapsed >= timeLimit }) {
            try context.checkCancelled()
            evaluated += ascent.jacobians
            if ascent.value > best, region?.contains(ascent.x) ?? true { best = ascent.value; bestInput = ascent.x }
        }
        var details = scopeDetails
        details["witness"] = .numbers(bestInput)
        details["samples"] = .number(Double(evaluated))
        details["stopped_by"] = .string(stoppedByTime ? "time limit" : "work budget")
        details["time_limit"] = .number(timeLimit)
        details["note"] = .string("lower bound: the induced norm of the true Jacobian at the witness input" + (region == nil ? "" : ", a point of the region"))
        return result(request, value: best, certified: false, iterations: evaluated, details: details)
    }
}
