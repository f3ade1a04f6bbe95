import LipscopeLinearAlgebra

/// A weight matrix (rows = outputs, columns = inputs), dense or sparse.
public enum WeightMatrix: Sendable, Equatable {
    case dense(Matrix)
    case sparse(SparseMatrix)

    /// Layers at most this dense are stored sparse.
    public static let sparseDensityThreshold = 0.25

    /// Picks the storage: sparse when most weights are zero and the layer is not tiny.
    public static func automatic(_ m: Matrix) -> WeightMatrix {
        let total = m.rows * m.columns
        if total >= 64, Double(m.nonzeroCount) <= sparseDensityThreshold * Double(total) {
            return .sparse(SparseMatrix(m))
        }
        return .dense(m)
    }

    public var rows: Int {
        switch self { case .dense(let m): m.rows; case .sparse(let s): s.rows }
    }
    public var columns: Int {
        switch self { case .dense(let m): m.columns; case .sparse(let s): s.columns }
    }
    public var isSparse: Bool { if case .sparse = self { true } else { false } }

    public var dense: Matrix {
        switch self { case .dense(let m): m; case .sparse(let s): s.dense }
    }

    public var nonzeroCount: Int {
        switch self { case .dense(let m): m.nonzeroCount; case .sparse(let s): s.nonzeroCount }
    }

    public func apply(_ x: [Double]) -> [Double] {
        switch self { case .dense(let m): m * x; case .sparse(let s): s * x }
    }

    public var infinityNorm: Double {
        switch self {
        case .dense(let m): m.infinityNorm
        case .sparse(let s): s.absoluteRowSums.max() ?? 0
        }
    }
}

/// One affine map followed by an activation.
public struct Layer: Sendable, Equatable {
    public var weight: WeightMatrix
    public var bias: [Double]
    public var activation: Activation
    /// Structure the importer knew (a convolution's geometry); optional, never in the JSON.
    public var annotations = LayerAnnotations()

    public init(weight: WeightMatrix, bias: [Double], activation: Activation) {
        precondition(bias.count == weight.rows, "bias length must equal the number of weight rows")
        self.weight = weight
        self.bias = bias
        self.activation = activation
    }

    public init(weight: Matrix, bias: [Double]? = nil, activation: Activation) {
        self.init(weight: .automatic(weight), bias: bias ?? Array(repeating: 0, count: weight.rows),
                  activation: activation)
    }

    public var inputSize: Int { weight.columns }
    public var outputSize: Int { weight.rows }
}
