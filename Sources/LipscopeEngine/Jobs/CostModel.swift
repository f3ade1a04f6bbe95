import Foundation

/// A method's predicted wall time on one request, and the size measure it came from.
///
/// The predictions order the methods of a comparison (cheap first) and keep a method predicted
/// to exceed the time budget from running unless the user asks for it. They are rough — a
/// power law in the problem's size, fitted to release-build measurements on the 2-core
/// reference machine (the `lipscope bench scale` / `bench sdp` tables in the README) — and
/// only ever decide what runs first or asks first, never a bound.
public struct CostPrediction: Sendable, Equatable {
    public var seconds: Double
    /// What was measured and how it was scaled, e.g. "LMI of size 768: 1.9e-7·n³ s (DSDP)".
    public var basis: String

    public init(seconds: Double, basis: String) {
        self.seconds = seconds
        self.basis = basis
    }
}

/// The fitted constants and size measures behind every method's `predictedCost`.
enum CostModel {
    /// Dense SVD (LAPACK dgesdd) sustains ≈ 3 GFLOP/s here: naive ℓ2 on oval21 cifar_base_kw
    /// (1.4e11 flops in its 3072→2048 and 2048→1024 layers) took 40.6 s.
    static let svdFlopsPerSecond = 3.0e9
    /// Multiply-adds per second of the plain loops (products, sampling, enumeration).
    static let loopFlopsPerSecond = 1.0e9
    /// DSDP on LipSDP-Neuron's LMI of size n: 84.5 s at n = 768 (mnist 256x2), 3.2 s at n = 300
    /// (mnist_784), 0.28 s at n = 100 (784-50-10): ≈ c·n³.
    static let dsdpNeuronCubic = 1.9e-7
    /// LipSDP-Layer has one multiplier a layer: 38.2 s at n = 768.
    static let dsdpLayerCubic = 8.4e-8
    /// The structured primal–dual (the default solver of lipsdp-neuron/-layer): ≈ 25–30
    /// iterations of a few dense d³ steps; measured (release, `lipscope bound … --method
    /// lipsdp-neuron`, whole run) on one BLAS thread with the other core busy: 3.9 s at n = 768
    /// (mnist 256x2), 13 s at 1 280 (256x4), 43 s at 1 810 (ERAN 9×200): ≈ 7e-9·n³. On two idle
    /// cores it is 1.4–1.5× faster (2.7 s, 9.1 s, 28 s); the budget keeps the busier figure.
    static let structuredCubic = 7e-9
    /// The factored dual (tried first by LipSDP-Neuron on LMIs ≥ 512, `Backends/Factored/`): its steps
    /// are products with the weights, its recoveries and certificate dense work on the hidden
    /// layers; with momentum its step count no longer grows much with depth. Measured (release,
    /// 2 idle cores, whole run, `bound … --method lipsdp-neuron`): 0.20 s at n = 778 (256x2), 0.56 s
    /// at 1 290 (256x4), 0.26 s at 1 810 (ERAN), 7.2 s at 5 220 (cifar base_kw); random 2-80×L-2:
    /// 0.94 s at 1 602 (L = 20), 2.0 s at 2 402 (30), 6.4 s at 4 002 (50), 20.4 s at 8 002 (100):
    /// ≤ 0.4e-6·n² everywhere, rounded up for a loaded machine.
    /// Measured again (`bench scale --budget 150`, one run, 2 idle cores): 0.14 s at 778, 0.47 s at
    /// 1 290, 0.19 s at 1 810, 6.0 s at 5 220, 22.5 s at 8 804 (cifar deep_kw), and on the random
    /// nets 4.45 s at 4 002 (L = 50) but 41.8 s at 8 002 (L = 100): 2–3e-7·n², more on the deepest
    /// nets. The flat 1e-6·n² predicted 77.5 s for deep_kw, over `compare`'s 60 s budget, so the
    /// tightest method there was left out; 4e-7·(1 + L/100)·n² (L hidden layers) is above every run
    /// (1.2–7.4×: deep_kw 32.6 s, 2-80×100-2 51 s, ERAN 1.4 s).
    static let factoredQuadratic = 4e-7
    static let factoredDepthScale = 100.0
    /// LipSDP-Layer's descent (`Backends/Descent/`): each evaluation of ρ*(λ) factors the neuron
    /// block (n·b² banded or n³/3 dense flops) and solves the n₁ × n₁ eigenproblem (≈ 3.3·n₁³);
    /// the runs measured took 24–137 evaluations (release: 256x2 0.30 s, 256x4 0.35 s, ERAN 0.85 s,
    /// cifar base_kw 48 s at 73 evaluations of 3.9e10 flops, ≈ 6e10 flop/s on two idle cores).
    static let descentEvaluations = 80.0
    /// On nets of `LipSDPChunk.deepLayers` hidden layers and more the descent restarts until it
    /// stops gaining (`RhoDescent.solve`): 1 168 and 1 724 evaluations on deep_8x30 / deep_6x60,
    /// up to its limit of 5 000 on the seeded 100-layer net.
    static let descentEvaluationsDeep = 2000.0
    static let descentFlopsPerSecond = 4e10

    /// The descent's predicted seconds on `net` (linear output form).
    static func descentSeconds(_ net: FeedforwardNetwork) -> Double {
        let widths = net.hiddenLayers.map { Double($0.outputSize) }
        let n = widths.reduce(0, +)
        let band = zip(widths, widths.dropFirst()).map { $0 + $1 - 1 }.max() ?? (widths.first ?? 0)
        let factor = (band + 1) * 3 < n ? n * band * band : n * n * n / 3
        let first = widths.first ?? 0
        return descentEvaluations(net) * (factor + 3.3 * first * first * first) / descentFlopsPerSecond
    }

    static func descentEvaluations(_ net: FeedforwardNetwork) -> Double {
        net.hiddenLayers.count >= LipSDPChunk.deepLayers ? descentEvaluationsDeep : descentEvaluations
    }

    /// csdp took 2–5× DSDP's time on the MNIST-sized LMIs (`bench sdp`).
    static let csdpFactor = 3.0
    /// ECLipsE's per-layer SDP: 0.29 s a layer at width 80 (2-80×100-2), 1.8 s at 256: c·w^1.58.
    static let eclipseLayerConstant = 2.8e-4
    static let eclipseLayerExponent = 1.58
    /// ECLipsE-Fast's dense work per layer (Cholesky, triangular solve, Gram, Lanczos): 2.6 s on
    /// cifar_base_kw's 2048 and 1024 wide layers, 8.6 s on deep_kw's three 2048 ones: ≈ 3.5e-10·w³
    /// (it was 5e-9 before the in-place certificate sweep). Since the band factors and `best`'s
    /// pruning: 0.52 s on base_kw, 1.8 s on deep_kw (`bench scale`): ≈ 0.5–0.7e-10·w³; 1e-10 keeps
    /// a margin for a loaded machine (3.5e-10 predicted deep_kw at 9.1 s).
    static let eclipseFastCubic = 1e-10
    /// ECLipsE-Fast past `ECLipsEBound.maximumWidth` (`WideLayerChain`): the Gram W₁ᵀW₁ (n₁·n₀²)
    /// and dense work on the (n₀ + q)-sized Schur complement. The verivital avgpool net (784-23 328-10)
    /// takes 0.10–0.26 s; the per-layer w³ rule predicted 4 443 s, so `compare` left it out.
    static let wideGramFlopsPerSecond = 4e10
    /// LiPopt's moment SDP with its own interior point (block-arrow Schur complement): 0.8 s for
    /// the 2-5-6-2 example (tiny_relu_1) at order 2, 2 964 moments summed over its cliques:
    /// c·m³ (DSDP took 13.9 s there; the ratio is applied for `solver=dsdp|csdp`).
    static let momentCubic = 3.0e-11
    static let momentDSDPFactor = 17.0
    /// CLP's barrier on LiPopt's LP: 2.3 s for ≈ 1e6 nonzeros (with the AMD ordering, 1.6–3.8e-6 s
    /// per solved nonzero: the verivital avg-pool LP, banded 12×12×12×1 at k = 5). The estimate's
    /// nonzeros count each clique's products before shared ones merge (verivital: 2.2e7 against
    /// 8.0e6 solved), so nets with overlapping cliques are overestimated.
    static let lpSecondsPerNonzero = 2.3e-6
    /// implicit-sdp's closed-form point on a graph past the solvers' limit: dominated by building
    /// and factoring the dense LMI (resnet_2b, n = 9 316: 27.6 s, with one Cholesky).
    static let graphClosedFormCubic = 3.4e-11
    /// Below this the prediction is "instant" and reads as such.
    static let floor = 1e-3
    /// Fixed costs that dominate on small networks: building and starting an SDP or LP solve,
    /// and the sampler's minimum of evaluations.
    static let sdpOverhead = 0.02
    static let lpOverhead = 0.01

    /// Σ over layers of m·n: one product of the network with a vector.
    static func productFlops(_ net: FeedforwardNetwork) -> Double {
        net.layers.reduce(0) { $0 + Double($1.weight.nonzeroCount) }
    }

    /// The LMI size LipSDP reduces to: the input block shrinks to rank(W₁) ≤ min(n₀, n₁).
    static func lipSDPDimension(_ net: FeedforwardNetwork) -> Int {
        min(net.inputSize, net.layers.first?.outputSize ?? 0) + net.hiddenNeuronCount
    }

    static func seconds(_ s: Double, _ basis: String) -> CostPrediction {
        CostPrediction(seconds: max(s, floor), basis: basis)
    }

    static func feedforward(_ request: BoundRequest) -> FeedforwardNetwork? {
        guard let net = request.network.layerChain else { return nil }
        return request.output.map { net.restricted(toOutput: $0) } ?? net.withLinearOutput
    }

    /// The equilibrium state and input sizes, without building the (dense) system.
    static func equilibriumSizes(_ network: Network) -> (state: Int, inputs: Int) {
        switch network {
        case .feedforward(let n): (n.withLinearOutput.hiddenNeuronCount, n.inputSize)
        case .implicit(let n): (n.stateSize, n.inputSize)
        case .graph: (network.hiddenNeuronCount, network.inputSize)
        }
    }

    static func solverFactor(_ request: BoundRequest) -> (factor: Double, name: String) {
        request.options["solver"] == "csdp" ? (csdpFactor, "csdp") : (1, "DSDP")
    }
}

extension NaiveBound {
    public func predictedCost(_ request: BoundRequest) -> CostPrediction? {
        guard let net = CostModel.feedforward(request) else { return nil }
        if request.norm == .linf {
            return CostModel.seconds(CostModel.productFlops(net) / CostModel.loopFlopsPerSecond, "row sums of every layer")
        }
        var flops = 0.0, sparseWork = 0.0
        for layer in net.layers {
            if case .sparse(let w) = layer.weight {
                // Sparse layers get the banded Gram proof (Lanczos, then a few banded Cholesky
                // checks): ≈ 1 000 operations a non-zero (oval21 deep_kw, 479 670 non-zeros: 0.45 s).
                sparseWork += 1000 * Double(w.values.count)
            } else {
                let m = Double(layer.outputSize), n = Double(layer.inputSize), k = min(m, n)
                flops += 4 * m * n * k + 8 * k * k * k
            }
        }
        return CostModel.seconds(flops / CostModel.svdFlopsPerSecond + sparseWork / CostModel.loopFlopsPerSecond,
                                 String(format: "dense SVD of the dense layers (%.2g flops at 3 GFLOP/s), banded proofs of the sparse ones (%.2g operations)",
                                        flops, sparseWork))
    }
}

extension SamplingBound {
    public func predictedCost(_ request: BoundRequest) -> CostPrediction? {
        // A fixed budget of forward/backward evaluations (SamplingBound's 4e8 flops for the
        // samples, as much again for the line walks) whatever the network, capped by its
        // wall-clock limit (what big nets reach).
        let limit = (try? parseOptions(request).double("time_limit")) ?? Self.defaultTimeLimit
        return CostModel.seconds(min(8e8 / CostModel.loopFlopsPerSecond, limit),
                                 String(format: "a fixed budget of ≈ 8e8 multiply-adds, at most time_limit %g s", limit))
    }
}

extension RelaxedExactBound {
    public func predictedCost(_ request: BoundRequest) -> CostPrediction? {
        guard let net = CostModel.feedforward(request) else { return nil }
        let n = net.hiddenNeuronCount
        let patterns = pow(2, Double(n))
        return CostModel.seconds(patterns * 2 * CostModel.productFlops(net) / CostModel.loopFlopsPerSecond,
                                 "2^\(n) slope patterns, one network product each")
    }
}

extension ExactBound {
    public func predictedCost(_ request: BoundRequest) -> CostPrediction? {
        guard let net = CostModel.feedforward(request) else { return nil }
        let limit = (try? parseOptions(request).double("time_limit")) ?? 60
        let n = net.hiddenNeuronCount
        // Small nets close at once (tiny nets in milliseconds, small_relu_20 in 1.4 s); past
        // about 24 hidden ReLUs the search usually runs to its time limit.
        let estimate = n <= 24 ? pow(2, Double(n) / 2) * 2e-3 : limit
        return CostModel.seconds(min(limit, estimate),
                                 n <= 24 ? "branch and bound over \(n) hidden ReLUs" : "runs to its time limit (\(Presentation.duration(limit)))")
    }
}

extension LipSDPBound {
    public func predictedCost(_ request: BoundRequest) -> CostPrediction? {
        guard let net = CostModel.feedforward(request) else { return nil }
        let n = Double(CostModel.lipSDPDimension(net))
        let solver = request.options["solver"]
        let factoredByDefault = variant == .neuron && solver == nil && request.options["chordal"] != "on"
            && LipSDPChunk.factoredFirst(net.withLinearOutput, dimension: Int(n))
        if solver == "factored" || factoredByDefault {
            let depth = Double(net.withLinearOutput.hiddenLayers.count)
            let factored = CostModel.factoredQuadratic * (1 + depth / CostModel.factoredDepthScale) * n * n
            let basis = String(format: "LMI of size %.0f, factored dual over %.0f hidden layers: ≈ %.2g·(1 + L/%.0f)·n² s",
                               n, depth, CostModel.factoredQuadratic, CostModel.factoredDepthScale)
            return CostModel.seconds(CostModel.sdpOverhead + factored, basis)
        }
        let linear = net.withLinearOutput
        let descentByDefault = variant == .layer && solver == nil && request.options["chordal"] != "on" && LipSDPChunk.descentApplies(linear)
            && (Int(n) > LipSDPBound.maximumDimension || LipSDPChunk.descentFirst(linear, dimension: Int(n)))
        if solver == "descent" || descentByDefault {
            return CostModel.seconds(CostModel.sdpOverhead + CostModel.descentSeconds(linear),
                                     String(format: "LMI of size %.0f, descent: ≈ %.0f evaluations of ρ*(λ)", n, CostModel.descentEvaluations(linear)))
        }
        if (solver ?? "structured") == "structured", request.options["chordal"] != "on" {
            return CostModel.seconds(CostModel.sdpOverhead + CostModel.structuredCubic * n * n * n,
                                     String(format: "LMI of size %.0f, structured primal–dual: ≈ %.2g·n³ s", n, CostModel.structuredCubic))
        }
        let general = CostModel.solverFactor(request)
        let c = variant == .neuron ? CostModel.dsdpNeuronCubic : CostModel.dsdpLayerCubic
        return CostModel.seconds(CostModel.sdpOverhead + general.factor * c * n * n * n,
                                 String(format: "LMI of size %.0f, %@: ≈ %.2g·n³ s", n, general.name, general.factor * c))
    }
}

extension LipSDPLinfBound {
    public func predictedCost(_ request: BoundRequest) -> CostPrediction? {
        guard let net = CostModel.feedforward(request) else { return nil }
        let n = Double(net.inputSize + net.hiddenNeuronCount)
        let solver = CostModel.solverFactor(request)
        return CostModel.seconds(CostModel.sdpOverhead + solver.factor * CostModel.dsdpNeuronCubic * n * n * n,
                                 String(format: "ℓ∞ LMI of size %.0f (no input reduction), %@", n, solver.name))
    }
}

extension ImplicitSDPBound {
    public func predictedCost(_ request: BoundRequest) -> CostPrediction? {
        let sizes = CostModel.equilibriumSizes(request.network)
        let n = Double(sizes.state + min(sizes.inputs, sizes.state))
        if case .graph = request.network, Int(n) > Self.maximumDimension {
            return CostModel.seconds(CostModel.graphClosedFormCubic * n * n * n,
                                     String(format: "closed-form point, then the dense LMI of size %.0f built and factored", n))
        }
        let solver = CostModel.solverFactor(request)
        return CostModel.seconds(CostModel.sdpOverhead + solver.factor * CostModel.dsdpNeuronCubic * n * n * n,
                                 String(format: "LMI of size %.0f, %@", n, solver.name))
    }
}

extension ECLipsEBound {
    public func predictedCost(_ request: BoundRequest) -> CostPrediction? {
        guard let net = CostModel.feedforward(request) else { return nil }
        let widths = net.hiddenLayers.map { Double($0.outputSize) }
        switch variant {
        case .sdp:
            let s = CostModel.sdpOverhead + widths.reduce(0) { $0 + CostModel.eclipseLayerConstant * pow($1, CostModel.eclipseLayerExponent) }
            return CostModel.seconds(s, "one small SDP per hidden layer (\(widths.count) layers, widest \(Int(widths.max() ?? 0)))")
        case .fast:
            if (widths.max() ?? 0) > Double(Self.maximumWidth), WideLayerChain.applies(net) {
                let n0 = Double(net.inputSize), n1 = widths[0], side = n0 + Double(net.outputSize)
                let s = n1 * n0 * n0 / CostModel.wideGramFlopsPerSecond + CostModel.eclipseFastCubic * side * side * side
                return CostModel.seconds(s, "one hidden layer of \(Int(n1)) worked on the input side (Woodbury): a Gram of \(Int(n1)) × \(Int(n0)) and a Schur complement of \(Int(side))")
            }
            let s = widths.reduce(0) { $0 + CostModel.eclipseFastCubic * $1 * $1 * $1 }
            return CostModel.seconds(s, "a closed form per hidden layer, widest \(Int(widths.max() ?? 0))")
        }
    }
}

extension ContractionBound {
    public func predictedCost(_ request: BoundRequest) -> CostPrediction? {
        let n = Double(CostModel.equilibriumSizes(request.network).state)
        var dense = true
        switch request.network {
        case .graph: dense = false
        case .feedforward: dense = n <= Double(Self.denseStateLimit)
        case .implicit: break
        }
        if !dense {
            // The sparse block form: ≈ 70 forward substitutions over the edges' non-zeros.
            let nonzeros = Double(request.network.parameterCount)
            return CostModel.seconds(CostModel.lpOverhead + 70 * 2 * nonzeros / CostModel.loopFlopsPerSecond,
                                     String(format: "≈ 70 sparse forward substitutions over %.2g weights", nonzeros))
        }
        // The Metzler majorant's eigen-decomposition (≈ 10 n³ at the SVD's rate) dominates.
        return CostModel.seconds(CostModel.lpOverhead + (n * n * 50 + 10 * n * n * n / 3) / CostModel.svdFlopsPerSecond,
                                 String(format: "eigen-decomposition of the %.0f-state majorant", n))
    }
}

extension LiPoptLPBound {
    public func predictedCost(_ request: BoundRequest) -> CostPrediction? {
        guard let settings = try? settings(request), case .success(let plan) = plan(request, settings) else { return nil }
        let nonzeros = plan.cliques.reduce(0.0) { $0 + HandelmanLP.estimate(cliques: $1, degree: plan.degree).nonzeros }
        return CostModel.seconds(CostModel.lpOverhead + nonzeros * CostModel.lpSecondsPerNonzero,
                                 String(format: "LP of ≈ %.2g nonzeros at degree %d", nonzeros, plan.degree))
    }
}

extension LiPoptSDPBound {
    public func predictedCost(_ request: BoundRequest) -> CostPrediction? {
        guard let settings = try? settings(request), case .success(let plan) = plan(request, settings) else { return nil }
        let seconds = plan.cliques.reduce(0.0) { total, cliques in
            let m = MomentSDP.estimate(cliques: cliques, order: plan.order).moments
            return total + CostModel.momentCubic * m * m * m
        } * (settings.solver == nil ? 1 : CostModel.momentDSDPFactor)
        let moments = plan.cliques.map { MomentSDP.estimate(cliques: $0, order: plan.order).moments }.max() ?? 0
        return CostModel.seconds(CostModel.sdpOverhead + seconds, String(format: "moment SDP of ≈ %.0f moments at order %d", moments, plan.order))
    }
}
