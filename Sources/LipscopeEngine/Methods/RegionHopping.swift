import LipscopeLinearAlgebra

/// Lower bounds on piecewise linear nets by local search over activation patterns: from the
/// pattern of a good input, flip one neuron (then two) to patterns whose Jacobian is larger,
/// and keep the first one whose linear region an LP (`RegionLP`) shows to be full-dimensional,
/// moving to its deepest point. The gradient of ‖J(x)‖ is zero inside every region, so ascent
/// in x cannot leave one; the hop goes straight to the neighbouring regions, however thin
/// (the best regions of the tiny nets are slivers random inputs and line walks rarely hit).
/// Every value it returns is ‖J(x)‖ of the true Jacobian at a real input.
struct RegionHopping {
    let net: PiecewiseLinearNet
    let search: PatternSearch
    let lp: RegionLP
    let region: InputRegion?
    /// Region LPs allowed in total (each is a small dual simplex solve).
    var lpBudget: Int
    private(set) var lpCount = 0

    /// Nets up to this many hidden neurons (pairs of flips are quadratic in it).
    static let maximumNeurons = 128

    init?(_ ff: FeedforwardNetwork, output: Int?, norm: Norm, region: InputRegion?, lpBudget: Int = 20000) {
        guard PiecewiseLinearNet.reasonNotApplicable(.feedforward(ff)) == nil,
              ff.hiddenNeuronCount <= Self.maximumNeurons,
              let net = try? PiecewiseLinearNet(ff, target: output.map { .output($0) } ?? .all, norm: norm) else { return nil }
        self.net = net
        search = PatternSearch(net: net, norm: norm, region: region, settings: .init())
        lp = RegionLP(operations: net.productRoundingOperations)
        self.region = region
        self.lpBudget = lpBudget
    }

    /// Neurons whose two slopes differ (the only ones a flip changes).
    private var kinked: [Int] {
        (0..<net.hiddenLayerCount).flatMap { k in
            (0..<net.weights[k].rows).compactMap { i in
                net.negativeSlope[k][i] != net.positiveSlope[k][i] ? net.layerStart[k] + i : nil
            }
        }
    }

    private func normOf(_ bits: [Int8]) -> Double {
        (try? search.norm.induced(net.jacobian(slopes: net.slopes(of: bits)))) ?? 0
    }

    /// A point deep inside the region of this full pattern, if it is full-dimensional.
    private mutating func interior(_ bits: [Int8]) -> [Double]? {
        lpCount += 1
        var node = PatternSearch.Node(bits: bits, branched: .init(repeating: false, count: bits.count), bound: .infinity)
        for i in kinked { node.branched[i] = true }
        let (rows, _) = search.affineRows(&node)
        guard node.bits == bits else { return nil }   // interval bounds decided a bit the other way
        if case .interior(let x, _) = lp.solve(rows: rows, inputSize: net.inputSize, box: region) { return x }
        return nil
    }

    /// Climbs from x while a flip of one or two bits reaches a realizable region with a larger
    /// ‖J‖; returns the best input and its true ‖J‖.
    mutating func climb(from x: [Double], isCancelled: () -> Bool) -> (x: [Double], value: Double) {
        var bestX = x
        var best = (try? net.network.jacobian(at: x).map { try search.norm.induced($0) } ?? 0) ?? 0
        var bits = net.pattern(at: x).bits
        let flips = kinked
        var visited = Set<[Int8]>([bits])
        climbing: while lpCount < lpBudget && !isCancelled() {
            let current = normOf(bits)
            // Single flips first; pairs only when no single flip reaches a better region.
            for size in 1...2 {
                var candidates: [(value: Double, bits: [Int8])] = []
                for (p, i) in flips.enumerated() {
                    var b = bits; b[i] ^= 1
                    if size == 1 {
                        let v = normOf(b)
                        if v > current * (1 + 1e-12) && !visited.contains(b) { candidates.append((v, b)) }
                        continue
                    }
                    for j in flips[(p + 1)...] {
                        var b2 = b; b2[j] ^= 1
                        let v = normOf(b2)
                        if v > current * (1 + 1e-12) && !visited.contains(b2) { candidates.append((v, b2)) }
                    }
                }
                candidates.sort { $0.value > $1.value }
                for c in candidates {
                    guard lpCount < lpBudget, !isCancelled() else { break climbing }
                    visited.insert(c.bits)
                    guard let inside = interior(c.bits),
                          let j = net.network.jacobian(at: inside), let v = try? search.norm.induced(j) else { continue }
                    bits = net.pattern(at: inside).bits
                    visited.insert(bits)
                    if v > best { best = v; bestX = inside }
                    continue climbing
                }
            }
            break
        }
        return (bestX, best)
    }
}
