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

    /// W·M for a dense M: BLAS for a dense W, one pass over the nonzeros per column of M for a
    /// sparse one (a conv or lowered MaxPool layer costs its nonzeros, not rows × columns).
    public func times(_ m: Matrix) -> Matrix {
        switch self {
        case .dense(let w): return w * m
        case .sparse(let s):
            precondition(s.columns == m.rows)
            var out = Matrix(rows: s.rows, columns: m.columns)
            let (mr, orows) = (m.rows, s.rows)
            out.storage.withUnsafeMutableBufferPointer { ob in
                m.storage.withUnsafeBufferPointer { mb in
                    s.rowStart.withUnsafeBufferPointer { start in
                        s.columnIndex.withUnsafeBufferPointer { cols in
                            s.values.withUnsafeBufferPointer { vals in
                                for c in 0..<m.columns {
                                    let mc = mb.baseAddress! + c * mr
                                    for i in 0..<orows {
                                        var sum = 0.0
                                        for p in start[i]..<start[i + 1] { sum += vals[p] * mc[cols[p]] }
                                        ob[i + c * orows] = sum
                                    }
                                }
                            }
                        }
                    }
                }
            }
            return out
        }
    }

    /// G·W for a dense G (rows of G times W): BLAS for a dense W; for a sparse one each nonzero
    /// W_ij adds W_ij·G[:, i] to column j (contiguous columns, cost nonzeros × G's rows).
    public func leftMultiplied(by g: Matrix) -> Matrix {
        switch self {
        case .dense(let w): return g * w
        case .sparse(let s):
            precondition(g.columns == s.rows)
            var out = Matrix(rows: g.rows, columns: s.columns)
            let gr = g.rows
            // Blocks of 16 rows of G: the block's slices of G and of the result stay in cache
            // while every nonzero of W is applied (unblocked, each nonzero streams two whole
            // columns from memory).
            let block = 16
            out.storage.withUnsafeMutableBufferPointer { ob in
                g.storage.withUnsafeBufferPointer { gb in
                    s.rowStart.withUnsafeBufferPointer { start in
                        s.columnIndex.withUnsafeBufferPointer { cols in
                            s.values.withUnsafeBufferPointer { vals in
                                for rb in stride(from: 0, to: gr, by: block) {
                                    let len = min(block, gr - rb)
                                    for i in 0..<s.rows {
                                        let gi = gb.baseAddress! + i * gr + rb
                                        for p in start[i]..<start[i + 1] {
                                            let v = vals[p]
                                            let oj = ob.baseAddress! + cols[p] * gr + rb
                                            for r in 0..<len { oj[r] += v * gi[r] }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            return out
        }
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
