import Foundation
import LipscopeLinearAlgebra

/// Branch and bound over activation patterns. A node fixes the pattern bits of a prefix of the
/// neurons in topological order (so every decided neuron's pre-activation is affine in x on the
/// node's region); its bound is the largest ‖J‖ over the slope box of the undecided neurons
/// (interval arithmetic, or exact vertex enumeration when few are left), with rounding margins.
/// Each node's region is tested by `RegionLP`: an empty one is pruned, a non-empty one yields
/// an interior input whose true Jacobian is a lower bound. The global upper bound is the
/// largest bound among open and bound-closed nodes; the search stops when it is within the
/// relative gap of the best lower bound, or at a limit.
struct PatternSearch {
    struct Settings: Sendable {
        var relativeGap = 1e-6
        var maxNodes = 2_000_000
        var timeLimit = 60.0
        /// Undecided neurons up to which a node's bound enumerates its slope box exactly.
        var enumerationLimit = 6
        var seed: UInt64 = 1
        /// Lower bounds found before the search (the MILP's incumbent, sampling's best): their
        /// witness inputs, whose true Jacobians are recomputed here (inside the region) before
        /// they count.
        var incumbentWitnesses: [[Double]] = []
        /// Iterations already streamed by an earlier phase of the same run.
        var iterationOffset = 0
    }

    struct Outcome {
        var lower = 0.0
        var witness: [Double] = []
        var witnessPatternMatches = false
        var upper = Double.infinity
        /// Upper bound that keeps the regions whose emptiness could not be certified.
        var certifiedUpper = Double.infinity
        var nodes = 0
        var leaves = 0
        /// Pruned regions proven empty: in floating point with rounding margins (inside a box),
        /// and by exact Farkas certificates (over all of Rⁿ).
        var emptyCertified = 0
        var emptyExact = 0
        /// Pruned on CLP's word alone (no proof found in the time given to proofs).
        var emptyUncertified = 0
        /// Over all of Rⁿ: every pruned region is proven empty inside this ℓ∞ ball of inputs.
        var emptyRadius = Double.infinity
        var openNodes = 0
        var stop = "gap"
        var cancelled = false
        var relativeGap: Double { upper > 0 ? max(0, (upper - lower) / upper) : 0 }
    }

    struct Node {
        /// −1 undecided, 0 negative side, 1 positive side.
        var bits: [Int8]
        /// Decided by branching (a row of the region LP), not implied by interval bounds.
        var branched: [Bool]
        var bound: Double
    }

    /// A region CLP found empty whose floating-point proof failed (always so over all of
    /// Rⁿ): kept until the exact proof is tried after the search.
    struct PrunedRegion {
        var bits: [Int8]
        var branched: [Bool]
        var multipliers: [Double]
        var bound: Double
        var radius: Double
    }

    let net: PiecewiseLinearNet
    let norm: Norm
    let region: InputRegion?
    let settings: Settings

    func run(context: JobContext) throws -> Outcome {
        var out = Outcome()
        let lp = RegionLP(operations: net.productRoundingOperations)
        seedLowerBound(&out)
        for x in settings.incumbentWitnesses where x.count == net.inputSize {
            try? offer(region.map { $0.clamp(x) } ?? x, node: nil, to: &out)
        }
        var heap = NodeHeap()
        // The root's own bound, so that a run cancelled before its first node still has a
        // finite upper side.
        var root = Node(bits: .init(repeating: -1, count: net.neuronCount),
                        branched: .init(repeating: false, count: net.neuronCount), bound: .infinity)
        root.bound = (try? nodeBound(root)) ?? .infinity
        heap.push(root)
        var closedMax = 0.0
        var unproven: [PrunedRegion] = []
        var lastReport = -1.0
        var iteration = settings.iterationOffset
        func report(force: Bool) {
            let now = context.elapsed
            guard force || now - lastReport >= 0.2 else { return }
            lastReport = now
            iteration += 1
            out.upper = max(closedMax, heap.top?.bound ?? 0)
            context.iteration(iteration, [Metric("lower", out.lower), Metric("upper", out.upper),
                                          Metric("gap", out.relativeGap), Metric("nodes", Double(out.nodes)),
                                          Metric("open", Double(heap.count))])
        }
        while let node = heap.pop() {
            if node.bound <= out.lower * (1 + settings.relativeGap) {
                closedMax = max(closedMax, node.bound)
                continue
            }
            if context.isCancelled { heap.push(node); out.stop = "cancelled"; out.cancelled = true; break }
            if out.nodes >= settings.maxNodes { heap.push(node); out.stop = "node limit"; break }
            if context.elapsed >= settings.timeLimit { heap.push(node); out.stop = "time limit"; break }
            out.nodes += 1
            var current = node
            let (rows, frontier) = affineRows(&current)
            // The bound before the LP: a node that cannot beat the incumbent needs no LP.
            // A child's slope box lies inside its parent's, so the parent's bound holds too.
            let bound = min(node.bound, try nodeBound(current))
            if bound <= out.lower * (1 + settings.relativeGap) {
                closedMax = max(closedMax, bound)
                report(force: false)
                continue
            }
            switch lp.solve(rows: rows, inputSize: net.inputSize, box: region) {
            case .empty(let certified, let radius, let multipliers):
                if certified {
                    out.emptyCertified += 1
                } else {
                    unproven.append(PrunedRegion(bits: current.bits, branched: current.branched, multipliers: multipliers,
                                                 bound: bound, radius: radius))
                }
                report(force: false)
                continue
            case .interior(let x, _):
                try offer(x, node: current, to: &out)
            case .unknown:
                break
            }
            if let i = branchNeuron(current, frontier: frontier) {
                for side: Int8 in [1, 0] {
                    var child = current
                    child.bits[i] = side
                    child.branched[i] = true
                    child.bound = bound
                    heap.push(child)
                }
            } else {
                out.leaves += 1
                closedMax = max(closedMax, bound)
            }
            report(force: false)
        }
        out.openNodes = heap.count
        out.upper = max(closedMax, heap.top?.bound ?? 0)
        let uncertainMax = proveEmpty(unproven, out: &out, context: context)
        out.certifiedUpper = max(out.upper, uncertainMax)
        if heap.isEmpty && out.stop != "cancelled" { out.stop = "gap" }
        report(force: true)
        return out
    }

    /// Exact proofs for the regions pruned on CLP's word, those with the highest bounds first
    /// (they are the ones that could raise the upper side), within a time budget. Returns the
    /// largest bound among the regions left unproven (0 when all are proven).
    func proveEmpty(_ pruned: [PrunedRegion], out: inout Outcome, context: JobContext) -> Double {
        guard !pruned.isEmpty else { return 0 }
        let forms = region == nil ? ExactAffineForms(net) : nil
        let deadline = context.elapsed + max(1, settings.timeLimit / 4)
        var unprovenMax = 0.0
        for p in pruned.sorted(by: { $0.bound > $1.bound }) {
            if let forms, !context.isCancelled, context.elapsed < deadline {
                let support = FarkasCertificate.support(of: p.multipliers)
                let rows = forms.rows(bits: p.bits, branched: p.branched, selecting: Set(support))
                if rows.count == support.count,
                   FarkasCertificate.proveNoInterior(support.map { rows[$0]! }, guess: support.map { p.multipliers[$0] }) {
                    out.emptyExact += 1
                    continue
                }
            }
            out.emptyUncertified += 1
            unprovenMax = max(unprovenMax, p.bound)
            if region == nil { out.emptyRadius = min(out.emptyRadius, p.radius) }
        }
        return unprovenMax
    }

    // MARK: Node pieces

    /// The region LP's rows (one per branched neuron) and the first layer with an undecided
    /// neuron. On a box, undecided neurons that interval bounds show to be stable on the
    /// node's region are decided here (implied, no row).
    func affineRows(_ node: inout Node) -> (rows: [RegionLP.Row], frontier: Int?) {
        var a = net.weights[0], c = net.biases[0]
        var absA = net.absWeights[0], absC = c.map(abs)
        var rows: [RegionLP.Row] = []
        for k in 0..<net.hiddenLayerCount {
            let start = net.layerStart[k], width = net.weights[k].rows
            if let region { fixStable(&node, layer: k, a: a, c: c, absA: absA, absC: absC, region: region) }
            var slopes = [Double](repeating: 0, count: width)
            var complete = true
            for i in 0..<width {
                let bit = node.bits[start + i]
                if bit < 0 { complete = false; continue }
                slopes[i] = bit == 1 ? net.positiveSlope[k][i] : net.negativeSlope[k][i]
                if node.branched[start + i] {
                    let s = bit == 1 ? 1.0 : -1.0
                    rows.append(RegionLP.Row(a: a.row(i).map { s * $0 }, b: s * c[i], absA: absA.row(i), absB: absC[i]))
                }
            }
            if !complete { return (rows, k) }
            // Next layer's affine form: W_{k+1} diag(s) (A x + c) + b_{k+1}.
            let w = net.weights[k + 1], absW = net.absWeights[k + 1]
            a = w * a.scalingRows(by: slopes)
            let sc = zip(slopes, c).map { $0 * $1 }
            c = zip(w * sc, net.biases[k + 1]).map { $0 + $1 }
            let absS = slopes.map(abs)
            absA = absW * absA.scalingRows(by: absS)
            absC = zip(absW * zip(absS, absC).map { $0 * $1 }, net.biases[k + 1].map(abs)).map { $0 + $1 }
        }
        return (rows, nil)
    }

    /// Decides the undecided neurons of layer k (affine a·x + c on the node's region) whose
    /// range over the box has one sign, then carries interval bounds to the later layers and
    /// decides the stable ones there too.
    func fixStable(_ node: inout Node, layer k: Int, a: Matrix, c: [Double], absA: Matrix, absC: [Double], region: InputRegion) {
        let start = net.layerStart[k], width = net.weights[k].rows
        guard (0..<width).contains(where: { node.bits[start + $0] < 0 }) || k + 1 < net.hiddenLayerCount else { return }
        let reach = zip(region.lower, region.upper).map { max(abs($0), abs($1)) }
        let gamma = 8 * Double(net.productRoundingOperations + 8) * Double.ulpOfOne
        var lowH = [Double](repeating: 0, count: width), highH = lowH
        for i in 0..<width {
            let (lo0, hi0) = region.range(of: a.row(i), plus: c[i])
            var slack = absC[i]
            for j in 0..<net.inputSize { slack += (absA[i, j] + abs(a[i, j])) * reach[j] }
            let lo = lo0 - gamma * slack, hi = hi0 + gamma * slack
            let index = start + i
            if node.bits[index] < 0 {
                if lo > 0 { node.bits[index] = 1 } else if hi < 0 { node.bits[index] = 0 }
            }
            (lowH[i], highH[i]) = image(k, i, node.bits[index], lo, hi)
        }
        // Later layers: interval propagation (midpoint-radius, with a rounding margin).
        for k2 in (k + 1)..<net.hiddenLayerCount {
            let w = net.weights[k2], absW = net.absWeights[k2]
            let mid = zip(lowH, highH).map { ($0 + $1) / 2 }, rad = zip(lowH, highH).map { ($1 - $0) / 2 }
            let zc = zip(w * mid, net.biases[k2]).map { $0 + $1 }
            let zr = absW * rad
            let mag = absW * zip(mid, rad).map { abs($0) + $1 }
            let s2 = net.layerStart[k2], width2 = w.rows
            lowH = .init(repeating: 0, count: width2); highH = lowH
            for i in 0..<width2 {
                let slack = gamma * (mag[i] + abs(net.biases[k2][i]))
                let lo = zc[i] - zr[i] - slack, hi = zc[i] + zr[i] + slack
                let index = s2 + i
                if node.bits[index] < 0 {
                    if lo > 0 { node.bits[index] = 1 } else if hi < 0 { node.bits[index] = 0 }
                }
                (lowH[i], highH[i]) = image(k2, i, node.bits[index], lo, hi)
            }
        }
    }

    /// The range of the activation's output for z in [lo, hi] on the given side (−1: either).
    private func image(_ k: Int, _ i: Int, _ bit: Int8, _ lo: Double, _ hi: Double) -> (Double, Double) {
        let neg = net.negativeSlope[k][i], pos = net.positiveSlope[k][i]
        func f(_ z: Double) -> Double { z > 0 ? pos * z : neg * z }
        var zs: [Double]
        switch bit {
        case 1: zs = [max(lo, 0), max(hi, 0)]
        case 0: zs = [min(lo, 0), min(hi, 0)]
        default: zs = [lo, hi] + (lo < 0 && hi > 0 ? [0] : [])
        }
        let v = zs.map(f)
        return (v.min()!, v.max()!)
    }

    /// The bound over the node's slope box.
    func nodeBound(_ node: Node) throws -> Double {
        var low: [[Double]] = [], high: [[Double]] = []
        var undecided: [(layer: Int, index: Int)] = []
        for k in 0..<net.hiddenLayerCount {
            let start = net.layerStart[k], width = net.weights[k].rows
            var lo = [Double](repeating: 0, count: width), hi = lo
            for i in 0..<width {
                let neg = net.negativeSlope[k][i], pos = net.positiveSlope[k][i]
                switch node.bits[start + i] {
                case 1: lo[i] = pos; hi[i] = pos
                case 0: lo[i] = neg; hi[i] = neg
                default:
                    lo[i] = min(neg, pos); hi[i] = max(neg, pos)
                    if neg != pos { undecided.append((k, i)) }
                }
            }
            low.append(lo); high.append(hi)
        }
        if undecided.count <= settings.enumerationLimit {
            return try net.enumeratedBound(base: low, undecided: undecided, norm: norm)
        }
        return min(try net.intervalBound(low: low, high: high, norm: norm),
                   try net.productBound(low: low, high: high, norm: norm))
    }

    /// The undecided neuron of the frontier layer to branch on: the one whose pre-activation
    /// weighs most on the next layer (largest |W_{k+1}[:, i]| sum).
    func branchNeuron(_ node: Node, frontier: Int?) -> Int? {
        guard let k = frontier else { return nil }
        let start = net.layerStart[k], width = net.weights[k].rows
        var best: Int? = nil, bestScore = -1.0
        let next = net.absWeights[k + 1]
        for i in 0..<width where node.bits[start + i] < 0 {
            var score = 0.0
            for r in 0..<next.rows { score += next[r, i] }
            if score > bestScore { bestScore = score; best = start + i }
        }
        return best
    }

    // MARK: Lower bounds

    /// The true Jacobian at x (an input inside the region) as a lower bound.
    func offer(_ x: [Double], node: Node?, to out: inout Outcome) throws {
        guard let j = net.network.jacobian(at: x) else { return }
        let value = try norm.induced(j)
        if value > out.lower {
            out.lower = value
            out.witness = x
            if let node {
                let bits = net.pattern(at: x).bits
                out.witnessPatternMatches = zip(bits, node.bits).allSatisfy { $1 < 0 || $0 == $1 }
            } else {
                out.witnessPatternMatches = true
            }
        }
    }

    /// A first incumbent from seeded inputs: the region's center and corners-ish samples, or
    /// Gaussian inputs at several scales over all of Rⁿ.
    func seedLowerBound(_ out: inout Outcome) {
        var rng = SeededGenerator(seed: settings.seed)
        let n = net.inputSize
        var xs: [[Double]] = []
        if let region {
            xs.append(region.center)
            for _ in 0..<256 { xs.append((0..<n).map { rng.uniform(region.lower[$0], region.upper[$0]) }) }
        } else {
            for scale in [1.0, 10, 100] {
                for _ in 0..<128 { xs.append((0..<n).map { _ in scale * rng.gaussian() }) }
            }
        }
        for x in xs { try? offer(x, node: nil, to: &out) }
    }
}

/// A max-heap of nodes by bound (best-first search).
struct NodeHeap {
    private var items: [PatternSearch.Node] = []
    var count: Int { items.count }
    var isEmpty: Bool { items.isEmpty }
    var top: PatternSearch.Node? { items.first }

    mutating func push(_ node: PatternSearch.Node) {
        items.append(node)
        var i = items.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            if items[p].bound >= items[i].bound { break }
            items.swapAt(p, i); i = p
        }
    }

    mutating func pop() -> PatternSearch.Node? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let top = items.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < items.count && items[l].bound > items[m].bound { m = l }
            if r < items.count && items[r].bound > items[m].bound { m = r }
            if m == i { break }
            items.swapAt(i, m); i = m
        }
        return top
    }
}
