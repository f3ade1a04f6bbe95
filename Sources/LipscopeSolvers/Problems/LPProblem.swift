/// A sparse matrix in compressed sparse column form (0-based).
public struct ColumnSparseMatrix: Sendable, Equatable {
    public var rows: Int
    public var columns: Int
    /// `columnStart[j] ..< columnStart[j+1]` are column j's entries; count = columns + 1.
    public var columnStart: [Int32]
    public var rowIndex: [Int32]
    public var values: [Double]

    public init(rows: Int, columns: Int, columnStart: [Int32], rowIndex: [Int32], values: [Double]) {
        precondition(columnStart.count == columns + 1 && rowIndex.count == values.count)
        self.rows = rows
        self.columns = columns
        self.columnStart = columnStart
        self.rowIndex = rowIndex
        self.values = values
    }

    /// From (row, column, value) triplets; duplicates summed, each column sorted by row.
    public init(rows: Int, columns: Int, triplets: [(row: Int, column: Int, value: Double)]) {
        let order = triplets.indices.sorted {
            (triplets[$0].column, triplets[$0].row) < (triplets[$1].column, triplets[$1].row)
        }
        var start = [Int32](repeating: 0, count: columns + 1)
        var idx: [Int32] = [], vals: [Double] = []
        var last: (Int, Int)? = nil
        for p in order {
            let t = triplets[p]
            if let l = last, l == (t.row, t.column) { vals[vals.count - 1] += t.value; continue }
            last = (t.row, t.column)
            idx.append(Int32(t.row)); vals.append(t.value); start[t.column + 1] += 1
        }
        for j in 0..<columns { start[j + 1] += start[j] }
        self.init(rows: rows, columns: columns, columnStart: start, rowIndex: idx, values: vals)
    }

    public var nonzeroCount: Int { values.count }

    /// A·x.
    public func multiply(_ x: [Double]) -> [Double] {
        var y = [Double](repeating: 0, count: rows)
        for j in 0..<columns where x[j] != 0 {
            for k in Int(columnStart[j])..<Int(columnStart[j + 1]) { y[Int(rowIndex[k])] += values[k] * x[j] }
        }
        return y
    }
}

/// A linear program with row and column bounds:
///
///     minimize (or maximize) cᵀx + constant
///     subject to  rowLower ≤ A x ≤ rowUpper,   columnLower ≤ x ≤ columnUpper
///
/// Infinite bounds are ±.infinity. An equality row has rowLower == rowUpper; a ≤ row has
/// rowLower = −∞; a ≥ row has rowUpper = +∞.
public struct LPProblem: Sendable, Equatable {
    public enum RowSense: Sendable { case equal, lessEqual, greaterEqual }

    public var name: String
    public var objectiveName: String
    public var rowNames: [String]
    public var columnNames: [String]
    public var objective: [Double]
    /// Added to cᵀx. In MPS it is minus the RHS entry on the objective row.
    public var objectiveConstant: Double
    public var maximize: Bool
    public var matrix: ColumnSparseMatrix
    public var rowLower: [Double]
    public var rowUpper: [Double]
    public var columnLower: [Double]
    public var columnUpper: [Double]

    public var rowCount: Int { matrix.rows }
    public var columnCount: Int { matrix.columns }

    public init(name: String = "LP", objectiveName: String = "OBJ", rowNames: [String]? = nil,
                columnNames: [String]? = nil, objective: [Double], objectiveConstant: Double = 0,
                maximize: Bool = false, matrix: ColumnSparseMatrix, rowLower: [Double], rowUpper: [Double],
                columnLower: [Double]? = nil, columnUpper: [Double]? = nil) {
        precondition(objective.count == matrix.columns && rowLower.count == matrix.rows && rowUpper.count == matrix.rows)
        self.name = name
        self.objectiveName = objectiveName
        self.rowNames = rowNames ?? (0..<matrix.rows).map { "R\($0 + 1)" }
        self.columnNames = columnNames ?? (0..<matrix.columns).map { "C\($0 + 1)" }
        self.objective = objective
        self.objectiveConstant = objectiveConstant
        self.maximize = maximize
        self.matrix = matrix
        self.rowLower = rowLower
        self.rowUpper = rowUpper
        self.columnLower = columnLower ?? [Double](repeating: 0, count: matrix.columns)
        self.columnUpper = columnUpper ?? [Double](repeating: .infinity, count: matrix.columns)
    }

    /// Row bounds for `a·x (sense) b`.
    public static func rowBounds(_ sense: RowSense, _ b: Double) -> (lower: Double, upper: Double) {
        switch sense {
        case .equal: return (b, b)
        case .lessEqual: return (-.infinity, b)
        case .greaterEqual: return (b, .infinity)
        }
    }

    /// cᵀx + constant.
    public func objectiveValue(_ x: [Double]) -> Double {
        zip(objective, x).reduce(objectiveConstant) { $0 + $1.0 * $1.1 }
    }

    /// Builder: add columns and rows in any order, entries as triplets.
    public struct Builder: Sendable {
        public var name = "LP"
        public var maximize = false
        public var objectiveConstant = 0.0
        public private(set) var objective: [Double] = []
        public private(set) var columnLower: [Double] = []
        public private(set) var columnUpper: [Double] = []
        public private(set) var columnNames: [String] = []
        public private(set) var rowLower: [Double] = []
        public private(set) var rowUpper: [Double] = []
        public private(set) var rowNames: [String] = []
        var triplets: [(row: Int, column: Int, value: Double)] = []

        public init() {}

        /// Adds a column; returns its index.
        @discardableResult
        public mutating func addColumn(cost: Double, lower: Double = 0, upper: Double = .infinity, name: String? = nil) -> Int {
            objective.append(cost); columnLower.append(lower); columnUpper.append(upper)
            columnNames.append(name ?? "C\(objective.count)")
            return objective.count - 1
        }

        /// Adds a row `Σ coefficients (sense) rhs`; returns its index.
        @discardableResult
        public mutating func addRow(_ coefficients: [(column: Int, value: Double)], _ sense: RowSense, _ rhs: Double,
                                    name: String? = nil) -> Int {
            let (l, u) = LPProblem.rowBounds(sense, rhs)
            return addRow(coefficients, lower: l, upper: u, name: name)
        }

        @discardableResult
        public mutating func addRow(_ coefficients: [(column: Int, value: Double)], lower: Double, upper: Double,
                                    name: String? = nil) -> Int {
            let r = rowLower.count
            rowLower.append(lower); rowUpper.append(upper); rowNames.append(name ?? "R\(r + 1)")
            for (c, v) in coefficients { triplets.append((r, c, v)) }
            return r
        }

        public func build() -> LPProblem {
            LPProblem(name: name, rowNames: rowNames, columnNames: columnNames, objective: objective,
                      objectiveConstant: objectiveConstant, maximize: maximize,
                      matrix: ColumnSparseMatrix(rows: rowLower.count, columns: objective.count, triplets: triplets),
                      rowLower: rowLower, rowUpper: rowUpper, columnLower: columnLower, columnUpper: columnUpper)
        }
    }
}
