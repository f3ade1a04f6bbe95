import Foundation
import LipscopeLinearAlgebra

/// MATLAB Level 5 MAT-files (`save -v7`, scipy.io.savemat), including zlib-compressed elements
/// and cell arrays. Networks, by layout:
/// - LipSDP: a cell array `weights` of (out, in) matrices, optional cell array `biases`;
///   ReLU on every layer but the last.
/// - GLipSDP's per-model exports: `convK_weight` (kh, kw, c_in, c_out), `convK_bias`,
///   `fcK_weight` (in, out), `fcK_bias` (1, n); convolutions are stride 1 with "same" zero
///   padding on a square image whose side follows from `input_mean` (the standardised input,
///   not folded in), flattened channel-first (C, H, W) as PyTorch does.
/// - otherwise named weight lists and implicit nets as for .npz (`WeightArrays`).
/// MATLAB 7.3 files are HDF5 and refused with a "save with -v7" message.
public enum MATFormat {
    indirect enum Value {
        case numeric(NDArray)
        case cell(shape: [Int], items: [Value])
        case unsupported(String)

        var kindText: String {
            switch self {
            case .numeric(let a): "a numeric array \(a.shapeText)"
            case .cell(let shape, _): "a cell array \(NDArray(shape: shape, values: []).shapeText)"
            case .unsupported(let what): what
            }
        }
    }

    public static func read(_ bytes: [UInt8], file: String) throws -> Network {
        let variables = try readVariables(bytes, file: file)
        return try network(variables, file: file)
    }

    // MARK: Container

    static let maxDepth = 16

    static func readVariables(_ bytes: [UInt8], file: String) throws -> [(name: String, value: Value)] {
        let hdf5: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]
        let headerText = String(decoding: bytes.prefix(116), as: UTF8.self)
        if headerText.hasPrefix("MATLAB 7.3") || bytes.starts(with: hdf5)
            || (bytes.count >= 520 && Array(bytes[512..<520]) == hdf5) {
            throw InputError(file: file, location: "header", expected: "a MATLAB v5/v7 MAT-file",
                             found: "a MATLAB 7.3 (HDF5) file; save it with -v7 (save(f, 'weights', '-v7')) or scipy.io.savemat")
        }
        guard bytes.count >= 128, headerText.hasPrefix("MATLAB 5.0") || bytes[124...127].elementsEqual([0, 1, 0x49, 0x4D]) || bytes[124...127].elementsEqual([1, 0, 0x4D, 0x49]) else {
            throw InputError(file: file, location: "header", expected: "a MATLAB 5.0 MAT-file header (128 bytes, 'MATLAB 5.0 MAT-file')",
                             found: bytes.count < 128 ? "\(bytes.count) bytes" : "\"\(headerText.prefix(24))\" (a MATLAB v4 or non-MAT file?)")
        }
        let endian = (bytes[126], bytes[127])
        let little: Bool
        switch endian {
        case (0x49, 0x4D): little = true   // "IM"
        case (0x4D, 0x49): little = false  // "MI"
        default:
            throw InputError(file: file, location: "header byte 126", expected: "the endian indicator IM or MI", found: "other bytes")
        }
        let r = ByteReader(bytes, file: file, littleEndian: little)
        var out: [(String, Value)] = []
        try elements(r, from: 128, to: bytes.count, context: "", depth: 0) { name, value in out.append((name, value)) }
        return out
    }

    /// Walks top-level data elements, inflating compressed ones.
    static func elements(_ r: ByteReader, from start: Int, to end: Int, context: String, depth: Int,
                         _ visit: (String, Value) throws -> Void) throws {
        var p = start
        var index = 0
        while p < end {
            if end - p < 8 { break }  // trailing padding
            let location = "\(context)element \(index) (byte \(p))"
            let tag = try tag(r, p, location: location)
            let dataStart = p + tag.headerSize
            guard tag.length <= end - dataStart else {
                throw InputError(file: r.file, location: location, expected: "\(tag.length) bytes of data", found: "\(end - dataStart) left (truncated file?)")
            }
            switch tag.type {
            case 15:  // miCOMPRESSED
                guard depth < 2 else {
                    throw InputError(file: r.file, location: location, expected: "no nested compressed element", found: "one")
                }
                let inflated: [UInt8]
                switch Inflater.inflate(try r.slice(dataStart, tag.length, "compressed data", location: location), raw: false,
                                        limit: max(1 << 20, min(1 << 31, tag.length.multipliedReportingOverflow(by: 1100).partialValue))) {
                case .success(let b): inflated = b
                case .failure(.truncated):
                    throw InputError(file: r.file, location: location, expected: "a complete zlib stream", found: "it ends early (truncated file?)")
                case .failure(.tooLarge(let limit)):
                    throw InputError(file: r.file, location: location, expected: "compressed data under \(limit) bytes inflated", found: "more")
                case .failure(.corrupt(let why)):
                    throw InputError(file: r.file, location: location, expected: "valid zlib data", found: "corrupt data (\(why))")
                }
                let inner = ByteReader(inflated, file: r.file, littleEndian: r.littleEndian)
                try elements(inner, from: 0, to: inflated.count, context: "\(location), inflated ", depth: depth + 1, visit)
                p = dataStart + tag.length
            case 14:  // miMATRIX
                let (name, value) = try matrix(r, dataStart, length: tag.length, location: location, depth: 0)
                try visit(name, value)
                p = dataStart + padded(tag.length)
            default:
                throw InputError(file: r.file, location: location, expected: "a matrix (miMATRIX) or compressed element",
                                 found: "data type \(tag.type)")
            }
            index += 1
        }
    }

    struct Tag { var type: Int; var length: Int; var headerSize: Int }

    /// A data-element tag; the small format packs length and type in 4 bytes and the data in 4.
    static func tag(_ r: ByteReader, _ p: Int, location: String) throws -> Tag {
        let first = try r.u32(p, "element tag", location: location)
        if first >> 16 != 0 {
            return Tag(type: first & 0xFFFF, length: first >> 16, headerSize: 4)
        }
        return Tag(type: first, length: try r.u32(p + 4, "element length", location: location), headerSize: 8)
    }

    static func padded(_ n: Int) -> Int { (n + 7) / 8 * 8 }

    /// A sub-element inside a matrix: its tag and where its data lives.
    static func subelement(_ r: ByteReader, _ p: Int, end: Int, what: String, location: String) throws -> (Tag, Int, Int) {
        guard p < end else {
            throw InputError(file: r.file, location: location, expected: what, found: "the end of the matrix element")
        }
        let t = try tag(r, p, location: location)
        let dataStart = p + t.headerSize
        guard t.length <= end - dataStart else {
            throw InputError(file: r.file, location: location, expected: "\(t.length) bytes for \(what)", found: "\(max(0, end - dataStart)) left")
        }
        let next = t.headerSize == 4 ? p + 8 : dataStart + padded(t.length)
        return (t, dataStart, next)
    }

    static func storageKind(_ type: Int) -> NumericDecoding.Kind? {
        switch type {
        case 1: .signed(1)
        case 2: .unsigned(1)
        case 3: .signed(2)
        case 4: .unsigned(2)
        case 5: .signed(4)
        case 6: .unsigned(4)
        case 7: .float32
        case 9: .float64
        case 12: .signed(8)
        case 13: .unsigned(8)
        default: nil
        }
    }

    static let classNames = [1: "cell array", 2: "struct", 3: "object", 4: "char array", 5: "sparse matrix",
                             16: "function handle", 17: "opaque object"]

    /// Parses one miMATRIX element body: flags, dimensions, name, then the class's data.
    static func matrix(_ r: ByteReader, _ start: Int, length: Int, location: String, depth: Int) throws -> (String, Value) {
        let end = start + length
        if length == 0 { return ("", .numeric(NDArray(shape: [0, 0], values: []))) }  // an empty cell slot
        guard depth < maxDepth else {
            throw InputError(file: r.file, location: location, expected: "cells nested at most \(maxDepth) deep", found: "deeper nesting")
        }
        let (flagsTag, flagsStart, afterFlags) = try subelement(r, start, end: end, what: "array flags", location: location)
        guard flagsTag.type == 6, flagsTag.length >= 8 else {
            throw InputError(file: r.file, location: location, expected: "array flags (miUINT32, 8 bytes)", found: "type \(flagsTag.type), \(flagsTag.length) bytes")
        }
        let flagWord = try r.u32(flagsStart, "array flags", location: location)
        let mxClass = flagWord & 0xFF
        let isComplex = flagWord & 0x800 != 0
        let (dimsTag, dimsStart, afterDims) = try subelement(r, afterFlags, end: end, what: "dimensions", location: location)
        guard dimsTag.type == 5, dimsTag.length % 4 == 0, dimsTag.length >= 8 else {
            throw InputError(file: r.file, location: location, expected: "dimensions (miINT32, at least 2)", found: "type \(dimsTag.type), \(dimsTag.length) bytes")
        }
        var shape: [Int] = []
        for k in 0..<(dimsTag.length / 4) {
            let d = Int(Int32(truncatingIfNeeded: try r.u32(dimsStart + 4 * k, "dimension", location: location)))
            guard d >= 0 else {
                throw InputError(file: r.file, location: location, expected: "non-negative dimensions", found: "\(d)")
            }
            shape.append(d)
        }
        let (nameTag, nameStart, afterName) = try subelement(r, afterDims, end: end, what: "array name", location: location)
        guard nameTag.type == 1 || nameTag.type == 2 || nameTag.type == 16 else {
            throw InputError(file: r.file, location: location, expected: "an array name (miINT8)", found: "type \(nameTag.type)")
        }
        let name = String(decoding: try r.slice(nameStart, nameTag.length, "name", location: location), as: UTF8.self)
        let here = name.isEmpty ? location : "\(name)"
        guard let count = checkedProduct(shape, limit: 1 << 32) else {
            throw InputError(file: r.file, location: here, expected: "dimensions of plausible size", found: "\(shape)")
        }
        switch mxClass {
        case 6...15:  // double, single, int8 … uint64
            guard !isComplex else {
                throw InputError(file: r.file, location: here, expected: "a real array", found: "a complex array")
            }
            let (dataTag, dataStart, _) = try subelement(r, afterName, end: end, what: "the real part", location: here)
            guard let kind = storageKind(dataTag.type) else {
                throw InputError(file: r.file, location: here, expected: "numeric data", found: "data type \(dataTag.type)")
            }
            guard dataTag.length == count * kind.size else {
                throw InputError(file: r.file, location: here, expected: "\(count) values (\(count * kind.size) bytes) for shape \(shape)",
                                 found: "\(dataTag.length) bytes")
            }
            let raw = try r.slice(dataStart, dataTag.length, "values", location: here)
            let values = NumericDecoding.decode(raw, kind: kind, count: count, littleEndian: r.littleEndian)
            return (name, .numeric(NDArray.fromColumnMajor(shape: shape, values: values)))
        case 1:  // cell: one miMATRIX per slot, column-major
            var items: [Value] = []
            var p = afterName
            for k in 0..<count {
                let (t, s, next) = try subelement(r, p, end: end, what: "cell \(k + 1) of \(count)", location: here)
                guard t.type == 14 else {
                    throw InputError(file: r.file, location: "\(here){\(k + 1)}", expected: "a matrix element", found: "data type \(t.type)")
                }
                items.append(try matrix(r, s, length: t.length, location: "\(here){\(k + 1)}", depth: depth + 1).1)
                p = next
            }
            return (name, .cell(shape: shape, items: items))
        default:
            return (name, .unsupported("a \(classNames[mxClass] ?? "MATLAB class \(mxClass)")"))
        }
    }

    // MARK: Networks

    static func network(_ variables: [(name: String, value: Value)], file: String) throws -> Network {
        let name = WeightArrays.baseName(file)
        var dict: [String: Value] = [:]
        for v in variables { dict[v.name] = v.value }
        if let weights = dict["weights"] {
            return .feedforward(try lipSDP(weights, biases: dict["biases"], name: name, file: file))
        }
        let numeric = variables.compactMap { v -> WeightArrays.Named? in
            if case .numeric(let a) = v.value { return WeightArrays.Named(name: v.name, array: a) }
            return nil
        }
        if numeric.contains(where: { $0.name.range(of: #"^(conv|fc)\d+_weight$"#, options: .regularExpression) != nil }) {
            return .feedforward(try glipSDP(numeric, name: name, file: file))
        }
        let hasWeights = numeric.contains { WeightArrays.split($0.name, words: WeightArrays.weightWords) != nil }
            || (dict["U"] != nil && dict["Wout"] != nil) || (dict["A"] != nil && dict["B"] != nil && dict["C"] != nil)
        if !hasWeights {
            let listing = variables.prefix(10).map { "\($0.name) (\($0.value.kindText))" }.joined(separator: ", ")
            throw InputError(file: file, expected: "network weights: a cell array `weights` (LipSDP), GLipSDP fcK_weight/convK_weight arrays, or W1, b1, …",
                             found: variables.isEmpty ? "no variables" : "only \(listing)\(variables.count > 10 ? ", …" : "")")
        }
        return try WeightArrays.network(numeric, name: name, file: file, formatHint: "MAT-file variables")
    }

    /// LipSDP: `weights{k}` is (out, in); `biases{k}` optional.
    static func lipSDP(_ weights: Value, biases: Value?, name: String, file: String) throws -> FeedforwardNetwork {
        let items: [Value]
        switch weights {
        case .cell(_, let cells): items = cells
        case .numeric(let a): items = [.numeric(a)]
        case .unsupported(let what):
            throw InputError(file: file, location: "weights", expected: "a cell array of weight matrices", found: what)
        }
        guard !items.isEmpty else {
            throw InputError(file: file, location: "weights", expected: "at least one weight matrix", found: "an empty cell array")
        }
        var biasItems: [Value]? = nil
        if let biases {
            guard case .cell(_, let b) = biases else {
                throw InputError(file: file, location: "biases", expected: "a cell array of bias vectors", found: biases.kindText)
            }
            guard b.count == items.count else {
                throw InputError(file: file, location: "biases", expected: "\(items.count) bias vectors (one per weight)", found: "\(b.count)")
            }
            biasItems = b
        }
        var layers: [Layer] = []
        var width: Int? = nil
        for (k, item) in items.enumerated() {
            let location = "weights{\(k + 1)}"
            guard case .numeric(let a) = item, let m = a.matrix, m.rows > 0, m.columns > 0 else {
                throw InputError(file: file, location: location, expected: "a non-empty 2-D matrix (out x in)", found: item.kindText)
            }
            try WeightArrays.finite(a, location, file: file)
            if let w = width, m.columns != w {
                throw InputError(file: file, location: location, expected: "\(w) columns (the previous layer's outputs; LipSDP stores out x in)",
                                 found: "\(m.rows)x\(m.columns)")
            }
            var bias = [Double](repeating: 0, count: m.rows)
            if let biasItems {
                guard case .numeric(let b) = biasItems[k], let v = b.vector, v.count == m.rows else {
                    throw InputError(file: file, location: "biases{\(k + 1)}", expected: "\(m.rows) numbers", found: biasItems[k].kindText)
                }
                try WeightArrays.finite(b, "biases{\(k + 1)}", file: file)
                bias = v
            }
            layers.append(Layer(weight: m, bias: bias, activation: k == items.count - 1 ? .identity : .relu))
            width = m.rows
        }
        return FeedforwardNetwork(name: name, inputSize: layers[0].inputSize, layers: layers)
    }

    /// GLipSDP (ppauli/GLipSDP `Comparison/exports`): convolutions then fully connected layers.
    static func glipSDP(_ arrays: [WeightArrays.Named], name: String, file: String) throws -> FeedforwardNetwork {
        var dict: [String: NDArray] = [:]
        for a in arrays { dict[a.name] = a.array }
        func indexed(_ prefix: String) -> [Int] {
            arrays.compactMap { a -> Int? in
                guard a.name.hasPrefix(prefix), a.name.hasSuffix("_weight") else { return nil }
                return Int(a.name.dropFirst(prefix.count).dropLast("_weight".count))
            }.sorted()
        }
        let convs = indexed("conv"), fcs = indexed("fc")
        for (list, prefix) in [(convs, "conv"), (fcs, "fc")] where list != Array(1...max(1, list.count)) && !list.isEmpty {
            throw InputError(file: file, location: "\(prefix)*_weight", expected: "\(prefix)1_weight … numbered from 1 without gaps",
                             found: list.map { "\(prefix)\($0)_weight" }.joined(separator: ", "))
        }
        guard !fcs.isEmpty else {
            throw InputError(file: file, location: "fc1_weight", expected: "at least one fully connected layer fcK_weight", found: "none")
        }
        func bias(_ key: String, count: Int) throws -> [Double] {
            guard let b = dict[key] else { return [Double](repeating: 0, count: count) }
            try WeightArrays.finite(b, key, file: file)
            guard let v = b.vector, v.count == count else {
                throw InputError(file: file, location: key, expected: "\(count) numbers", found: "shape \(b.shapeText)")
            }
            return v
        }
        var layers: [Layer] = []
        var inputSize: Int
        // Image geometry: channels from the first kernel, the side from input_mean's length.
        var channels = 1, side = 0
        if let first = convs.first, let k = dict["conv\(first)_weight"], k.shape.count == 4 {
            channels = k.shape[2]
            let total = dict["input_mean"]?.count ?? dict["input_scale"]?.count ?? 0
            let s = Int(Double(total / max(1, channels)).squareRoot().rounded())
            guard total > 0, s * s * channels == total else {
                throw InputError(file: file, location: "input_mean", expected: "c_in x side² numbers, giving the square image size for the convolutions",
                                 found: total == 0 ? "no input_mean/input_scale" : "\(total) with \(channels) channel(s)")
            }
            side = s
            inputSize = total
        } else {
            guard let w = dict["fc1_weight"], w.shape.count == 2 else {
                throw InputError(file: file, location: "fc1_weight", expected: "a 2-D (in, out) matrix", found: dict["fc1_weight"].map { "shape \($0.shapeText)" } ?? "nothing")
            }
            inputSize = w.shape[0]
        }
        var width = inputSize
        for k in convs {
            let key = "conv\(k)_weight"
            let w = dict[key]!
            try WeightArrays.finite(w, key, file: file)
            guard w.shape.count == 4, w.shape[0] % 2 == 1, w.shape[1] % 2 == 1, w.shape[2] == channels, w.count > 0 else {
                throw InputError(file: file, location: key, expected: "an odd (kh, kw, \(channels), c_out) kernel (stride 1, same padding)",
                                 found: "shape \(w.shapeText)")
            }
            let (kh, kw, cin, cout) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
            // To ONNX's (c_out, c_in, kh, kw).
            var kernel = [Double](repeating: 0, count: w.count)
            for a in 0..<kh { for b in 0..<kw { for c in 0..<cin { for o in 0..<cout {
                kernel[((o * cin + c) * kh + a) * kw + b] = w.values[((a * kw + b) * cin + c) * cout + o]
            } } } }
            let geometry = ConvGeometry(inChannels: cin, outChannels: cout, inHeight: side, inWidth: side, kernelHeight: kh, kernelWidth: kw,
                                        strideH: 1, strideW: 1, padTop: kh / 2, padLeft: kw / 2, padBottom: kh / 2, padRight: kw / 2,
                                        dilationH: 1, dilationW: 1, groups: 1)
            if let problem = geometry.problem {
                throw InputError(file: file, location: key, expected: "a convolution that fits the \(side)x\(side) input", found: problem)
            }
            let matrix = geometry.toeplitz(kernel: kernel)
            let b = try bias("conv\(k)_bias", count: cout)
            let fullBias = (0..<cout).flatMap { o in [Double](repeating: b[o], count: geometry.outHeight * geometry.outWidth) }
            layers.append(Layer(weight: .sparse(matrix), bias: fullBias, activation: .relu))
            channels = cout
            width = matrix.rows
        }
        for (n, k) in fcs.enumerated() {
            let key = "fc\(k)_weight"
            let w = dict[key]!
            try WeightArrays.finite(w, key, file: file)
            guard let m = w.matrix, m.rows == width, m.columns > 0 else {
                throw InputError(file: file, location: key, expected: "a (\(width), out) matrix (GLipSDP stores in x out)", found: "shape \(w.shapeText)")
            }
            let weight = m.transposed
            layers.append(Layer(weight: weight, bias: try bias("fc\(k)_bias", count: weight.rows),
                                activation: n == fcs.count - 1 ? .identity : .relu))
            width = weight.rows
        }
        return FeedforwardNetwork(name: name, inputSize: inputSize, layers: layers)
    }
}
