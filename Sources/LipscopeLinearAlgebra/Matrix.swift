import CLapack

/// A dense real matrix stored column-major, the layout BLAS and LAPACK expect.
public struct Matrix: Sendable, Equatable {
    public let rows: Int
    public let columns: Int
    /// Column-major entries: element (i, j) is at `i + j * rows`.
    public var storage: [Double]

    public init(rows: Int, columns: Int, storage: [Double]) {
        precondition(storage.count == rows * columns, "storage size does not match the shape")
        self.rows = rows
        self.columns = columns
        self.storage = storage
    }

    public init(rows: Int, columns: Int, repeating value: Double = 0) {
        self.init(rows: rows, columns: columns, storage: Array(repeating: value, count: rows * columns))
    }

    /// Builds a matrix from row arrays (the order network files use).
    public init(rowArrays: [[Double]], columns: Int? = nil) {
        let r = rowArrays.count
        let c = columns ?? rowArrays.first?.count ?? 0
        var s = [Double](repeating: 0, count: r * c)
        for i in 0..<r {
            precondition(rowArrays[i].count == c, "ragged rows")
            for j in 0..<c { s[i + j * r] = rowArrays[i][j] }
        }
        self.init(rows: r, columns: c, storage: s)
    }

    public static func identity(_ n: Int) -> Matrix {
        var m = Matrix(rows: n, columns: n)
        for i in 0..<n { m[i, i] = 1 }
        return m
    }

    public static func diagonal(_ d: [Double]) -> Matrix {
        var m = Matrix(rows: d.count, columns: d.count)
        for i in 0..<d.count { m[i, i] = d[i] }
        return m
    }

    @inline(__always)
    public subscript(i: Int, j: Int) -> Double {
        get { storage[i + j * rows] }
        set { storage[i + j * rows] = newValue }
    }

    public var isSquare: Bool { rows == columns }

    public func row(_ i: Int) -> [Double] { (0..<columns).map { self[i, $0] } }
    public func column(_ j: Int) -> [Double] { Array(storage[(j * rows)..<((j + 1) * rows)]) }
    public var rowArrays: [[Double]] { (0..<rows).map { row($0) } }

    public var transposed: Matrix {
        var t = Matrix(rows: columns, columns: rows)
        for j in 0..<columns {
            for i in 0..<rows { t.storage[j + i * columns] = storage[i + j * rows] }
        }
        return t
    }

    /// The submatrix made of the given rows (in that order).
    public func selectingRows(_ indices: [Int]) -> Matrix {
        var m = Matrix(rows: indices.count, columns: columns)
        for j in 0..<columns {
            for (k, i) in indices.enumerated() { m[k, j] = self[i, j] }
        }
        return m
    }

    public func scalingRows(by d: [Double]) -> Matrix {
        precondition(d.count == rows)
        var m = self
        for j in 0..<columns { for i in 0..<rows { m.storage[i + j * rows] *= d[i] } }
        return m
    }

    public func scalingColumns(by d: [Double]) -> Matrix {
        precondition(d.count == columns)
        var m = self
        for j in 0..<columns { for i in 0..<rows { m.storage[i + j * rows] *= d[j] } }
        return m
    }

    public var nonzeroCount: Int { storage.reduce(0) { $0 + ($1 != 0 ? 1 : 0) } }
    public var allFinite: Bool { storage.allSatisfy { $0.isFinite } }

    /// Induced ℓ∞ norm: the largest absolute row sum.
    public var infinityNorm: Double {
        var sums = [Double](repeating: 0, count: rows)
        for j in 0..<columns { for i in 0..<rows { sums[i] += abs(storage[i + j * rows]) } }
        return sums.max() ?? 0
    }

    /// Absolute row sums, ‖row i‖₁.
    public var absoluteRowSums: [Double] {
        var sums = [Double](repeating: 0, count: rows)
        for j in 0..<columns { for i in 0..<rows { sums[i] += abs(storage[i + j * rows]) } }
        return sums
    }

    public var frobeniusNorm: Double { storage.reduce(0) { $0 + $1 * $1 }.squareRoot() }

    // MARK: Products (BLAS)

    public static func * (a: Matrix, b: Matrix) -> Matrix {
        precondition(a.columns == b.rows, "shape mismatch in product: \(a.rows)x\(a.columns) * \(b.rows)x\(b.columns)")
        var c = Matrix(rows: a.rows, columns: b.columns)
        if a.rows == 0 || b.columns == 0 || a.columns == 0 { return c }
        cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans,
                    Int32(a.rows), Int32(b.columns), Int32(a.columns),
                    1.0, a.storage, Int32(a.rows), b.storage, Int32(b.rows),
                    0.0, &c.storage, Int32(c.rows))
        return c
    }

    /// aᵀ b without forming the transpose.
    public static func transposeTimes(_ a: Matrix, _ b: Matrix) -> Matrix {
        precondition(a.rows == b.rows)
        var c = Matrix(rows: a.columns, columns: b.columns)
        if a.columns == 0 || b.columns == 0 || a.rows == 0 { return c }
        cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans,
                    Int32(a.columns), Int32(b.columns), Int32(a.rows),
                    1.0, a.storage, Int32(a.rows), b.storage, Int32(b.rows),
                    0.0, &c.storage, Int32(c.rows))
        return c
    }

    public static func * (a: Matrix, x: [Double]) -> [Double] {
        precondition(a.columns == x.count, "shape mismatch in matrix-vector product")
        var y = [Double](repeating: 0, count: a.rows)
        if a.rows == 0 || a.columns == 0 { return y }
        cblas_dgemv(CblasColMajor, CblasNoTrans, Int32(a.rows), Int32(a.columns),
                    1.0, a.storage, Int32(a.rows), x, 1, 0.0, &y, 1)
        return y
    }

    public static func + (a: Matrix, b: Matrix) -> Matrix {
        precondition(a.rows == b.rows && a.columns == b.columns)
        return Matrix(rows: a.rows, columns: a.columns, storage: zip(a.storage, b.storage).map { $0 + $1 })
    }

    public static func - (a: Matrix, b: Matrix) -> Matrix {
        precondition(a.rows == b.rows && a.columns == b.columns)
        return Matrix(rows: a.rows, columns: a.columns, storage: zip(a.storage, b.storage).map { $0 - $1 })
    }

    public static func * (s: Double, a: Matrix) -> Matrix {
        Matrix(rows: a.rows, columns: a.columns, storage: a.storage.map { s * $0 })
    }
}
