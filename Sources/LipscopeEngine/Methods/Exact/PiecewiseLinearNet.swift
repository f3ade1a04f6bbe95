import LipscopeLinearAlgebra

/// A feedforward net with piecewise linear activations (ReLU, leaky ReLU, identity) and a
/// linear last layer, restricted to the scalar or vector map whose constant is asked: the
/// whole output, one output row, or a margin f_c − f_j. Hidden neurons are numbered in
/// topological order (layer by layer); each has a slope on its negative side and one on its
/// positive side, and its activation pattern bit says which side it is on.
struct PiecewiseLinearNet: Sendable {
    let inputSize: Int
    let outputSize: Int
    /// Dense weights of every layer (the last is the linear output map) and their magnitudes.
    let weights: [Matrix]
    let absWeights: [Matrix]
    let biases: [[Double]]
    /// Per hidden layer, per neuron: slope for z < 0 and for z > 0.
    let negativeSlope: [[Double]]
    let positiveSlope: [[Double]]
    /// Global index of the first neuron of each hidden layer (and the total at the end).
    let layerStart: [Int]
    /// The function itself, for forward passes and true Jacobians at witnesses.
    let network: FeedforwardNetwork
    /// ‖ |W_L| diag(β) ⋯ |W₁| ‖ in the asked norm: the scale of every product's rounding error.
    let magnitudeNorm: Double

    var hiddenLayerCount: Int { weights.count - 1 }
    var neuronCount: Int { layerStart.last ?? 0 }

    /// Where the constant is asked: the whole output vector, one row, or a margin of two rows.
    enum Target: Sendable, Equatable {
        case all
        case output(Int)
        case margin(Int, Int)
    }

    /// nil plus a reason when the net is not a piecewise linear feedforward net.
    static func reasonNotApplicable(_ network: Network) -> String? {
        guard let ff = network.layerChain else {
            return network.chainRefusal("exact enumeration of activation patterns") ?? ""
        }
        if let bad = ff.layers.first(where: { !$0.activation.isPiecewiseLinear }) {
            return "activation \(bad.activation.name) is not piecewise linear (exact handles relu, leaky_relu, identity)"
        }
        return nil
    }

    init(_ ff: FeedforwardNetwork, target: Target, norm: Norm) throws {
        var net = ff.withLinearOutput
        let last = net.layers.removeLast()
        let w = last.weight.dense
        switch target {
        case .all: net.layers.append(last)
        case .output(let j):
            net.layers.append(Layer(weight: .dense(w.selectingRows([j])), bias: [last.bias[j]], activation: .identity))
        case .margin(let c, let j):
            let row = (0..<w.columns).map { w[c, $0] - w[j, $0] }
            net.layers.append(Layer(weight: .dense(Matrix(rowArrays: [row])), bias: [last.bias[c] - last.bias[j]],
                                    activation: .identity))
        }
        network = net
        inputSize = net.inputSize
        outputSize = net.outputSize
        weights = net.layers.map(\.weight.dense)
        absWeights = weights.map { Matrix(rows: $0.rows, columns: $0.columns, storage: $0.storage.map(abs)) }
        biases = net.layers.map(\.bias)
        var neg: [[Double]] = [], pos: [[Double]] = [], start = [0]
        for layer in net.layers.dropLast() {
            let n = layer.outputSize
            switch layer.activation {
            case .relu: neg.append(.init(repeating: 0, count: n)); pos.append(.init(repeating: 1, count: n))
            case .leakyRelu(let a): neg.append(.init(repeating: a, count: n)); pos.append(.init(repeating: 1, count: n))
            case .identity: neg.append(.init(repeating: 1, count: n)); pos.append(.init(repeating: 1, count: n))
            default: throw MethodFailure("activation \(layer.activation.name) is not piecewise linear")
            }
            start.append(start.last! + n)
        }
        negativeSlope = neg
        positiveSlope = pos
        layerStart = start
        let maxSlopes = zip(neg, pos).map { zip($0, $1).map { max(abs($0), abs($1)) } }
        let magnitude = FeedforwardNetwork.product(denseWeights: absWeights, slopes: maxSlopes + [[Double](repeating: 1, count: outputSize)])
        magnitudeNorm = try norm.induced(magnitude)
    }

    /// Relative rounding factor for a product through all layers: each entry is a sum of at most
    /// (widths + inputs) products of non-negative magnitudes, bounded by `magnitudeNorm`.
    var productRoundingOperations: Int { inputSize + neuronCount + outputSize + 4 * weights.count }

    /// The activation pattern at x (1 = positive side) and whether any neuron sits on a kink.
    func pattern(at x: [Double]) -> (bits: [Int8], onKink: Bool) {
        var h = x
        var bits: [Int8] = []
        bits.reserveCapacity(neuronCount)
        var kink = false
        for k in 0..<hiddenLayerCount {
            let z = weights[k] * h
            var next = [Double](repeating: 0, count: z.count)
            for i in z.indices {
                let v = z[i] + biases[k][i]
                if v == 0 && negativeSlope[k][i] != positiveSlope[k][i] { kink = true }
                bits.append(v > 0 ? 1 : 0)
                next[i] = (v > 0 ? positiveSlope[k][i] : negativeSlope[k][i]) * v
            }
            h = next
        }
        return (bits, kink)
    }

    /// The Jacobian of the linear piece with these slopes, one array per hidden layer.
    func jacobian(slopes: [[Double]]) -> Matrix {
        FeedforwardNetwork.product(denseWeights: weights, slopes: slopes + [[Double](repeating: 1, count: outputSize)])
    }

    /// Slopes of a full pattern.
    func slopes(of bits: [Int8]) -> [[Double]] {
        (0..<hiddenLayerCount).map { k in
            (0..<weights[k].rows).map { i in bits[layerStart[k] + i] == 1 ? positiveSlope[k][i] : negativeSlope[k][i] }
        }
    }

    /// A proven upper bound on the norm of the exact product whose floating-point value is `j`
    /// (norm computation and product rounding both accounted for).
    func certifiedNorm(of j: Matrix, norm: Norm) throws -> Double {
        let ops = productRoundingOperations
        let value = RoundingMargin.inflate(try norm.induced(j), operations: 4 * (j.rows + j.columns) + 8)
        return value + RoundingMargin.inflate(magnitudeNorm, operations: ops) * 4 * Double(ops) * RoundingMargin.unit
    }
}
