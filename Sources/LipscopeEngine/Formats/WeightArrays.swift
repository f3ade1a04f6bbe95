import Foundation
import LipscopeLinearAlgebra

/// A real array read from a file, its values in C (row-major) order whatever the file's order.
struct NDArray: Sendable {
    var shape: [Int]
    var values: [Double]

    var count: Int { values.count }
    var shapeText: String { "(" + shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? ",)" : ")") }

    /// Column-major values (MATLAB, Fortran order) to C order.
    static func fromColumnMajor(shape: [Int], values: [Double]) -> NDArray {
        guard shape.count >= 2 else { return NDArray(shape: shape, values: values) }
        var out = [Double](repeating: 0, count: values.count)
        // Strides of the C layout.
        var cStrides = [Int](repeating: 1, count: shape.count)
        for k in stride(from: shape.count - 2, through: 0, by: -1) { cStrides[k] = cStrides[k + 1] * shape[k + 1] }
        var index = [Int](repeating: 0, count: shape.count)
        for f in 0..<values.count {
            var c = 0
            for k in 0..<shape.count { c += index[k] * cStrides[k] }
            out[c] = values[f]
            // Advance the column-major multi-index (first axis fastest).
            var k = 0
            while k < shape.count {
                index[k] += 1
                if index[k] < shape[k] { break }
                index[k] = 0
                k += 1
            }
        }
        return NDArray(shape: shape, values: out)
    }

    /// Drops axes of length 1 (MATLAB's 1xn rows, NumPy's (n, 1) columns).
    var squeezed: NDArray { NDArray(shape: shape.filter { $0 != 1 }, values: values) }

    /// A 2-D array as a matrix (rows = first axis).
    var matrix: Matrix? {
        guard shape.count == 2 else { return nil }
        let r = shape[0], c = shape[1]
        var m = Matrix(rows: r, columns: c)
        for i in 0..<r { for j in 0..<c { m.storage[i + j * r] = values[i * c + j] } }
        return m
    }

    /// A vector: any array with at most one axis longer than 1.
    var vector: [Double]? { shape.filter({ $0 != 1 }).count <= 1 ? values : nil }
}

/// Product of sizes, nil on overflow or a negative size.
func checkedProduct(_ sizes: [Int], limit: Int = 1 << 40) -> Int? {
    var p = 1
    for s in sizes {
        guard s >= 0 else { return nil }
        let (q, overflow) = p.multipliedReportingOverflow(by: s)
        guard !overflow, q <= limit else { return nil }
        p = q
    }
    return p
}

/// Turns named arrays (an .npz archive, a .mat file's variables) into networks, by the naming
/// conventions of the files we meet:
/// - weight lists: `W1, b1, W2, …`, `fc1.weight`/`fc1.bias`, `layers.0.weight`, `weights_0`, …
///   ordered naturally (numbers compared as numbers); ReLU after every layer but the last.
///   The layout is PyTorch's (out, in) when the shapes chain that way, else (in, out).
/// - implicit nets: `A, B, C[, D][, bias]`, or monDEQ's `W, U, Wout` (`U_bias`), or the monDEQ
///   parameters `A_param, B_param, m` with W = (1 − m) I − AᵀA + B − Bᵀ.
enum WeightArrays {
    struct Named {
        var name: String
        var array: NDArray
    }

    static let weightWords = ["weights", "weight", "kernel", "w"]
    static let biasWords = ["biases", "bias", "b"]

    /// Splits a name into (prefix, word, suffix) when it is "<prefix><word><digits?>" with the
    /// prefix empty or ending in a separator.
    static func split(_ name: String, words: [String]) -> (id: String, word: String)? {
        let lower = name.lowercased()
        var stem = Substring(lower)
        var suffix = ""
        while let last = stem.last, last.isNumber { suffix = String(last) + suffix; stem = stem.dropLast() }
        if !suffix.isEmpty, stem.last == "_" { stem = stem.dropLast() }
        for word in words where stem.hasSuffix(word) {
            let prefix = stem.dropLast(word.count)
            if prefix.isEmpty || [".", "_", "/", "-", ":"].contains(prefix.last!) {
                return (String(prefix) + "#" + suffix, word)
            }
        }
        return nil
    }

    /// Natural order: digit runs compare as numbers.
    static func naturalLess(_ a: String, _ b: String) -> Bool {
        func chunks(_ s: String) -> [(Bool, String)] {
            var out: [(Bool, String)] = []
            for ch in s {
                let digit = ch.isASCII && ch.isNumber
                if let last = out.last, last.0 == digit { out[out.count - 1].1.append(ch) } else { out.append((digit, String(ch))) }
            }
            return out
        }
        let x = chunks(a), y = chunks(b)
        for (p, q) in zip(x, y) where p.1 != q.1 {
            if p.0 && q.0 {
                let pv = p.1.drop(while: { $0 == "0" }), qv = q.1.drop(while: { $0 == "0" })
                if pv.count != qv.count { return pv.count < qv.count }
                if pv != qv { return pv < qv }
                continue
            }
            return p.1 < q.1
        }
        return x.count < y.count
    }

    static func finite(_ a: NDArray, _ name: String, file: String) throws {
        if let bad = a.values.firstIndex(where: { !$0.isFinite }) {
            throw InputError(file: file, location: name, expected: "finite numbers", found: "\(a.values[bad]) at flat index \(bad)")
        }
    }

    /// Implicit networks first (their keys are specific), then weight lists.
    static func network(_ arrays: [Named], name: String, file: String, formatHint: String) throws -> Network {
        var byName: [String: NDArray] = [:]
        for a in arrays { byName[a.name] = a.array }
        if byName["U"] != nil, byName["Wout"] != nil || byName["W_out"] != nil {
            return .implicit(try monDEQ(byName, name: name, file: file))
        }
        if byName["A"] != nil, byName["B"] != nil, byName["C"] != nil {
            return .implicit(try implicitABCD(byName, name: name, file: file))
        }
        return .feedforward(try weightList(arrays, name: name, file: file, formatHint: formatHint))
    }

    static func matrix(_ dict: [String: NDArray], _ key: String, file: String) throws -> Matrix {
        guard let a = dict[key] else {
            throw InputError(file: file, location: key, expected: "an array named \(key)", found: "nothing (missing)")
        }
        try finite(a, key, file: file)
        guard let m = a.matrix, m.rows > 0, m.columns > 0 else {
            throw InputError(file: file, location: key, expected: "a non-empty 2-D array", found: "shape \(a.shapeText)")
        }
        return m
    }

    static func vector(_ dict: [String: NDArray], _ key: String, count: Int, file: String) throws -> [Double]? {
        guard let a = dict[key] else { return nil }
        try finite(a, key, file: file)
        guard let v = a.vector, v.count == count else {
            throw InputError(file: file, location: key, expected: "a vector of \(count) numbers", found: "shape \(a.shapeText)")
        }
        return v
    }

    /// monotone_op_net / lipschitz_mondeq: z = ReLU(W z + U x + U_bias), y = Wout z (+ Wout_bias).
    static func monDEQ(_ d: [String: NDArray], name: String, file: String) throws -> ImplicitNetwork {
        let u = try matrix(d, "U", file: file)
        let outKey = d["Wout"] != nil ? "Wout" : "W_out"
        let wout = try matrix(d, outKey, file: file)
        let n = u.rows
        var w: Matrix? = nil
        if d["W"] != nil {
            w = try matrix(d, "W", file: file)
        }
        if d["A_param"] != nil || d["B_param"] != nil {
            let a = try matrix(d, "A_param", file: file)
            let b = try matrix(d, "B_param", file: file)
            guard let mArray = d["m"], mArray.count == 1, mArray.values[0].isFinite else {
                throw InputError(file: file, location: "m", expected: "the monotonicity parameter m (one number) beside A_param and B_param",
                                 found: d["m"].map { "shape \($0.shapeText)" } ?? "nothing (missing)")
            }
            guard a.columns == n, b.rows == n, b.columns == n else {
                throw InputError(file: file, location: "A_param/B_param", expected: "A_param (k x \(n)) and B_param (\(n) x \(n)) for \(n) hidden units",
                                 found: "\(a.rows)x\(a.columns) and \(b.rows)x\(b.columns)")
            }
            let m = mArray.values[0]
            let computed = (1 - m) * Matrix.identity(n) - Matrix.transposeTimes(a, a) + b - b.transposed
            if let given = w {
                // The stored W must be the documented function of the parameters.
                guard given.rows == n, given.columns == n else {
                    throw InputError(file: file, location: "W", expected: "\(n)x\(n) (hidden size)", found: "\(given.rows)x\(given.columns)")
                }
                let scale = 1 + (given.storage.map(abs).max() ?? 0)
                let gap = zip(given.storage, computed.storage).map { abs($0 - $1) }.max() ?? 0
                guard gap <= 1e-5 * scale else {
                    throw InputError(file: file, location: "W", expected: "W = (1 - m) I - A_paramᵀ A_param + B_param - B_paramᵀ (monDEQ)",
                                     found: "a W differing from that by \(gap)")
                }
            } else {
                w = computed
            }
        }
        guard let a = w else {
            throw InputError(file: file, location: "W", expected: "the state matrix W, or A_param, B_param and m", found: "neither")
        }
        guard a.rows == n, a.columns == n else {
            throw InputError(file: file, location: "W", expected: "\(n)x\(n) (U has \(n) rows)", found: "\(a.rows)x\(a.columns)")
        }
        guard wout.columns == n else {
            throw InputError(file: file, location: outKey, expected: "\(n) columns (hidden size)", found: "\(wout.columns)")
        }
        let bias = try vector(d, "U_bias", count: n, file: file) ?? [Double](repeating: 0, count: n)
        let outBias = try vector(d, d["Wout_bias"] != nil ? "Wout_bias" : "W_out_bias", count: wout.rows, file: file)
        return ImplicitNetwork(name: name, A: a, B: u, C: wout, D: Matrix(rows: wout.rows, columns: u.columns),
                               bias: bias, outputBias: outBias, activation: .relu)
    }

    static func implicitABCD(_ d: [String: NDArray], name: String, file: String) throws -> ImplicitNetwork {
        let a = try matrix(d, "A", file: file)
        let b = try matrix(d, "B", file: file)
        let c = try matrix(d, "C", file: file)
        guard a.rows == a.columns else {
            throw InputError(file: file, location: "A", expected: "a square matrix", found: "\(a.rows)x\(a.columns)")
        }
        guard b.rows == a.rows else {
            throw InputError(file: file, location: "B", expected: "\(a.rows) rows (A's size)", found: "\(b.rows)")
        }
        guard c.columns == a.rows else {
            throw InputError(file: file, location: "C", expected: "\(a.rows) columns (A's size)", found: "\(c.columns)")
        }
        var dm = Matrix(rows: c.rows, columns: b.columns)
        if d["D"] != nil {
            dm = try matrix(d, "D", file: file)
            guard dm.rows == c.rows, dm.columns == b.columns else {
                throw InputError(file: file, location: "D", expected: "\(c.rows)x\(b.columns)", found: "\(dm.rows)x\(dm.columns)")
            }
        }
        let bias = try vector(d, d["bias"] != nil ? "bias" : "b", count: a.rows, file: file) ?? [Double](repeating: 0, count: a.rows)
        return ImplicitNetwork(name: name, A: a, B: b, C: c, D: dm, bias: bias, activation: .relu)
    }

    /// A feedforward network from weight (and optional bias) arrays.
    static func weightList(_ arrays: [Named], name: String, file: String, formatHint: String) throws -> FeedforwardNetwork {
        var weights: [String: Named] = [:]
        var biases: [String: Named] = [:]
        for a in arrays {
            if let (id, _) = split(a.name, words: weightWords) {
                guard a.array.squeezed.shape.count <= 2 else {
                    throw InputError(file: file, location: a.name, expected: "a 2-D weight matrix (convolutions are read from ONNX, or GLipSDP .mat files)",
                                     found: "shape \(a.array.shapeText)")
                }
                weights[id] = a
            }
            else if let (id, _) = split(a.name, words: biasWords) { biases[id] = a }
        }
        guard !weights.isEmpty else {
            let listing = arrays.prefix(12).map { "\($0.name) \($0.array.shapeText)" }.joined(separator: ", ")
            throw InputError(file: file, expected: "network arrays: weights named like W1, b1, … or fc1.weight, fc1.bias, … (\(formatHint))",
                             found: arrays.isEmpty ? "no arrays" : "only \(listing)")
        }
        let ids = weights.keys.sorted(by: naturalLess)
        for id in biases.keys where weights[id] == nil {
            let b = biases[id]!
            throw InputError(file: file, location: b.name, expected: "a weight matrix that this bias belongs to", found: "none")
        }
        var mats: [Matrix] = []
        for id in ids {
            let w = weights[id]!
            try finite(w.array, w.name, file: file)
            guard let m = w.array.matrix, m.rows > 0, m.columns > 0 else {
                throw InputError(file: file, location: w.name, expected: "a non-empty 2-D weight matrix", found: "shape \(w.array.shapeText)")
            }
            mats.append(m)
        }
        // PyTorch's (out, in) if the shapes chain that way, else (in, out).
        func chains(_ ms: [Matrix]) -> Bool { zip(ms, ms.dropFirst()).allSatisfy { $0.rows == $1.columns } }
        let outIn = chains(mats)
        if !outIn {
            let transposed = mats.map(\.transposed)
            guard chains(transposed) else {
                let shapes = zip(ids, mats).map { "\(weights[$0]!.name) \($1.rows)x\($1.columns)" }.joined(separator: ", ")
                throw InputError(file: file, location: "weights", expected: "weight shapes that chain, as (out, in) or as (in, out)",
                                 found: shapes)
            }
            mats = transposed
        }
        var layers: [Layer] = []
        for (k, (id, m)) in zip(ids, mats).enumerated() {
            var bias = [Double](repeating: 0, count: m.rows)
            if let b = biases[id] {
                try finite(b.array, b.name, file: file)
                guard let v = b.array.vector, v.count == m.rows else {
                    throw InputError(file: file, location: b.name, expected: "a bias of \(m.rows) numbers (layer \(k + 1) outputs)",
                                     found: "shape \(b.array.shapeText)")
                }
                bias = v
            }
            layers.append(Layer(weight: m, bias: bias, activation: k == mats.count - 1 ? .identity : .relu))
        }
        return FeedforwardNetwork(name: name, inputSize: mats[0].columns, layers: layers)
    }

    static func baseName(_ file: String) -> String {
        URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
    }
}
