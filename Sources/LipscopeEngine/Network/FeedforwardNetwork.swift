import LipscopeLinearAlgebra

/// The input normalization an NNet file carries; the weights act on normalized inputs.
public struct InputNormalization: Sendable, Equatable {
    public var minimums: [Double]
    public var maximums: [Double]
    public var means: [Double]
    public var ranges: [Double]
}

/// f(x) = σ_L(W_L σ_{L−1}(… σ₁(W₁x + b₁) …) + b_L).
public struct FeedforwardNetwork: Sendable, Equatable {
    public var name: String
    public var inputSize: Int
    public var layers: [Layer]
    /// Set for NNet files: bounds are for the network as stored, on normalized inputs.
    public var inputNormalization: InputNormalization?
    /// What an importer did to bring the file into this form (not part of the function).
    public var annotations = NetworkAnnotations()

    public init(name: String, inputSize: Int, layers: [Layer], inputNormalization: InputNormalization? = nil) {
        self.name = name
        self.inputSize = inputSize
        self.layers = layers
        self.inputNormalization = inputNormalization
    }

    public var outputSize: Int { layers.last?.outputSize ?? inputSize }
    /// Sizes from input to output, e.g. [2, 10, 30, 20, 2].
    public var architecture: [Int] { [inputSize] + layers.map(\.outputSize) }
    public var parameterCount: Int { layers.reduce(0) { $0 + $1.weight.rows * $1.weight.columns + $1.bias.count } }

    /// The same function with an affine last layer: a non-identity final activation becomes a
    /// hidden layer followed by an identity map. Methods assume this shape.
    public var withLinearOutput: FeedforwardNetwork {
        guard let last = layers.last, last.activation != .identity else { return self }
        var copy = self
        copy.layers.append(Layer(weight: .identity(last.outputSize), activation: .identity))
        return copy
    }

    /// Hidden layers are all layers but the last (in the linear-output form).
    public var hiddenLayers: ArraySlice<Layer> { layers.dropLast() }
    public var hiddenNeuronCount: Int { hiddenLayers.reduce(0) { $0 + $1.outputSize } }

    /// The network restricted to output j (row j of the last layer).
    public func restricted(toOutput j: Int) -> FeedforwardNetwork {
        var net = withLinearOutput
        let last = net.layers.removeLast()
        let row = last.weight.dense.selectingRows([j])
        net.layers.append(Layer(weight: .dense(row), bias: [last.bias[j]], activation: .identity))
        return net
    }

    public func forward(_ x: [Double]) -> [Double] {
        precondition(x.count == inputSize)
        var h = x
        for layer in layers {
            let v = layer.weight.apply(h)
            h = (0..<v.count).map { layer.activation.apply(v[$0] + layer.bias[$0]) }
        }
        return h
    }

    /// The true Jacobian at x, or nil when x sits on a kink of a piecewise linear activation
    /// (there the Jacobian does not exist and a one-sided choice would not be a valid lower bound).
    public func jacobian(at x: [Double]) -> Matrix? {
        jacobian(at: x, denseWeights: layers.map(\.weight.dense))
    }

    /// As `jacobian(at:)` with the dense weights precomputed (hot loops call this).
    public func jacobian(at x: [Double], denseWeights: [Matrix]) -> Matrix? {
        var h = x
        var slopes: [[Double]] = []
        slopes.reserveCapacity(layers.count)
        for (k, layer) in layers.enumerated() {
            let v = denseWeights[k] * h
            var s = [Double](repeating: 0, count: v.count)
            var next = [Double](repeating: 0, count: v.count)
            for i in 0..<v.count {
                let z = v[i] + layer.bias[i]
                if layer.activation.isKink(z) { return nil }
                s[i] = layer.activation.derivative(z)
                next[i] = layer.activation.apply(z)
            }
            h = next
            slopes.append(s)
        }
        return Self.product(denseWeights: denseWeights, slopes: slopes)
    }

    /// Jacobians at many inputs at once: forward passes and the backward products are batched
    /// into matrix-matrix products (one BLAS call per layer for the whole batch). Entry b is nil
    /// when input b sits on a kink.
    /// With `throughFirstLayer: false` entry b is instead G_b with J_b = G_b W₁ (outputs × first
    /// hidden width): for a wide input layer, norms can then be taken without forming J.
    public func jacobians(at inputs: [[Double]], denseWeights: [Matrix], throughFirstLayer: Bool = true) -> [Matrix?] {
        jacobians(at: inputs, weights: denseWeights.map { .dense($0) }, throughFirstLayer: throughFirstLayer)
    }

    /// As above with each layer's weight as stored: a sparse layer (conv, lowered MaxPool) costs
    /// its nonzeros per sample instead of rows × columns.
    public func jacobians(at inputs: [[Double]], weights w: [WeightMatrix], throughFirstLayer: Bool = true) -> [Matrix?] {
        let batch = inputs.count
        if batch == 0 { return [] }
        var x = Matrix(rows: inputSize, columns: batch, storage: inputs.flatMap { $0 })
        var onKink = [Bool](repeating: false, count: batch)
        var slopes: [[Double]] = []  // per layer, n_k × batch column-major
        for (k, layer) in layers.enumerated() {
            var v = w[k].times(x)
            let s = layer.activation.applyToBatch(&v, bias: layer.bias, onKink: &onKink)
            x = v
            slopes.append(s)
        }
        // Stack the per-input running products G_b (m × n_k) as rows b·m ..< (b+1)·m.
        let m = outputSize, last = w.count - 1
        let lastWeight = w[last].dense   // outputs × width: small
        var g = Matrix(rows: batch * m, columns: lastWeight.columns)
        let gRows = g.rows
        g.storage.withUnsafeMutableBufferPointer { gb in
            lastWeight.storage.withUnsafeBufferPointer { wb in
                slopes[last].withUnsafeBufferPointer { sb in
                    for c in 0..<lastWeight.columns {
                        for b in 0..<batch {
                            for r in 0..<m { gb[(b * m + r) + c * gRows] = sb[r + b * m] * wb[r + c * m] }
                        }
                    }
                }
            }
        }
        for k in stride(from: last - 1, through: 0, by: -1) {
            StackedJacobians.scaleColumns(&g, by: slopes[k], batch: batch, outputs: m)
            if k > 0 || throughFirstLayer { g = w[k].leftMultiplied(by: g) }
        }
        return StackedJacobians.unstack(g, batch: batch, outputs: m, onKink: onKink)
    }

    /// diag(s_L) W_L ⋯ diag(s₁) W₁, evaluated from the output side so the running matrix
    /// has as many rows as the network has outputs.
    public static func product(denseWeights w: [Matrix], slopes: [[Double]]) -> Matrix {
        var j = w[w.count - 1].scalingRows(by: slopes[w.count - 1])
        for k in stride(from: w.count - 2, through: 0, by: -1) {
            j = j.scalingColumns(by: slopes[k]) * w[k]
        }
        return j
    }
}

extension FeedforwardNetwork {
    /// A seeded random ReLU net with weights N(0, 1/fan_in), no biases and a linear last layer:
    /// the shape of the benchmark grids and of tests that need nets of a given width and depth.
    public static func gaussian(widths: [Int], seed: UInt64, name: String) -> FeedforwardNetwork {
        var rng = SeededGenerator(seed: seed)
        var layers: [Layer] = []
        for k in 1..<widths.count {
            let scale = 1 / Double(widths[k - 1]).squareRoot()
            let w = Matrix(rows: widths[k], columns: widths[k - 1],
                           storage: (0..<(widths[k] * widths[k - 1])).map { _ in rng.gaussian() * scale })
            layers.append(Layer(weight: w, activation: k == widths.count - 1 ? .identity : .relu))
        }
        return FeedforwardNetwork(name: name, inputSize: widths[0], layers: layers)
    }
}

extension Activation {
    /// On a size × batch block of pre-activations without their bias (column-major, one
    /// sample a column), in place: adds the bias, applies the activation, flags the samples
    /// with a neuron on a kink, and returns the slopes (same layout). Unsafe buffers: this runs
    /// once per neuron per sample in every batched Jacobian.
    func applyToBatch(_ v: inout Matrix, bias: [Double], onKink: inout [Bool]) -> [Double] {
        let rows = v.rows, batch = v.columns
        var s = [Double](repeating: 0, count: rows * batch)
        v.storage.withUnsafeMutableBufferPointer { vb in
            s.withUnsafeMutableBufferPointer { sb in
                bias.withUnsafeBufferPointer { bias in
                    for b in 0..<batch {
                        for i in 0..<rows {
                            let z = vb[i + b * rows] + bias[i]
                            if isKink(z) { onKink[b] = true }
                            sb[i + b * rows] = derivative(z)
                            vb[i + b * rows] = apply(z)
                        }
                    }
                }
            }
        }
        return s
    }
}
