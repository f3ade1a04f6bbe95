import Foundation
import LipscopeLinearAlgebra
import ONNXProto
import SwiftProtobuf

/// ONNX models (protobuf `ModelProto`) whose graph is a chain from one input to one output.
///
/// The graph is traced symbolically with batch size 1 (a symbolic dimension counts as 1): every
/// affine node (MatMul, Gemm, Add/Sub/Mul/Div by constants, Conv, BatchNormalization,
/// AveragePool, GlobalAveragePool, Pad, Flatten, Reshape, Transpose, Squeeze, Unsqueeze,
/// Identity, Dropout) is composed into one pending affine map on the flattened (C-order) tensor,
/// and each activation (Relu, LeakyRelu, Tanh, Sigmoid, Elu, Softplus, Gelu) closes a layer. Convolutions are thus
/// their exact Toeplitz matrices, stored sparse. Anything else (MaxPool, residual branches,
/// Softmax, …) is refused with the node's name and op type.
public enum ONNXFormat {
    public static func read(_ bytes: [UInt8], file: String) throws -> Network {
        let model: Onnx_ModelProto
        do {
            var options = BinaryDecodingOptions()
            options.messageDepthLimit = 64
            model = try Onnx_ModelProto(serializedBytes: bytes, options: options)
        } catch {
            throw InputError(file: file, expected: "an ONNX model (protobuf ModelProto)", found: "undecodable data (\(error))")
        }
        guard model.hasGraph, !model.graph.node.isEmpty else {
            throw InputError(file: file, location: "graph", expected: "an ONNX graph with nodes", found: bytes.isEmpty ? "an empty file" : "no graph nodes (not an ONNX model?)")
        }
        for opset in model.opsetImport where opset.domain != "" && opset.domain != "ai.onnx" {
            // Only nodes of other domains are a problem; they are caught per node below.
            _ = opset
        }
        var tracer = try Tracer(graph: model.graph, file: file)
        let name = model.graph.name.isEmpty || model.graph.name.count > 80 ? WeightArrays.baseName(file) : WeightArrays.baseName(file)
        do {
            return .feedforward(try tracer.run(name: name))
        } catch let branch as ONNXGraphImport.Branch {
            // Skip connections or branches: the general graph importer (ONNXGraphImport.swift).
            return .graph(try ONNXGraphImport.read(model.graph, file: file, name: name, branch: branch))
        }
    }

    // MARK: Tensors

    static func tensor(_ t: Onnx_TensorProto, file: String, location: String) throws -> NDArray {
        if t.dataLocation == .external || !t.externalData.isEmpty {
            throw InputError(file: file, location: location, expected: "weights stored inside the .onnx file",
                             found: "external data (save the model with all tensors inline)")
        }
        let shape = t.dims.map { Int(clamping: $0) }
        guard let count = checkedProduct(shape, limit: 1 << 28) else {
            throw InputError(file: file, location: location, expected: "tensor dimensions of plausible size", found: "\(t.dims)")
        }
        let type = Int(t.dataType)
        let kind: NumericDecoding.Kind? = switch type {
        case 1: .float32
        case 2: .unsigned(1)
        case 3: .signed(1)
        case 4: .unsigned(2)
        case 5: .signed(2)
        case 6: .signed(4)
        case 7: .signed(8)
        case 9: .bool
        case 10: .float16
        case 11: .float64
        case 12: .unsigned(4)
        case 13: .unsigned(8)
        default: nil
        }
        guard let kind else {
            throw InputError(file: file, location: location, expected: "a real numeric tensor (float, double, integer)", found: "ONNX data type \(type)")
        }
        var values: [Double]
        if !t.rawData.isEmpty {
            let raw = [UInt8](t.rawData)
            guard raw.count == count * kind.size else {
                throw InputError(file: file, location: location, expected: "\(count * kind.size) bytes of raw data for dims \(t.dims)", found: "\(raw.count)")
            }
            values = NumericDecoding.decode(raw[...], kind: kind, count: count, littleEndian: true)
        } else {
            switch type {
            case 1: values = t.floatData.map(Double.init)
            case 11: values = t.doubleData
            case 7: values = t.int64Data.map { Double($0) }
            case 12, 13: values = t.uint64Data.map { Double($0) }
            case 10: values = t.int32Data.map { NumericDecoding.halfToDouble(UInt16(truncatingIfNeeded: $0)) }
            default: values = t.int32Data.map { Double($0) }
            }
            guard values.count == count else {
                throw InputError(file: file, location: location, expected: "\(count) values for dims \(t.dims)", found: "\(values.count)")
            }
        }
        return NDArray(shape: shape, values: values)
    }

    /// An integer from a tensor value; NaN and out-of-range values become Int.max (then refused).
    static func safeInt(_ v: Double) -> Int {
        guard v.isFinite, abs(v) < 9e15 else { return Int.max }
        return Int(v.rounded())
    }

    // MARK: Affine maps on flattened tensors

    /// A sparse linear map in CSR form (rows = outputs).
    struct Sparse {
        var rows: Int
        var columns: Int
        var rowStart: [Int]
        var cols: [Int]
        var vals: [Double]

        static func identity(_ n: Int) -> Sparse {
            Sparse(rows: n, columns: n, rowStart: Array(0...n), cols: Array(0..<n), vals: [Double](repeating: 1, count: n))
        }

        /// Builds row by row; `row(i, emit)` emits (column, value) pairs, distinct columns per row.
        static func build(rows: Int, columns: Int, _ row: (Int, (Int, Double) -> Void) -> Void) -> Sparse {
            var s = Sparse(rows: rows, columns: columns, rowStart: [0], cols: [], vals: [])
            s.rowStart.reserveCapacity(rows + 1)
            for i in 0..<rows {
                row(i) { j, v in if v != 0 { s.cols.append(j); s.vals.append(v) } }
                s.rowStart.append(s.cols.count)
            }
            return s
        }

        var nonzeros: Int { vals.count }

        func apply(_ x: [Double]) -> [Double] {
            (0..<rows).map { i in
                var sum = 0.0
                for p in rowStart[i]..<rowStart[i + 1] { sum += vals[p] * x[cols[p]] }
                return sum
            }
        }

        /// self · other (self is m×n, other n×k).
        func times(_ other: Sparse) -> Sparse {
            var out = Sparse(rows: rows, columns: other.columns, rowStart: [0], cols: [], vals: [])
            var accumulator = [Double](repeating: 0, count: other.columns)
            var marker = [Int](repeating: -1, count: other.columns)
            var touched: [Int] = []
            for i in 0..<rows {
                touched.removeAll(keepingCapacity: true)
                for p in rowStart[i]..<rowStart[i + 1] {
                    let a = vals[p], k = cols[p]
                    for q in other.rowStart[k]..<other.rowStart[k + 1] {
                        let j = other.cols[q]
                        if marker[j] != i { marker[j] = i; accumulator[j] = 0; touched.append(j) }
                        accumulator[j] += a * other.vals[q]
                    }
                }
                touched.sort()
                for j in touched where accumulator[j] != 0 { out.cols.append(j); out.vals.append(accumulator[j]) }
                out.rowStart.append(out.cols.count)
            }
            return out
        }

        var weight: WeightMatrix {
            let total = Double(rows) * Double(columns)
            if rows * columns >= 64, Double(nonzeros) <= WeightMatrix.sparseDensityThreshold * total {
                return .sparse(SparseMatrix(rows: rows, columns: columns, rowStart: rowStart, columnIndex: cols, values: vals))
            }
            var m = Matrix(rows: rows, columns: columns)
            for i in 0..<rows { for p in rowStart[i]..<rowStart[i + 1] { m[i, cols[p]] = vals[p] } }
            return .dense(m)
        }
    }

    // MARK: The tracer

    enum Slot { case constant(NDArray), computed }

    struct Tracer {
        let graph: Onnx_GraphProto
        let file: String
        var slots: [String: Slot] = [:]
        var current: String = ""
        var shape: [Int] = []
        /// Pending affine map from the last activation's output (or the network input): nil = identity.
        var pending: Sparse? = nil
        var offset: [Double] = []
        var width: Int = 0  // size of the last activation's output
        var inputSize: Int = 0
        var layers: [Layer] = []
        /// How ops outside the plain chain were lowered (shown by `info`).
        var notes: [String] = []
        /// Convolution metadata for the layer being built (ConvolutionTracking.swift).
        var convolution = ConvolutionTracking()

        init(graph: Onnx_GraphProto, file: String) throws {
            self.graph = graph
            self.file = file
            for (k, t) in graph.initializer.enumerated() {
                let where_ = "initializer \(t.name.isEmpty ? "#\(k)" : t.name)"
                slots[t.name] = .constant(try ONNXFormat.tensor(t, file: file, location: where_))
            }
            let inputs = graph.input.filter { slots[$0.name] == nil }
            guard inputs.count == 1, let input = inputs.first else {
                throw InputError(file: file, location: "graph.input", expected: "exactly one network input (besides initializers)",
                                 found: inputs.isEmpty ? "none" : "\(inputs.count): " + inputs.prefix(5).map(\.name).joined(separator: ", "))
            }
            guard input.type.tensorType.hasShape else {
                throw InputError(file: file, location: "input \(input.name)", expected: "a tensor input with a known shape", found: "no shape")
            }
            var dims: [Int] = []
            for (k, d) in input.type.tensorType.shape.dim.enumerated() {
                switch d.value {
                case .dimValue(let v) where v > 0:
                    guard v <= 1 << 24 else {
                        throw InputError(file: file, location: "input \(input.name) dimension \(k)", expected: "a plausible size", found: "\(v)")
                    }
                    dims.append(Int(v))
                case .dimParam where k == 0, .none where k == 0, .dimValue(0) where k == 0:
                    dims.append(1)  // the batch dimension
                default:
                    throw InputError(file: file, location: "input \(input.name) dimension \(k)",
                                     expected: "a fixed size (only the first, batch, dimension may be symbolic)", found: "\(d.value.map { "\($0)" } ?? "nothing")")
                }
            }
            guard let n = checkedProduct(dims, limit: 1 << 24), n > 0 else {
                throw InputError(file: file, location: "input \(input.name)", expected: "a non-empty input of plausible size", found: "shape \(dims)")
            }
            slots[input.name] = .computed
            current = input.name
            shape = dims.isEmpty ? [1] : dims
            inputSize = n
            width = n
            pending = nil
            offset = [Double](repeating: 0, count: n)
        }

        var count: Int { shape.reduce(1, *) }

        func fail(_ node: Onnx_NodeProto, _ index: Int, expected: String, found: String) -> InputError {
            InputError(file: file, location: Tracer.describe(node, index), expected: expected, found: found)
        }

        static func describe(_ node: Onnx_NodeProto, _ index: Int) -> String {
            "node \(index) '\(node.name.isEmpty ? (node.output.first ?? "?") : node.name)' (\(node.opType))"
        }

        mutating func run(name: String) throws -> FeedforwardNetwork {
            for (index, node) in graph.node.enumerated() {
                try step(node, index)
            }
            guard graph.output.count == 1, let output = graph.output.first else {
                throw InputError(file: file, location: "graph.output", expected: "exactly one output", found: "\(graph.output.count)")
            }
            guard output.name == current else {
                throw ONNXGraphImport.Branch(error: InputError(file: file, location: "graph.output", expected: "the output to be the end of the chain ('\(current)')",
                                 found: "'\(output.name)'"))
            }
            if pending != nil || offset.contains(where: { $0 != 0 }) || layers.isEmpty {
                closeLayer(.identity)
            }
            var net = FeedforwardNetwork(name: name, inputSize: inputSize, layers: layers)
            net.annotations.notes = notes
            return net
        }

        mutating func closeLayer(_ activation: Activation) {
            let map = pending ?? Sparse.identity(width)
            var layer = Layer(weight: map.weight, bias: offset, activation: activation)
            layer.annotations.convolution = convolution.closeLayer()
            layers.append(layer)
            width = map.rows
            pending = nil
            offset = [Double](repeating: 0, count: width)
        }

        /// Applies y = L x + b to the current tensor.
        mutating func affine(_ l: Sparse, bias: [Double]?, newShape: [Int]) {
            convolution.compose(l)
            let composed = pending.map { l.times($0) } ?? l
            var c = l.apply(offset)
            if let bias { for i in 0..<c.count { c[i] += bias[i] } }
            pending = composed
            offset = c
            shape = newShape
        }

        /// Classifies a node's inputs into the (single) computed one and constants.
        func operands(_ node: Onnx_NodeProto, _ index: Int) throws -> (computed: Int?, constants: [Int: NDArray]) {
            var computed: Int? = nil
            var constants: [Int: NDArray] = [:]
            for (k, name) in node.input.enumerated() where !name.isEmpty {
                switch slots[name] {
                case .constant(let a): constants[k] = a
                case .computed:
                    guard name == current else {
                        throw ONNXGraphImport.Branch(error: fail(node, index, expected: "a chain (each node consumes the tensor the previous one computed)",
                                                                 found: "input '\(name)' computed earlier: a branch or residual connection"))
                    }
                    guard computed == nil else {
                        throw ONNXGraphImport.Branch(error: fail(node, index, expected: "one computed input and constants", found: "the computed tensor used twice"))
                    }
                    computed = k
                case nil:
                    throw fail(node, index, expected: "inputs defined earlier in the graph", found: "unknown tensor '\(name)'")
                }
            }
            return (computed, constants)
        }

        /// One node, in three phases: where its inputs come from (the chain's current tensor and
        /// constants), what it does to the pending affine map (or the layer it closes), and its
        /// output becoming the chain's current tensor.
        mutating func step(_ node: Onnx_NodeProto, _ index: Int) throws {
            if node.domain != "" && node.domain != "ai.onnx" {
                throw fail(node, index, expected: "an operator of the standard ONNX domain", found: "domain '\(node.domain)'")
            }
            let attrs = Attributes(node: node, index: index, file: file)
            if node.opType == "Constant" {
                guard node.output.count == 1 else { throw fail(node, index, expected: "one output", found: "\(node.output.count)") }
                slots[node.output[0]] = .constant(try attrs.constantValue())
                return
            }
            if try foldConstant(node, index, attrs) { return }  // ConstantFolding.swift
            let (inputs, out) = try dataPathInputs(node, index)
            try apply(attrs, inputs)
            slots[out] = .computed
            current = out
        }

        /// A node's inputs once classified: which one is the data (the chain's current tensor)
        /// and which are constants.
        struct NodeInputs {
            let node: Onnx_NodeProto
            let index: Int
            let file: String
            /// The input position of the data.
            let data: Int
            let constants: [Int: NDArray]

            /// Input `k`, which must be a constant.
            func constant(_ k: Int, _ what: String) throws -> NDArray {
                guard let c = constants[k] else {
                    throw InputError(file: file, location: Tracer.describe(node, index),
                                     expected: "\(what) as a constant (initializer or Constant node)",
                                     found: k < node.input.count ? "the computed tensor '\(node.input[k])'" : "nothing")
                }
                return c
            }
        }

        /// The inputs of a node that must lie on the data path, and its output's name.
        func dataPathInputs(_ node: Onnx_NodeProto, _ index: Int) throws -> (NodeInputs, output: String) {
            let (computedIndex, constants) = try operands(node, index)
            guard let x = computedIndex else {
                throw fail(node, index, expected: "a node on the network's data path (constant subgraphs are not evaluated)",
                           found: "only constant inputs")
            }
            guard let out = node.output.first, !out.isEmpty else {
                throw fail(node, index, expected: "an output name", found: "none")
            }
            return (NodeInputs(node: node, index: index, file: file, data: x, constants: constants), out)
        }

        /// Applies one data-path node by its op type.
        mutating func apply(_ attrs: Attributes, _ inputs: NodeInputs) throws {
            let node = inputs.node, index = inputs.index
            let op = node.opType
            switch op {
            case "Relu": closeLayer(.relu)
            case "LeakyRelu": closeLayer(.leakyRelu(slope: attrs.float("alpha", 0.01)))
            case "Tanh": closeLayer(.tanh)
            case "Sigmoid": closeLayer(.sigmoid)
            case "Elu":
                let alpha = attrs.float("alpha", 1)
                guard alpha >= 0 else { throw fail(node, index, expected: "an Elu alpha ≥ 0", found: "\(alpha)") }
                closeLayer(.elu(alpha: alpha))
            case "Softplus": closeLayer(.softplus)
            case "Gelu":
                // Opset 20: approximate = "none" (x·Φ(x)) or "tanh" (a different function).
                let approximate = attrs.string("approximate") ?? "none"
                guard approximate == "none" else {
                    throw fail(node, index, expected: "Gelu with approximate=\"none\" (the exact, erf-based GELU)",
                               found: "approximate=\"\(approximate)\", the tanh approximation, which lipscope does not model")
                }
                closeLayer(.gelu)
            case "Identity", "Dropout":
                break
            case "Flatten", "Reshape", "Squeeze", "Unsqueeze":
                shape = try reshapedShape(attrs, inputs)
            case "Transpose":
                try transpose(attrs, node, index)
            case "Add", "Sub", "Mul", "Div":
                try elementwise(inputs)
            case "MatMul":
                let w = try inputs.constant(1 - inputs.data, "the weight matrix")
                try finite(w, node, index)
                guard w.shape.count == 2 else {
                    throw fail(node, index, expected: "a 2-D constant weight", found: "shape \(w.shape)")
                }
                try matmul(w, dataFirst: inputs.data == 0, node, index)
            case "Gemm":
                try gemm(attrs, inputs)
            case "Conv":
                try conv(attrs, weight: try inputs.constant(1, "the kernel W"), bias: inputs.constants[2], node, index)
            case "BatchNormalization":
                try batchNormalization(attrs, inputs)
            case "AveragePool", "GlobalAveragePool":
                try averagePool(attrs, global: op == "GlobalAveragePool", node, index)
            case "Pad":
                try pad(attrs, inputs.constants, node, index)
            case "MaxPool":
                try maxPool(attrs, node, index)  // MaxPoolLowering.swift
            case "Max", "Min":
                try maxOrMinWithConstant(inputs)  // MaxPoolLowering.swift
            default:
                throw fail(node, index, expected: "a supported op (Gemm, MatMul, Add, Sub, Mul, Div, Conv, BatchNormalization, AveragePool, MaxPool, Max/Min with a constant, Pad, Flatten, Reshape, Transpose, Relu, LeakyRelu, Tanh, Sigmoid, Elu, Softplus, Gelu, Identity; SiLU written as Mul(x, Sigmoid(x)) is not read: export it as a single op or use the native JSON \"silu\")",
                           found: "op type \(op)")
            }
        }

        // MARK: Ops

        /// Flatten, Reshape, Squeeze, Unsqueeze: the values stay in place (C order), only the
        /// shape changes.
        func reshapedShape(_ attrs: Attributes, _ inputs: NodeInputs) throws -> [Int] {
            let node = inputs.node, index = inputs.index, constants = inputs.constants
            switch node.opType {
            case "Flatten":
                var axis = attrs.int("axis", 1)
                if axis < 0 { axis += shape.count }
                guard axis >= 0, axis <= shape.count else {
                    throw fail(node, index, expected: "an axis in 0…\(shape.count)", found: "\(attrs.int("axis", 1))")
                }
                return [shape[..<axis].reduce(1, *), shape[axis...].reduce(1, *)]
            case "Reshape":
                let target: [Int]
                if let c = constants[1] { target = c.values.map(ONNXFormat.safeInt) }
                else if let s = attrs.ints("shape") { target = s }
                else { throw fail(node, index, expected: "a constant target shape", found: "none") }
                return try reshaped(target, allowZero: attrs.int("allowzero", 0) != 0, node, index)
            case "Squeeze":
                let axes = constants[1].map { $0.values.map(ONNXFormat.safeInt) } ?? attrs.ints("axes") ?? []
                let normal = try axes.map { try normalizedAxis($0, rank: shape.count, node, index) }
                if axes.isEmpty { return shape.filter { $0 != 1 } }
                guard normal.allSatisfy({ shape[$0] == 1 }) else { throw fail(node, index, expected: "axes of size 1", found: "shape \(shape), axes \(axes)") }
                return shape.enumerated().filter { !normal.contains($0.offset) }.map(\.element)
            default:  // Unsqueeze
                guard let axes = constants[1].map({ $0.values.map(ONNXFormat.safeInt) }) ?? attrs.ints("axes") else {
                    throw fail(node, index, expected: "axes", found: "none")
                }
                let rank = shape.count + axes.count
                let normal = try axes.map { try normalizedAxis($0, rank: rank, node, index) }.sorted()
                var s = shape
                for a in normal { s.insert(1, at: min(a, s.count)) }
                return s
            }
        }

        /// Transpose: a permutation matrix on the flattened tensor.
        mutating func transpose(_ attrs: Attributes, _ node: Onnx_NodeProto, _ index: Int) throws {
            let n = count
            let rank = shape.count
            let perm = attrs.ints("perm") ?? Array((0..<rank).reversed())
            guard perm.count == rank, Set(perm) == Set(0..<rank) else {
                throw fail(node, index, expected: "a permutation of 0..<\(rank)", found: "\(perm)")
            }
            let newShape = perm.map { shape[$0] }
            let oldStrides = strides(shape)
            let l = Sparse.build(rows: n, columns: n) { i, emit in
                var rem = i, src = 0
                for (k, size) in newShape.enumerated().reversed() {
                    src += (rem % size) * oldStrides[perm[k]]
                    rem /= size
                }
                emit(src, 1)
            }
            affine(l, bias: nil, newShape: newShape)
        }

        /// Add, Sub, Mul, Div with a constant (broadcast): a shift or a diagonal scaling.
        mutating func elementwise(_ inputs: NodeInputs) throws {
            let node = inputs.node, index = inputs.index, x = inputs.data
            let n = count
            guard node.input.count == 2 else { throw fail(node, index, expected: "two inputs", found: "\(node.input.count)") }
            let c = try inputs.constant(1 - x, "the other operand")
            let b = try broadcast(c, node, index)
            switch (node.opType, x) {
            case ("Add", _): affine(.identity(n), bias: b, newShape: shape)
            case ("Sub", 0): affine(.identity(n), bias: b.map { -$0 }, newShape: shape)
            case ("Sub", _): affine(diagonal((0..<n).map { _ in -1 }), bias: b, newShape: shape)
            case ("Mul", _): affine(diagonal(b), bias: nil, newShape: shape)
            case ("Div", 0):
                guard b.allSatisfy({ $0 != 0 && (1 / $0).isFinite }) else {
                    throw fail(node, index, expected: "a non-zero divisor", found: "a zero (or tiny) divisor")
                }
                affine(diagonal(b.map { 1 / $0 }), bias: nil, newShape: shape)
            default:
                throw fail(node, index, expected: "division of the data by a constant", found: "a constant divided by the data (not affine)")
            }
        }

        /// Gemm: alpha · A' B' + beta · C with the data as A.
        mutating func gemm(_ attrs: Attributes, _ inputs: NodeInputs) throws {
            let node = inputs.node, index = inputs.index, x = inputs.data
            guard x == 0 else { throw fail(node, index, expected: "the data as Gemm's first input A", found: "it as input \(x)") }
            var w = try inputs.constant(1, "B (the weight)")
            try finite(w, node, index)
            guard w.shape.count == 2 else { throw fail(node, index, expected: "a 2-D B", found: "shape \(w.shape)") }
            if attrs.int("transA", 0) != 0 {
                guard shape.count == 2 else { throw fail(node, index, expected: "a 2-D A", found: "shape \(shape)") }
                transposeCurrent2D()
            }
            guard shape.count == 2 else { throw fail(node, index, expected: "a 2-D input A (batch, features)", found: "shape \(shape)") }
            if attrs.int("transB", 0) != 0 { w = NDArray(shape: [w.shape[1], w.shape[0]], values: transpose2D(w)) }
            let alpha = attrs.float("alpha", 1), beta = attrs.float("beta", 1)
            if alpha != 1 { w.values = w.values.map { alpha * $0 } }
            try matmul(w, dataFirst: true, node, index)
            if let c = inputs.constants[2] {
                try finite(c, node, index)
                let b = try broadcast(c, node, index)
                affine(.identity(count), bias: b.map { beta * $0 }, newShape: shape)
            }
        }

        /// BatchNormalization (inference): a per-channel scale and shift.
        mutating func batchNormalization(_ attrs: Attributes, _ inputs: NodeInputs) throws {
            let node = inputs.node, index = inputs.index
            let n = count
            guard attrs.int("training_mode", 0) == 0 else {
                throw fail(node, index, expected: "inference mode", found: "training_mode = 1")
            }
            guard shape.count >= 2 else { throw fail(node, index, expected: "an (N, C, …) input", found: "shape \(shape)") }
            let channels = shape[1]
            let parts = try (1...4).map { try inputs.constant($0, ["", "scale", "B", "mean", "var"][$0]) }
            for (k, p) in parts.enumerated() {
                try finite(p, node, index)
                guard p.count == channels else {
                    throw fail(node, index, expected: "\(["scale", "B", "mean", "var"][k]) with \(channels) values (channels)", found: "\(p.count)")
                }
            }
            let eps = attrs.float("epsilon", 1e-5)
            let factor = (0..<channels).map { parts[0].values[$0] / (parts[3].values[$0] + eps).squareRoot() }
            guard factor.allSatisfy(\.isFinite) else { throw fail(node, index, expected: "var + epsilon > 0", found: "a non-positive variance") }
            let inner = shape[2...].reduce(1, *)
            let scale = (0..<n).map { factor[($0 / inner) % channels] }
            let shift = (0..<n).map { i -> Double in let c = (i / inner) % channels; return parts[1].values[c] - factor[c] * parts[2].values[c] }
            affine(diagonal(scale), bias: shift, newShape: shape)
        }

        // MARK: Op helpers

        func finite(_ a: NDArray, _ node: Onnx_NodeProto, _ index: Int) throws {
            if let bad = a.values.first(where: { !$0.isFinite }) {
                throw fail(node, index, expected: "finite constants", found: "\(bad)")
            }
        }

        func strides(_ s: [Int]) -> [Int] {
            var out = [Int](repeating: 1, count: s.count)
            if s.count >= 2 { for k in stride(from: s.count - 2, through: 0, by: -1) { out[k] = out[k + 1] * s[k + 1] } }
            return out
        }

        func diagonal(_ d: [Double]) -> Sparse {
            Sparse(rows: d.count, columns: d.count, rowStart: Array(0...d.count), cols: Array(0..<d.count), vals: d)
        }

        func transpose2D(_ a: NDArray) -> [Double] {
            let r = a.shape[0], c = a.shape[1]
            var out = [Double](repeating: 0, count: a.count)
            for i in 0..<r { for j in 0..<c { out[j * r + i] = a.values[i * c + j] } }
            return out
        }

        mutating func transposeCurrent2D() {
            let r = shape[0], c = shape[1]
            let l = Sparse.build(rows: r * c, columns: r * c) { i, emit in emit((i % r) * c + i / r, 1) }
            affine(l, bias: nil, newShape: [c, r])
        }

        func normalizedAxis(_ a: Int, rank: Int, _ node: Onnx_NodeProto, _ index: Int) throws -> Int {
            let v = a < 0 ? a + rank : a
            guard v >= 0, v < rank else { throw fail(node, index, expected: "an axis in \(-rank)..<\(rank)", found: "\(a)") }
            return v
        }

        func reshaped(_ target: [Int], allowZero: Bool, _ node: Onnx_NodeProto, _ index: Int) throws -> [Int] {
            var s = target
            for k in s.indices where s[k] == 0 && !allowZero {
                guard k < shape.count else { throw fail(node, index, expected: "0 only where the input has that axis", found: "\(target)") }
                s[k] = shape[k]
            }
            let unknown = s.indices.filter { s[$0] == -1 }
            guard unknown.count <= 1, s.allSatisfy({ $0 >= -1 }) else {
                throw fail(node, index, expected: "a target shape with at most one -1", found: "\(target)")
            }
            let known = s.filter { $0 != -1 }
            guard let product = checkedProduct(known) else { throw fail(node, index, expected: "a plausible shape", found: "\(target)") }
            if let u = unknown.first {
                guard product > 0, count % product == 0 else {
                    throw fail(node, index, expected: "a shape compatible with \(count) values", found: "\(target)")
                }
                s[u] = count / product
            } else if product != count {
                throw fail(node, index, expected: "a shape with \(count) values (input shape \(shape))", found: "\(target)")
            }
            return s
        }

        /// NumPy broadcasting of a constant onto the current shape (which must not grow).
        func broadcast(_ c: NDArray, _ node: Onnx_NodeProto, _ index: Int) throws -> [Double] {
            try finite(c, node, index)
            let rank = shape.count
            guard c.shape.count <= rank || c.shape.prefix(c.shape.count - rank).allSatisfy({ $0 == 1 }) else {
                throw fail(node, index, expected: "a constant broadcastable to the data shape \(shape)", found: "shape \(c.shape)")
            }
            let cs = Array(([Int](repeating: 1, count: max(0, rank - c.shape.count)) + c.shape).suffix(rank))
            for k in 0..<rank where cs[k] != 1 && cs[k] != shape[k] {
                throw fail(node, index, expected: "a constant broadcastable to the data shape \(shape)", found: "shape \(c.shape)")
            }
            if c.count == 1 { return [Double](repeating: c.values[0], count: count) }
            let cStrides = strides(cs)
            return (0..<count).map { i in
                var rem = i, src = 0
                for k in stride(from: rank - 1, through: 0, by: -1) {
                    let idx = rem % shape[k]; rem /= shape[k]
                    if cs[k] != 1 { src += idx * cStrides[k] }
                }
                return c.values[src]
            }
        }

        /// data @ W (W: n×m on the last axis) or W @ data (W: m×n on the second-to-last axis).
        mutating func matmul(_ w: NDArray, dataFirst: Bool, _ node: Onnx_NodeProto, _ index: Int) throws {
            let wr = w.shape[0], wc = w.shape[1]
            if dataFirst {
                guard let last = shape.last, last == wr else {
                    throw fail(node, index, expected: "data with last axis \(wr) (weight \(wr)x\(wc))", found: "shape \(shape)")
                }
                let batch = count / wr
                let newShape = shape.count == 1 ? [wc] : Array(shape.dropLast()) + [wc]
                let l = Sparse.build(rows: batch * wc, columns: batch * wr) { row, emit in
                    let b = row / wc, j = row % wc
                    for i in 0..<wr { emit(b * wr + i, w.values[i * wc + j]) }
                }
                affine(l, bias: nil, newShape: newShape)
            } else {
                let rank = shape.count
                let (rowsIn, k) = rank == 1 ? (shape[0], 1) : (shape[rank - 2], shape[rank - 1])
                guard rowsIn == wc else {
                    throw fail(node, index, expected: "data with \(wc) rows for weight \(wr)x\(wc) on the left", found: "shape \(shape)")
                }
                let batch = count / (wc * k)
                let newShape = rank == 1 ? [wr] : Array(shape.dropLast(2)) + [wr, k]
                let l = Sparse.build(rows: batch * wr * k, columns: count) { row, emit in
                    let b = row / (wr * k), j = (row / k) % wr, t = row % k
                    for i in 0..<wc { emit(b * wc * k + i * k + t, w.values[j * wc + i]) }
                }
                affine(l, bias: nil, newShape: newShape)
            }
        }

        func spatial(_ attrs: Attributes, kernel: [Int], _ node: Onnx_NodeProto, _ index: Int) throws
            -> (strides: [Int], pads: [Int], dilations: [Int]) {
            let s = attrs.ints("strides") ?? [1, 1]
            let d = attrs.ints("dilations") ?? [1, 1]
            var p = attrs.ints("pads") ?? [0, 0, 0, 0]
            guard s.count == 2, d.count == 2, p.count == 4, s.allSatisfy({ $0 > 0 && $0 < 1 << 16 }), d.allSatisfy({ $0 > 0 && $0 < 1 << 16 }),
                  p.allSatisfy({ $0 >= 0 && $0 < 1 << 16 }) else {
                throw fail(node, index, expected: "2-D strides, dilations (positive) and 4 pads (non-negative)", found: "strides \(s), dilations \(d), pads \(p)")
            }
            let autoPad = attrs.string("auto_pad") ?? "NOTSET"
            switch autoPad {
            case "NOTSET", "": break
            case "VALID": p = [0, 0, 0, 0]
            case "SAME_UPPER", "SAME_LOWER":
                for axis in 0..<2 {
                    let size = shape[2 + axis]
                    let out = (size + s[axis] - 1) / s[axis]
                    let total = max(0, (out - 1) * s[axis] + (kernel[axis] - 1) * d[axis] + 1 - size)
                    let small = total / 2, large = total - small
                    p[axis] = autoPad == "SAME_UPPER" ? small : large
                    p[axis + 2] = autoPad == "SAME_UPPER" ? large : small
                }
            default:
                throw fail(node, index, expected: "auto_pad NOTSET, VALID, SAME_UPPER or SAME_LOWER", found: autoPad)
            }
            return (s, p, d)
        }

        mutating func conv(_ attrs: Attributes, weight: NDArray, bias: NDArray?, _ node: Onnx_NodeProto, _ index: Int) throws {
            try finite(weight, node, index)
            guard shape.count == 4, shape[0] == 1 else {
                throw fail(node, index, expected: "a 2-D convolution on an (N=1, C, H, W) tensor", found: "data shape \(shape)")
            }
            guard weight.shape.count == 4 else {
                throw fail(node, index, expected: "a 4-D kernel (c_out, c_in/groups, kh, kw)", found: "shape \(weight.shape)")
            }
            let groups = attrs.int("group", 1)
            let kernel = [weight.shape[2], weight.shape[3]]
            if let k = attrs.ints("kernel_shape"), k != kernel {
                throw fail(node, index, expected: "kernel_shape \(kernel) (the kernel's)", found: "\(k)")
            }
            let (s, p, d) = try spatial(attrs, kernel: kernel, node, index)
            let g = ConvGeometry(inChannels: shape[1], outChannels: weight.shape[0], inHeight: shape[2], inWidth: shape[3],
                                 kernelHeight: kernel[0], kernelWidth: kernel[1], strideH: s[0], strideW: s[1],
                                 padTop: p[0], padLeft: p[1], padBottom: p[2], padRight: p[3],
                                 dilationH: d[0], dilationW: d[1], groups: groups)
            if let problem = g.problem {
                throw fail(node, index, expected: "a consistent convolution", found: problem)
            }
            guard groups > 0, weight.shape[1] * groups == shape[1] else {
                throw fail(node, index, expected: "kernel input channels × group = \(shape[1]) data channels", found: "kernel \(weight.shape), group \(groups)")
            }
            let t = g.toeplitz(kernel: weight.values)
            var b: [Double]? = nil
            if let bias {
                try finite(bias, node, index)
                guard bias.count == g.outChannels else {
                    throw fail(node, index, expected: "a bias of \(g.outChannels) values", found: "\(bias.count)")
                }
                let plane = g.outHeight * g.outWidth
                b = (0..<g.outputSize).map { bias.values[$0 / plane] }
            }
            let l = Sparse(rows: t.rows, columns: t.columns, rowStart: t.rowStart, cols: t.columnIndex, vals: t.values)
            convolution.incoming = g.shape(kernel: weight.values)
            affine(l, bias: b, newShape: [1, g.outChannels, g.outHeight, g.outWidth])
        }

        mutating func averagePool(_ attrs: Attributes, global: Bool, _ node: Onnx_NodeProto, _ index: Int) throws {
            guard shape.count == 4, shape[0] == 1 else {
                throw fail(node, index, expected: "2-D pooling on an (N=1, C, H, W) tensor", found: "data shape \(shape)")
            }
            let (c, h, w) = (shape[1], shape[2], shape[3])
            let kernel = global ? [h, w] : (attrs.ints("kernel_shape") ?? [])
            guard kernel.count == 2, kernel.allSatisfy({ $0 > 0 && $0 < 1 << 16 }) else {
                throw fail(node, index, expected: "a 2-D kernel_shape", found: "\(kernel)")
            }
            let (s, p, d) = global ? ([1, 1], [0, 0, 0, 0], [1, 1]) : try spatial(attrs, kernel: kernel, node, index)
            let includePad = attrs.int("count_include_pad", 0) != 0
            let ceil = attrs.int("ceil_mode", 0) != 0
            func outSize(_ axis: Int) -> Int {
                let size = shape[2 + axis] + p[axis] + p[axis + 2] - d[axis] * (kernel[axis] - 1) - 1
                if size < 0 { return 0 }
                var o = (ceil ? (size + s[axis] - 1) / s[axis] : size / s[axis]) + 1
                if ceil, (o - 1) * s[axis] >= shape[2 + axis] + p[axis] { o -= 1 }
                return o
            }
            let oh = outSize(0), ow = outSize(1)
            guard oh > 0, ow > 0, checkedProduct([c, oh, ow, kernel[0], kernel[1]], limit: 1 << 28) != nil else {
                throw fail(node, index, expected: "a pooling window that fits the padded input", found: "kernel \(kernel) on \(h)x\(w)")
            }
            let l = Sparse.build(rows: c * oh * ow, columns: c * h * w) { row, emit in
                let ch = row / (oh * ow), y = (row / ow) % oh, x = row % ow
                var cells: [Int] = []
                var padded = 0
                for a in 0..<kernel[0] {
                    let iy = y * s[0] - p[0] + a * d[0]
                    for b in 0..<kernel[1] {
                        let ix = x * s[1] - p[1] + b * d[1]
                        let inside = iy >= 0 && iy < h && ix >= 0 && ix < w
                        let inPadded = iy >= -p[0] && iy < h + p[2] && ix >= -p[1] && ix < w + p[3]
                        if inside { cells.append((ch * h + iy) * w + ix) }
                        if inPadded { padded += 1 }
                    }
                }
                let divisor = includePad ? padded : cells.count
                guard divisor > 0 else { return }
                for cell in cells.sorted() { emit(cell, 1 / Double(divisor)) }
            }
            affine(l, bias: nil, newShape: [1, c, oh, ow])
        }

        mutating func pad(_ attrs: Attributes, _ constants: [Int: NDArray], _ node: Onnx_NodeProto, _ index: Int) throws {
            let mode = attrs.string("mode") ?? "constant"
            guard mode == "constant" else {
                throw fail(node, index, expected: "constant padding", found: "mode \(mode)")
            }
            guard node.input.count < 4 || node.input[3].isEmpty else {
                throw fail(node, index, expected: "padding of all axes", found: "an axes input")
            }
            let rank = shape.count
            guard let pads = constants[1].map({ $0.values.map(ONNXFormat.safeInt) }) ?? attrs.ints("pads"),
                  pads.count == 2 * rank, pads.allSatisfy({ $0 >= 0 && $0 < 1 << 16 }) else {
                throw fail(node, index, expected: "\(2 * rank) non-negative pads", found: "\(constants[1]?.values.description ?? attrs.ints("pads")?.description ?? "none")")
            }
            let value = constants[2]?.values.first ?? attrs.float("value", 0)
            guard value.isFinite else { throw fail(node, index, expected: "a finite pad value", found: "\(value)") }
            let newShape = (0..<rank).map { shape[$0] + pads[$0] + pads[$0 + rank] }
            guard let total = checkedProduct(newShape, limit: 1 << 26) else {
                throw fail(node, index, expected: "a padded tensor of plausible size", found: "\(newShape)")
            }
            let oldStrides = strides(shape)
            var bias = [Double](repeating: 0, count: total)
            let l = Sparse.build(rows: total, columns: count) { row, emit in
                var rem = row, src = 0, inside = true
                for k in stride(from: rank - 1, through: 0, by: -1) {
                    let idx = rem % newShape[k] - pads[k]; rem /= newShape[k]
                    if idx < 0 || idx >= shape[k] { inside = false } else { src += idx * oldStrides[k] }
                }
                if inside { emit(src, 1) } else { bias[row] = value }
            }
            affine(l, bias: bias, newShape: newShape)
        }
    }

    /// Typed access to a node's attributes.
    struct Attributes {
        let node: Onnx_NodeProto
        let index: Int
        let file: String

        func find(_ name: String) -> Onnx_AttributeProto? { node.attribute.first { $0.name == name } }

        func int(_ name: String, _ fallback: Int) -> Int { find(name).map { Int(clamping: $0.i) } ?? fallback }
        func float(_ name: String, _ fallback: Double) -> Double { find(name).map { Double($0.f) } ?? fallback }
        func ints(_ name: String) -> [Int]? { find(name).map { $0.ints.map { Int(clamping: $0) } } }
        func string(_ name: String) -> String? { find(name).map { String(decoding: $0.s, as: UTF8.self) } }

        func constantValue() throws -> NDArray {
            let location = Tracer.describe(node, index)
            if let t = find("value") { return try ONNXFormat.tensor(t.t, file: file, location: location) }
            if let a = find("value_float") { return NDArray(shape: [], values: [Double(a.f)]) }
            if let a = find("value_floats") { return NDArray(shape: [a.floats.count], values: a.floats.map(Double.init)) }
            if let a = find("value_int") { return NDArray(shape: [], values: [Double(a.i)]) }
            if let a = find("value_ints") { return NDArray(shape: [a.ints.count], values: a.ints.map { Double($0) }) }
            throw InputError(file: file, location: location, expected: "a numeric constant value", found: "none (sparse or string constants are not read)")
        }
    }
}
