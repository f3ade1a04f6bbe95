/// MPS reader and writer (fixed and free format).
///
/// Conventions:
/// - The first N row is the objective; further N rows are kept as free rows (−∞ ≤ a·x ≤ ∞).
/// - An RHS entry on the objective row is minus the objective constant (the convention of
///   HiGHS, CPLEX and Gurobi): `RHS  OBJ  -7.113` means cᵀx + 7.113.
/// - RANGES: E row with R > 0 → [rhs, rhs+R], R < 0 → [rhs+R, rhs]; L → [rhs−|R|, rhs];
///   G → [rhs, rhs+|R|].
/// - BOUNDS: UP, LO, FX, FR, MI, PL, BV, LI, UI. An UP bound < 0 on a column whose lower bound
///   was not set makes the lower bound −∞. Integrality (BV, LI, UI, MARKER) is not kept.
/// - OBJSENSE MAX/MAXIMIZE (inline or on the next line) is honoured.
public enum MPSFormat {
    public enum Layout: Sendable {
        /// Whitespace-separated fields (works for fixed files whose names have no spaces).
        case free
        /// Fixed columns 2-3, 5-12, 15-22, 25-36, 40-47, 50-61 (names may contain spaces).
        case fixed
        /// Free first; if that fails, fixed (e.g. FORPLAN's names with spaces). Errors are
        /// reported for the free reading unless the fixed one gets further.
        case auto
    }

    public static func read(path: String, layout: Layout = .auto) throws(ProblemFileError) -> LPProblem {
        try parse(readProblemText(path), file: path, layout: layout)
    }

    public static func write(_ problem: LPProblem, to path: String, layout: Layout = .free) throws(ProblemFileError) {
        try writeProblemText(string(problem, file: path, layout: layout), to: path)
    }

    private enum RowType: Character { case n = "N", e = "E", l = "L", g = "G" }
    private enum Section: String {
        case name = "NAME", objsense = "OBJSENSE", rows = "ROWS", columns = "COLUMNS"
        case rhs = "RHS", ranges = "RANGES", bounds = "BOUNDS", endata = "ENDATA", none = ""
    }

    public static func parse(_ text: String, file: String = "<string>", layout: Layout = .auto) throws(ProblemFileError) -> LPProblem {
        guard layout == .auto else { return try parseLayout(text, file: file, layout: layout) }
        do {
            return try parseLayout(text, file: file, layout: .free)
        } catch let freeError {
            do {
                return try parseLayout(text, file: file, layout: .fixed)
            } catch let fixedError {
                if let a = freeError.line, let b = fixedError.line, b > a { throw fixedError }
                throw freeError
            }
        }
    }

    private static func parseLayout(_ text: String, file: String, layout: Layout) throws(ProblemFileError) -> LPProblem {
        var reader = Reader(file: file, layout: layout)
        var lines = LineReader(text)
        while let (ln, line) = lines.next() {
            if line.isEmpty || line.first == "*" || line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            if line.first != " " && line.first != "\t" {
                try reader.header(line, ln)
                if reader.sawEnd { break }
                continue
            }
            try reader.dataLine(line, ln)
        }
        return try reader.problem()
    }

    /// One reading of an MPS text: the sections' data as it accumulates, line by line, then
    /// the problem it describes.
    private struct Reader {
        let file: String
        let layout: Layout
        var section = Section.none
        var name = ""
        var maximize = false
        var objectiveName: String? = nil
        var rowIndex: [String: Int] = [:]
        var rowNames: [String] = []
        var rowTypes: [RowType] = []
        var rhs: [Double] = []
        var ranges: [Double?] = []
        var objConstant = 0.0
        var columnIndex: [String: Int] = [:]
        var columnNames: [String] = []
        var objective: [Double] = []
        var colLower: [Double] = [], colUpper: [Double] = [], lowerSet: [Bool] = []
        var triplets: [(row: Int, column: Int, value: Double)] = []
        var sawEnd = false

        init(file: String, layout: Layout) {
            self.file = file
            self.layout = layout
        }

        // MARK: Fields

        func fail(_ line: Int?, _ msg: String) -> ProblemFileError { ProblemFileError(file: file, line: line, message: msg) }

        func fields(_ line: Substring) -> [Substring] {
            switch layout {
            case .free:
                return line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            case .fixed, .auto:
                let chars = Array(line)
                let spans = [(1, 3), (4, 12), (14, 22), (24, 36), (39, 47), (49, 61)]
                var out: [Substring] = []
                for (a, b) in spans {
                    guard a < chars.count else { break }
                    let s = String(chars[a..<min(b, chars.count)]).trimmingCharacters(in: .whitespaces)
                    out.append(Substring(s))
                }
                // Drop trailing empty fields but keep inner positions; field 1 (type) only
                // exists in ROWS and BOUNDS.
                while let l = out.last, l.isEmpty { out.removeLast() }
                if section != .rows && section != .bounds && section != .objsense, !out.isEmpty { out.removeFirst() }
                return out
            }
        }

        func number(_ s: Substring, _ ln: Int, _ what: String) throws(ProblemFileError) -> Double {
            guard let v = parseNumber(s), !v.isNaN else { throw fail(ln, "expected a number for \(what), found '\(s)'") }
            return v
        }

        func row(_ s: Substring, _ ln: Int) throws(ProblemFileError) -> Int? {
            if let o = objectiveName, s == o { return nil }
            guard let r = rowIndex[String(s)] else { throw fail(ln, "expected a row name declared in ROWS, found unknown row '\(s)'") }
            return r
        }

        func column(_ s: Substring, _ ln: Int) throws(ProblemFileError) -> Int {
            guard let c = columnIndex[String(s)] else { throw fail(ln, "expected a column name declared in COLUMNS, found unknown column '\(s)'") }
            return c
        }

        // MARK: Lines

        /// A section header (a line starting in column 1).
        mutating func header(_ line: Substring, _ ln: Int) throws(ProblemFileError) {
            let t = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            let head = t[0].uppercased()
            switch head {
            case "NAME":
                section = .name
                name = t.count > 1 ? line.dropFirst(4).trimmingCharacters(in: .whitespaces) : ""
            case "OBJSENSE":
                section = .objsense
                if t.count > 1 {
                    let s = t[1].uppercased()
                    guard s == "MAX" || s == "MAXIMIZE" || s == "MIN" || s == "MINIMIZE" else {
                        throw fail(ln, "expected MIN or MAX after OBJSENSE, found '\(t[1])'")
                    }
                    maximize = s.hasPrefix("MAX")
                }
            case "ROWS": section = .rows
            case "COLUMNS": section = .columns
            case "RHS": section = .rhs
            case "RANGES": section = .ranges
            case "BOUNDS": section = .bounds
            case "ENDATA": section = .endata; sawEnd = true
            default:
                throw fail(ln, "expected a section header (NAME, ROWS, COLUMNS, RHS, RANGES, BOUNDS, ENDATA), found '\(t[0])'")
            }
        }

        /// A data line (indented), read by the current section.
        mutating func dataLine(_ line: Substring, _ ln: Int) throws(ProblemFileError) {
            let f = fields(line)
            if f.isEmpty { return }
            switch section {
            case .none, .name, .endata:
                throw fail(ln, "expected a section header before data, found data line '\(line.trimmingCharacters(in: .whitespaces))'")
            case .objsense:
                let s = f[0].uppercased()
                guard s == "MAX" || s == "MAXIMIZE" || s == "MIN" || s == "MINIMIZE" else {
                    throw fail(ln, "expected MIN or MAX in OBJSENSE, found '\(f[0])'")
                }
                maximize = s.hasPrefix("MAX")
            case .rows: try declareRow(f, line, ln)
            case .columns: try addColumnEntries(f, ln)
            case .rhs, .ranges: try setRowValues(f, line, ln)
            case .bounds: try setBound(f, ln)
            }
        }

        /// ROWS: `type name`; the first N row is the objective.
        mutating func declareRow(_ f: [Substring], _ line: Substring, _ ln: Int) throws(ProblemFileError) {
            guard f.count >= 2 else { throw fail(ln, "expected a row type and a row name in ROWS, found '\(line.trimmingCharacters(in: .whitespaces))'") }
            guard f[0].count == 1, let type = RowType(rawValue: Character(f[0].uppercased())) else {
                throw fail(ln, "expected a row type N, E, L or G, found '\(f[0])'")
            }
            let rname = String(f[1])
            if rname == objectiveName || rowIndex[rname] != nil { throw fail(ln, "row '\(rname)' is declared twice") }
            if type == .n && objectiveName == nil {
                objectiveName = rname
            } else {
                rowIndex[rname] = rowNames.count
                rowNames.append(rname); rowTypes.append(type); rhs.append(0); ranges.append(nil)
            }
        }

        /// COLUMNS: `column row value [row value]`; integer markers are skipped.
        mutating func addColumnEntries(_ f: [Substring], _ ln: Int) throws(ProblemFileError) {
            if f.count >= 3, f[1] == "'MARKER'" || f[2] == "'MARKER'" { return }
            guard f.count == 3 || f.count == 5 else {
                throw fail(ln, "expected 'column row value [row value]' in COLUMNS, found \(f.count) field\(f.count == 1 ? "" : "s")")
            }
            let cname = String(f[0])
            let c: Int
            if let existing = columnIndex[cname] { c = existing } else {
                c = columnNames.count
                columnIndex[cname] = c
                columnNames.append(cname); objective.append(0)
                colLower.append(0); colUpper.append(.infinity); lowerSet.append(false)
            }
            var k = 1
            while k + 1 < f.count {
                let r = try row(f[k], ln)
                let v = try number(f[k + 1], ln, "the coefficient of column '\(cname)' in row '\(f[k])'")
                if let r { triplets.append((r, c, v)) } else { objective[c] += v }
                k += 2
            }
        }

        /// RHS and RANGES: `[set] row value [row value]`.
        mutating func setRowValues(_ f: [Substring], _ line: Substring, _ ln: Int) throws(ProblemFileError) {
            // Optional set name: odd field count means it is present.
            let start = f.count % 2 == 1 ? 1 : 0
            guard f.count - start >= 2 else {
                throw fail(ln, "expected '[set] row value [row value]' in \(section.rawValue), found '\(line.trimmingCharacters(in: .whitespaces))'")
            }
            var k = start
            while k + 1 < f.count {
                let what = section == .rhs ? "the right-hand side of row '\(f[k])'" : "the range of row '\(f[k])'"
                let r = try row(f[k], ln)
                let v = try number(f[k + 1], ln, what)
                if section == .rhs {
                    if let r { rhs[r] = v } else { objConstant = -v }
                } else {
                    guard let r else { throw fail(ln, "expected a constraint row in RANGES, found the objective row '\(f[k])'") }
                    ranges[r] = v
                }
                k += 2
            }
        }

        /// BOUNDS: `type [set] column [value]`.
        mutating func setBound(_ f: [Substring], _ ln: Int) throws(ProblemFileError) {
            let type = f[0].uppercased()
            let needsValue: Bool
            switch type {
            case "UP", "LO", "FX", "LI", "UI": needsValue = true
            case "FR", "MI", "PL", "BV": needsValue = false
            case "SC": throw fail(ln, "semi-continuous bounds (SC) are not supported")
            default: throw fail(ln, "expected a bound type (UP, LO, FX, FR, MI, PL, BV, LI, UI), found '\(f[0])'")
            }
            // Fields: type [set] column [value].
            let colField: Substring
            var valueField: Substring? = nil
            if needsValue {
                guard f.count == 3 || f.count == 4 else {
                    throw fail(ln, "expected '\(type) [set] column value' in BOUNDS, found \(f.count) field\(f.count == 1 ? "" : "s")")
                }
                colField = f[f.count - 2]; valueField = f[f.count - 1]
            } else {
                if f.count == 2 { colField = f[1] }
                else if f.count == 3 {
                    // 'FR set col' or 'BV col value'
                    if columnIndex[String(f[2])] != nil { colField = f[2] } else { colField = f[1]; valueField = f[2] }
                } else if f.count == 4 { colField = f[2]; valueField = f[3] }
                else { throw fail(ln, "expected '\(type) [set] column' in BOUNDS, found \(f.count) field\(f.count == 1 ? "" : "s")") }
            }
            let c = try column(colField, ln)
            let v = try valueField.map { (s: Substring) throws(ProblemFileError) -> Double in
                try number(s, ln, "the \(type) bound of column '\(colField)'")
            }
            switch type {
            case "UP", "UI":
                colUpper[c] = v!
                if v! < 0 && !lowerSet[c] && colLower[c] == 0 { colLower[c] = -.infinity }
            case "LO", "LI": colLower[c] = v!; lowerSet[c] = true
            case "FX": colLower[c] = v!; colUpper[c] = v!; lowerSet[c] = true
            case "FR": colLower[c] = -.infinity; colUpper[c] = .infinity; lowerSet[c] = true
            case "MI": colLower[c] = -.infinity; lowerSet[c] = true
            case "PL": colUpper[c] = .infinity
            case "BV": colLower[c] = 0; colUpper[c] = 1; lowerSet[c] = true
            default: break
            }
        }

        // MARK: The problem

        /// The problem once ENDATA is read: row types, right-hand sides and ranges become
        /// row bounds.
        func problem() throws(ProblemFileError) -> LPProblem {
            if !sawEnd { throw fail(nil, "unexpected end of file: expected ENDATA") }
            guard let objName = objectiveName else { throw fail(nil, "no objective row: expected an N row in ROWS") }
            var rowLower = [Double](repeating: 0, count: rowNames.count), rowUpper = rowLower
            for r in 0..<rowNames.count {
                let b = rhs[r]
                switch (rowTypes[r], ranges[r]) {
                case (.n, _): rowLower[r] = -.infinity; rowUpper[r] = .infinity
                case (.e, nil): rowLower[r] = b; rowUpper[r] = b
                case (.e, let R?): if R >= 0 { rowLower[r] = b; rowUpper[r] = b + R } else { rowLower[r] = b + R; rowUpper[r] = b }
                case (.l, nil): rowLower[r] = -.infinity; rowUpper[r] = b
                case (.l, let R?): rowLower[r] = b - abs(R); rowUpper[r] = b
                case (.g, nil): rowLower[r] = b; rowUpper[r] = .infinity
                case (.g, let R?): rowLower[r] = b; rowUpper[r] = b + abs(R)
                }
            }
            return LPProblem(name: name, objectiveName: objName, rowNames: rowNames, columnNames: columnNames,
                             objective: objective, objectiveConstant: objConstant, maximize: maximize,
                             matrix: ColumnSparseMatrix(rows: rowNames.count, columns: columnNames.count, triplets: triplets),
                             rowLower: rowLower, rowUpper: rowUpper, columnLower: colLower, columnUpper: colUpper)
        }
    }

    /// Free-format MPS text. Reading it back gives an identical problem (ranged rows are
    /// written so that the bounds re-read exactly whenever floating point allows).
    ///
    /// `.fixed` writes the classic column layout: names must have at most 8 characters, and a
    /// value whose shortest exact text exceeds 12 characters is rounded to 12 (the only case
    /// where re-reading is not exact).
    public static func string(_ p: LPProblem, file: String = "<string>", layout: Layout = .free) throws(ProblemFileError) -> String {
        let allNames = [p.objectiveName] + p.rowNames + p.columnNames
        if layout != .fixed, let bad = allNames.first(where: { $0.contains(" ") || $0.contains("\t") }) {
            throw ProblemFileError(file: file, line: nil, message: "cannot write free MPS: name '\(bad)' contains whitespace")
        }
        if layout == .fixed, let bad = allNames.first(where: { $0.count > 8 }) {
            throw ProblemFileError(file: file, line: nil, message: "cannot write fixed MPS: name '\(bad)' is longer than 8 characters")
        }
        let text = try freeString(p, file: file)
        guard layout == .fixed else { return text }
        // Re-lay the free text out in fixed columns (names were checked above).
        var out = ""
        var section = ""
        var lines = LineReader(text)
        while let (_, line) = lines.next() {
            if line.isEmpty { continue }
            if line.first != " " { section = String(line.split(separator: " ").first ?? ""); out += line + "\n"; continue }
            let f = line.split(separator: " ").map(String.init)
            func pad(_ s: String, _ w: Int) -> String { s.count >= w ? s : s + String(repeating: " ", count: w - s.count) }
            func num(_ s: String) -> String {
                if s.count <= 12 { return String(repeating: " ", count: 12 - s.count) + s }
                let v = Double(s) ?? 0
                for digits in stride(from: 12, through: 1, by: -1) {
                    let t = String(format: "%.\(digits)G", v)
                    if t.count <= 12 { return String(repeating: " ", count: 12 - t.count) + t }
                }
                return s
            }
            switch section {
            case "ROWS", "OBJSENSE":
                out += " " + pad(f[0], 2) + " " + (f.count > 1 ? f[1] : "") + "\n"
            case "BOUNDS":
                var l = " " + pad(f[0], 2) + " " + pad(f[1], 8) + "  " + pad(f[2], 8)
                if f.count > 3 { l += "  " + num(f[3]) }
                out += l + "\n"
            default:
                var l = "    " + pad(f[0], 8) + "  " + pad(f[1], 8) + "  " + num(f[2])
                if f.count > 4 { l += "   " + pad(f[3], 8) + "  " + num(f[4]) }
                out += l + "\n"
            }
        }
        return out
    }

    private static func freeString(_ p: LPProblem, file: String) throws(ProblemFileError) -> String {
        if p.rowNames.contains(where: \.isEmpty) || p.columnNames.contains(where: \.isEmpty) || p.objectiveName.isEmpty {
            throw ProblemFileError(file: file, line: nil, message: "cannot write MPS: empty row or column name")
        }
        var out = "NAME \(p.name)\n"
        if p.maximize { out += "OBJSENSE\n    MAX\n" }
        out += "ROWS\n N  \(p.objectiveName)\n"
        var rowRHS = [Double?](repeating: nil, count: p.rowCount)
        var rowRange = [Double?](repeating: nil, count: p.rowCount)
        for r in 0..<p.rowCount {
            let l = p.rowLower[r], u = p.rowUpper[r]
            let type: String
            if l == u { type = "E"; rowRHS[r] = l }
            else if l == -.infinity && u == .infinity { type = "N" }
            else if l == -.infinity { type = "L"; rowRHS[r] = u }
            else if u == .infinity { type = "G"; rowRHS[r] = l }
            else {
                let R = u - l
                if u - R == l { type = "L"; rowRHS[r] = u; rowRange[r] = R }
                else { type = "G"; rowRHS[r] = l; rowRange[r] = R }
            }
            out += " \(type)  \(p.rowNames[r])\n"
        }
        out += "COLUMNS\n"
        let A = p.matrix
        for j in 0..<p.columnCount {
            var pairs: [(String, Double)] = []
            if p.objective[j] != 0 { pairs.append((p.objectiveName, p.objective[j])) }
            for k in Int(A.columnStart[j])..<Int(A.columnStart[j + 1]) { pairs.append((p.rowNames[Int(A.rowIndex[k])], A.values[k])) }
            if pairs.isEmpty { pairs.append((p.objectiveName, 0)) }
            for (rn, v) in pairs { out += "    \(p.columnNames[j])  \(rn)  \(formatNumber(v))\n" }
        }
        out += "RHS\n"
        for r in 0..<p.rowCount { if let b = rowRHS[r], b != 0 { out += "    RHS  \(p.rowNames[r])  \(formatNumber(b))\n" } }
        if p.objectiveConstant != 0 { out += "    RHS  \(p.objectiveName)  \(formatNumber(-p.objectiveConstant))\n" }
        if rowRange.contains(where: { $0 != nil }) {
            out += "RANGES\n"
            for r in 0..<p.rowCount { if let R = rowRange[r] { out += "    RNG  \(p.rowNames[r])  \(formatNumber(R))\n" } }
        }
        var bounds = ""
        for j in 0..<p.columnCount {
            let l = p.columnLower[j], u = p.columnUpper[j], n = p.columnNames[j]
            if l == 0 && u == .infinity { continue }
            if l == u { bounds += " FX BND  \(n)  \(formatNumber(l))\n"; continue }
            if l == -.infinity && u == .infinity { bounds += " FR BND  \(n)\n"; continue }
            if u != .infinity { bounds += " UP BND  \(n)  \(formatNumber(u))\n" }
            if l == -.infinity { bounds += " MI BND  \(n)\n" }
            else if l != 0 || u < 0 { bounds += " LO BND  \(n)  \(formatNumber(l))\n" }
        }
        if !bounds.isEmpty { out += "BOUNDS\n" + bounds }
        out += "ENDATA\n"
        return out
    }
}
