import LipscopeLinearAlgebra

/// The batched reverse pass shared by chains and graphs: the Jacobians of a batch are computed
/// as one stacked matrix with batch·m rows (sample b's m output rows at b·m …), one column per
/// neuron of the current layer, so every weight product is one BLAS call for the whole batch.
enum StackedJacobians {
    /// Row block b of `g` (width columns) times diag(slopes of sample b): `slopes` is
    /// width × batch, column-major, as `Activation.applyToBatch` returns it.
    static func scaleColumns(_ g: inout Matrix, by slopes: [Double], batch: Int, outputs m: Int) {
        let width = g.columns, stacked = g.rows
        g.storage.withUnsafeMutableBufferPointer { gb in
            slopes.withUnsafeBufferPointer { sb in
                for c in 0..<width {
                    for b in 0..<batch {
                        let sc = sb[c + b * width]
                        for r in 0..<m { gb[(b * m + r) + c * stacked] *= sc }
                    }
                }
            }
        }
    }

    /// Sample b's m × columns Jacobian out of the stack; nil for a sample on a kink.
    static func unstack(_ g: Matrix, batch: Int, outputs m: Int, onKink: [Bool]) -> [Matrix?] {
        let width = g.columns, stacked = g.rows
        return (0..<batch).map { b in
            if onKink[b] { return nil }
            var j = Matrix(rows: m, columns: width)
            g.storage.withUnsafeBufferPointer { gb in
                j.storage.withUnsafeMutableBufferPointer { jb in
                    for c in 0..<width { for r in 0..<m { jb[r + c * m] = gb[(b * m + r) + c * stacked] } }
                }
            }
            return j
        }
    }
}
