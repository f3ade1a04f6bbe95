/// A sparse matrix in compressed sparse row form (row pointers, column indices, values).
/// Network layers with mostly zero weights (convolutions, pruned nets) are stored this way.
public struct SparseMatrix: Sendable, Equatable {
    public let rows: Int
    public let columns: Int
    public let rowStart: [Int]
    public let columnIndex: [Int]
    public let values: [Double]

    public init(rows: Int, columns: Int, rowStart: [Int], columnIndex: [Int], values: [Double]) {
        precondition(rowStart.count == rows + 1 && columnIndex.count == values.count)
        self.rows = rows
        self.columns = columns
        self.rowStart = rowStart
        self.columnIndex = columnIndex
        self.values = values
    }

    /// Builds from (row, column, value) triplets; duplicates are summed, zeros dropped.
    public init(rows: Int, columns: Int, triplets: [(Int, Int, Double)]) {
        let sorted = triplets.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
        var start = [Int](repeating: 0, count: rows + 1)
        var cols: [Int] = []
        var vals: [Double] = []
        var last: (Int, Int)? = nil
        for (i, j, v) in sorted {
            if let l = last, l == (i, j) { vals[vals.count - 1] += v; continue }
            cols.append(j); vals.append(v); start[i + 1] += 1; last = (i, j)
        }
        for i in 0..<rows { start[i + 1] += start[i] }
        self.init(rows: rows, columns: columns, rowStart: start, columnIndex: cols, values: vals)
    }

    public init(_ dense: Matrix) {
        var start = [0]
        var cols: [Int] = []
        var vals: [Double] = []
        for i in 0..<dense.rows {
            for j in 0..<dense.columns where dense[i, j] != 0 {
                cols.append(j); vals.append(dense[i, j])
            }
            start.append(cols.count)
        }
        self.init(rows: dense.rows, columns: dense.columns, rowStart: start, columnIndex: cols, values: vals)
    }

    public var nonzeroCount: Int { values.count }

    public var dense: Matrix {
        var m = Matrix(rows: rows, columns: columns)
        for i in 0..<rows {
            for k in rowStart[i]..<rowStart[i + 1] { m[i, columnIndex[k]] += values[k] }
        }
        return m
    }

    public static func * (a: SparseMatrix, x: [Double]) -> [Double] {
        precondition(a.columns == x.count)
        var y = [Double](repeating: 0, count: a.rows)
        for i in 0..<a.rows {
            var s = 0.0
            for k in a.rowStart[i]..<a.rowStart[i + 1] { s += a.values[k] * x[a.columnIndex[k]] }
            y[i] = s
        }
        return y
    }

    /// Absolute row sums ‖row i‖₁.
    public var absoluteRowSums: [Double] {
        (0..<rows).map { i in
            var s = 0.0
            for k in rowStart[i]..<rowStart[i + 1] { s += abs(values[k]) }
            return s
        }
    }
}
