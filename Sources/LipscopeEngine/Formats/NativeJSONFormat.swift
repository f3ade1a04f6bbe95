import Foundation
import LipscopeLinearAlgebra

/// The native network format (`"format": "lipscope.network", "version": 1`), documented in the
/// README. Feedforward: `input_size` and `layers` of `{weight (rows = outputs), bias, activation,
/// slope?}`. Implicit: `A`, `B`, `C`, `D`, `bias`, `activation`.
public enum NativeJSONFormat {
    public static let formatName = "lipscope.network"
    public static let version = 1

    public static func read(_ data: Data, file: String) throws -> Network {
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            let reason = ((error as NSError).userInfo["NSDebugDescription"] as? String) ?? "\(error)"
            throw InputError(file: file, location: locate(reason, in: data), expected: "valid JSON",
                             found: reason.hasPrefix("Unexpected end of file") ? "the text ends early (truncated file?)" : reason)
        }
        let r = FieldReader(file: file)
        let object = try r.object(root, "top level")
        let format = try r.string(object["format"], "format")
        guard format == formatName else {
            throw InputError(file: file, location: "format", expected: "\"\(formatName)\"", found: "\"\(format)\"")
        }
        let version = try r.integer(object["version"], "version")
        guard version == Self.version else {
            throw InputError(file: file, location: "version", expected: "\(Self.version)", found: "\(version)")
        }
        let name = (object["name"] as? String) ?? URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        let kind = try r.string(object["kind"], "kind")
        switch kind {
        case "feedforward": return .feedforward(try readFeedforward(object, name: name, r))
        case "implicit": return .implicit(try readImplicit(object, name: name, r))
        case "graph": return .graph(try readGraph(object, name: name, r))
        default:
            throw InputError(file: file, location: "kind", expected: "\"feedforward\", \"implicit\" or \"graph\"", found: "\"\(kind)\"")
        }
    }

    static func readFeedforward(_ object: [String: Any], name: String, _ r: FieldReader) throws -> FeedforwardNetwork {
        let inputSize = try r.integer(object["input_size"], "input_size")
        guard inputSize > 0 else {
            throw InputError(file: r.file, location: "input_size", expected: "a positive integer", found: "\(inputSize)")
        }
        let layerValues = try r.array(object["layers"], "layers")
        guard !layerValues.isEmpty else {
            throw InputError(file: r.file, location: "layers", expected: "at least one layer", found: "an empty list (empty network)")
        }
        var layers: [Layer] = []
        var width = inputSize
        for (k, value) in layerValues.enumerated() {
            let path = "layers[\(k)]"
            let layer = try r.object(value, path)
            let meaning = k == 0 ? "input_size" : "the previous layer's output size"
            let weight: WeightMatrix
            if let sparse = layer["weight"] as? [String: Any] {
                weight = .sparse(try r.sparseMatrix(sparse, "\(path).weight", columns: width, columnsMeaning: meaning))
            } else {
                weight = .automatic(try r.matrix(layer["weight"], "\(path).weight", columns: width, columnsMeaning: meaning))
            }
            let bias = try layer["bias"].map { try r.vector($0, "\(path).bias", count: weight.rows) }
                ?? [Double](repeating: 0, count: weight.rows)
            let activation = try r.activation(layer["activation"], slope: layer["slope"], alpha: layer["alpha"], path)
            layers.append(Layer(weight: weight, bias: bias, activation: activation))
            width = weight.rows
        }
        return FeedforwardNetwork(name: name, inputSize: inputSize, layers: layers)
    }

    static func readImplicit(_ object: [String: Any], name: String, _ r: FieldReader) throws -> ImplicitNetwork {
        let a = try r.matrix(object["A"], "A", columns: nil, columnsMeaning: "")
        guard a.rows == a.columns, a.rows > 0 else {
            throw InputError(file: r.file, location: "A", expected: "a non-empty square matrix", found: "\(a.rows)x\(a.columns)")
        }
        let n = a.rows
        let b = try r.matrix(object["B"], "B", columns: nil, columnsMeaning: "", rows: n)
        let c = try r.matrix(object["C"], "C", columns: n, columnsMeaning: "the state size (A's size)")
        let d = try r.matrix(object["D"], "D", columns: b.columns, columnsMeaning: "the input size (B's columns)", rows: c.rows)
        let bias = try object["bias"].map { try r.vector($0, "bias", count: n) } ?? [Double](repeating: 0, count: n)
        let activation = try r.activation(object["activation"], slope: object["slope"], alpha: object["alpha"], "")
        let (alpha, beta) = activation.slopeBounds
        guard alpha >= 0, beta <= 1 else {
            throw InputError(file: r.file, location: "activation", expected: "an activation with slopes in [0, 1]",
                             found: "\(activation.name) with slopes in [\(alpha), \(beta)]")
        }
        let outputBias = try object["output_bias"].map { try r.vector($0, "output_bias", count: c.rows) }
        return ImplicitNetwork(name: name, A: a, B: b, C: c, D: d, bias: bias, outputBias: outputBias, activation: activation)
    }

    /// "around character 12" → "line 1, column 13".
    static func locate(_ reason: String, in data: Data) -> String? {
        guard let range = reason.range(of: #"character (\d+)"#, options: .regularExpression),
              let offset = Int(reason[range].split(separator: " ").last ?? "") else { return nil }
        var line = 1, column = 1
        for byte in data.prefix(offset) {
            if byte == UInt8(ascii: "\n") { line += 1; column = 1 } else { column += 1 }
        }
        return "line \(line), column \(column)"
    }

    // MARK: Writing

    /// A dense weight as a list of rows, a sparse one as its CSR object.
    static func weightObject(_ w: WeightMatrix) -> Any {
        switch w {
        case .dense(let m): return m.rowArrays
        case .sparse(let m):
            return ["rows": m.rows, "columns": m.columns, "row_start": m.rowStart,
                    "column_index": m.columnIndex, "values": m.values] as [String: Any]
        }
    }

    static func activationFields(_ a: Activation, into o: inout [String: Any]) {
        o["activation"] = a.name
        if case .leakyRelu(let s) = a { o["slope"] = s }
        if case .elu(let alpha) = a { o["alpha"] = alpha }
    }

    public static func write(_ network: Network) throws -> Data {
        var object: [String: Any] = ["format": formatName, "version": version, "name": network.name,
                                     "kind": network.kindName]
        switch network {
        case .feedforward(let net):
            object["input_size"] = net.inputSize
            object["layers"] = net.layers.map { layer -> [String: Any] in
                var o: [String: Any] = ["weight": weightObject(layer.weight), "bias": layer.bias]
                activationFields(layer.activation, into: &o)
                return o
            }
        case .implicit(let net):
            object["A"] = net.A.rowArrays; object["B"] = net.B.rowArrays
            object["C"] = net.C.rowArrays; object["D"] = net.D.rowArrays
            object["bias"] = net.bias
            if net.outputBias.contains(where: { $0 != 0 }) { object["output_bias"] = net.outputBias }
            activationFields(net.activation, into: &object)
        case .graph(let net):
            writeGraph(net, into: &object)
        }
        return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    }
}

/// Reads typed fields out of parsed JSON, with errors that carry the field path.
struct FieldReader {
    let file: String

    func describe(_ value: Any?) -> String {
        switch value {
        case nil: return "nothing (the field is missing)"
        case is NSNull: return "null"
        case let s as String: return "the string \"\(s.prefix(40))\""
        case let n as NSNumber where isBoolean(n): return "a boolean"
        case let n as NSNumber: return "the number \(n)"
        case let a as [Any]: return "a list of \(a.count) items"
        case is [String: Any]: return "an object"
        default: return "\(type(of: value!))"
        }
    }

    /// JSON true/false arrive as NSNumber too, with the C type code 'c'.
    func isBoolean(_ n: NSNumber) -> Bool { n.objCType.pointee == 99 }

    func fail(_ path: String, _ expected: String, _ value: Any?) -> InputError {
        InputError(file: file, location: path, expected: expected, found: describe(value))
    }

    func object(_ v: Any?, _ path: String) throws -> [String: Any] {
        guard let o = v as? [String: Any] else { throw fail(path, "a JSON object", v) }
        return o
    }

    func array(_ v: Any?, _ path: String) throws -> [Any] {
        guard let a = v as? [Any] else { throw fail(path, "a list", v) }
        return a
    }

    func string(_ v: Any?, _ path: String) throws -> String {
        guard let s = v as? String else { throw fail(path, "a string", v) }
        return s
    }

    func number(_ v: Any?, _ path: @autoclosure () -> String) throws -> Double {
        guard let n = v as? NSNumber, !isBoolean(n) else {
            throw fail(path(), "a number", v)
        }
        // Linux Foundation hands numbers of 17 significant digits over as NSDecimalNumber, whose
        // doubleValue is not correctly rounded (-0.34260082244873047 → -0.3426008224487306);
        // parsing its exact decimal text is, so written weights read back bit for bit.
        let d = (n as? NSDecimalNumber).flatMap { Double($0.stringValue) } ?? n.doubleValue
        guard d.isFinite else { throw InputError(file: file, location: path(), expected: "a finite number", found: "\(d)") }
        return d
    }

    func integer(_ v: Any?, _ path: String) throws -> Int {
        let d = try number(v, path)
        guard d == d.rounded(), abs(d) < 1e15 else { throw fail(path, "an integer", v) }
        return Int(d)
    }

    func vector(_ v: Any?, _ path: String, count: Int?) throws -> [Double] {
        let items = try array(v, path)
        if let count, items.count != count {
            throw InputError(file: file, location: path, expected: "\(count) numbers", found: "\(items.count)")
        }
        var values = [Double]()
        values.reserveCapacity(items.count)
        for (i, item) in items.enumerated() { values.append(try number(item, "\(path)[\(i)]")) }
        return values
    }

    /// A row-major list of rows; checks the column count (and row count when given).
    func matrix(_ v: Any?, _ path: String, columns: Int?, columnsMeaning: String, rows: Int? = nil) throws -> Matrix {
        let rowValues = try array(v, path)
        if let rows, rowValues.count != rows {
            throw InputError(file: file, location: path, expected: "\(rows) rows", found: "\(rowValues.count)")
        }
        guard !rowValues.isEmpty || rows == 0 else {
            throw InputError(file: file, location: path, expected: "at least one row", found: "an empty list")
        }
        var parsed: [[Double]] = []
        parsed.reserveCapacity(rowValues.count)
        var width = columns
        for (i, row) in rowValues.enumerated() {
            let values = try vector(row, "\(path)[\(i)]", count: nil)
            if let w = width, values.count != w {
                let meaning = columns != nil ? " (\(columnsMeaning))" : " (as in row 0)"
                throw InputError(file: file, location: "\(path)[\(i)]", expected: "\(w) columns\(meaning)", found: "\(values.count)")
            }
            width = values.count
            parsed.append(values)
        }
        return Matrix(rowArrays: parsed, columns: width ?? 0)
    }

    /// A sparse weight in CSR form: {"rows", "columns", "row_start" (rows + 1), "column_index", "values"}.
    func sparseMatrix(_ o: [String: Any], _ path: String, columns: Int, columnsMeaning: String) throws -> SparseMatrix {
        let rows = try integer(o["rows"], "\(path).rows")
        let cols = try integer(o["columns"], "\(path).columns")
        guard rows > 0 else { throw InputError(file: file, location: "\(path).rows", expected: "a positive integer", found: "\(rows)") }
        guard cols == columns else {
            throw InputError(file: file, location: "\(path).columns", expected: "\(columns) (\(columnsMeaning))", found: "\(cols)")
        }
        let start = try vector(o["row_start"], "\(path).row_start", count: rows + 1).map(Int.init)
        let values = try vector(o["values"], "\(path).values", count: nil)
        let index = try vector(o["column_index"], "\(path).column_index", count: values.count)
        guard start.first == 0, start.last == values.count, zip(start, start.dropFirst()).allSatisfy({ $0 <= $1 }) else {
            throw InputError(file: file, location: "\(path).row_start",
                             expected: "non-decreasing offsets from 0 to \(values.count) (the number of values)",
                             found: "\(start.prefix(4).map(String.init).joined(separator: ","))… ending at \(start.last ?? 0)")
        }
        if let bad = index.firstIndex(where: { $0 < 0 || $0 >= Double(cols) || $0 != $0.rounded() }) {
            throw InputError(file: file, location: "\(path).column_index[\(bad)]", expected: "an integer column in 0..<\(cols)",
                             found: "\(index[bad])")
        }
        return SparseMatrix(rows: rows, columns: cols, rowStart: start, columnIndex: index.map(Int.init), values: values)
    }

    func activation(_ v: Any?, slope: Any?, alpha: Any? = nil, _ path: String) throws -> Activation {
        let field = path.isEmpty ? "activation" : "\(path).activation"
        let name = try string(v, field)
        switch name.lowercased() {
        case "relu": return .relu
        case "leaky_relu", "leakyrelu":
            let s = try number(slope, path.isEmpty ? "slope" : "\(path).slope")
            return .leakyRelu(slope: s)
        case "tanh": return .tanh
        case "sigmoid": return .sigmoid
        case "elu":
            // α defaults to 1 (PyTorch's and LiPopt's ELU); it must be ≥ 0 (a monotone ELU).
            guard let alpha else { return .elu(alpha: 1) }
            let field = path.isEmpty ? "alpha" : "\(path).alpha"
            let a = try number(alpha, field)
            guard a >= 0 else { throw InputError(file: file, location: field, expected: "an ELU α ≥ 0", found: "\(a)") }
            return .elu(alpha: a)
        case "softplus": return .softplus
        case "gelu": return .gelu
        case "silu", "swish": return .silu
        case "identity", "linear", "none": return .identity
        default:
            throw InputError(file: file, location: field, expected: "one of \(Activation.names.joined(separator: ", "))",
                             found: "\"\(name)\"")
        }
    }
}
