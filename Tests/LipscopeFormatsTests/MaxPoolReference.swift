import Foundation
import ONNXProto

/// An independent, plain-loop ONNX interpreter for the ops of the MaxPool fixtures (Conv, Relu,
/// MaxPool, Max/Min with a constant, Transpose, Flatten, Reshape, MatMul, Add, Gemm, Constant), in Float64, written from
/// the ONNX operator definitions and sharing no code with the importer: the reference the
/// lowered networks' forward passes are checked against.
struct ReferenceONNX {
    struct Tensor {
        var shape: [Int]
        var values: [Double]
        var count: Int { values.count }
    }

    let model: Onnx_ModelProto

    init(path: String) throws {
        model = try Onnx_ModelProto(serializedBytes: [UInt8](FileManager.default.contents(atPath: path)!))
    }

    static func tensor(_ t: Onnx_TensorProto) -> Tensor {
        let shape = t.dims.map { Int($0) }
        let raw = [UInt8](t.rawData)
        switch t.dataType {
        case 1:
            if raw.isEmpty { return Tensor(shape: shape, values: t.floatData.map(Double.init)) }
            let v = stride(from: 0, to: raw.count, by: 4).map { i -> Double in
                Double(Float(bitPattern: UInt32(raw[i]) | UInt32(raw[i + 1]) << 8 | UInt32(raw[i + 2]) << 16 | UInt32(raw[i + 3]) << 24))
            }
            return Tensor(shape: shape, values: v)
        case 7:
            if raw.isEmpty { return Tensor(shape: shape, values: t.int64Data.map(Double.init)) }
            let v = stride(from: 0, to: raw.count, by: 8).map { i -> Double in
                var u: UInt64 = 0
                for k in 0..<8 { u |= UInt64(raw[i + k]) << (8 * UInt64(k)) }
                return Double(Int64(bitPattern: u))
            }
            return Tensor(shape: shape, values: v)
        default:
            fatalError("reference: data type \(t.dataType) not needed by the fixtures")
        }
    }

    func ints(_ node: Onnx_NodeProto, _ name: String) -> [Int]? {
        node.attribute.first { $0.name == name }.map { $0.ints.map { Int($0) } }
    }
    func int(_ node: Onnx_NodeProto, _ name: String, _ fallback: Int) -> Int {
        node.attribute.first { $0.name == name }.map { Int($0.i) } ?? fallback
    }

    /// The output for input x (flattened C order; the batch dimension is 1).
    func run(_ x: [Double]) -> [Double] {
        var env: [String: Tensor] = [:]
        for t in model.graph.initializer { env[t.name] = Self.tensor(t) }
        let input = model.graph.input.first { env[$0.name] == nil }!
        let shape = input.type.tensorType.shape.dim.map { d -> Int in
            if case .dimValue(let v) = d.value, v > 0 { return Int(v) }
            return 1
        }
        env[input.name] = Tensor(shape: shape, values: x)
        for node in model.graph.node {
            let ins = node.input.map { env[$0] }
            let out: Tensor
            switch node.opType {
            case "Constant":
                out = Self.tensor(node.attribute.first { $0.name == "value" }!.t)
            case "Relu":
                out = Tensor(shape: ins[0]!.shape, values: ins[0]!.values.map { max($0, 0) })
            case "Add":
                let a = ins[0]!, b = ins[1]!
                precondition(b.count == a.count || b.count == a.shape.last!)
                out = Tensor(shape: a.shape, values: (0..<a.count).map { a.values[$0] + b.values[$0 % b.count] })
            case "Max", "Min":
                let a = ins[0]!, b = ins[1]!
                precondition(b.count == 1 || b.count == a.shape[1])
                let inner = a.count / a.shape[1]
                out = Tensor(shape: a.shape, values: (0..<a.count).map { i in
                    let c = b.values[b.count == 1 ? 0 : (i / inner) % a.shape[1]]
                    return node.opType == "Max" ? max(a.values[i], c) : min(a.values[i], c)
                })
            case "Flatten":
                let a = ins[0]!
                let axis = int(node, "axis", 1)
                out = Tensor(shape: [a.shape[..<axis].reduce(1, *), a.shape[axis...].reduce(1, *)], values: a.values)
            case "Reshape":
                let a = ins[0]!
                var target = ins[1]!.values.map { Int($0) }
                if let u = target.firstIndex(of: -1) { target[u] = a.count / target.filter { $0 != -1 }.reduce(1, *) }
                out = Tensor(shape: target, values: a.values)
            case "Transpose":
                out = transpose(ins[0]!, ints(node, "perm")!)
            case "MatMul":
                out = matmul(ins[0]!, ins[1]!)
            case "Gemm":
                var b = ins[1]!
                if int(node, "transB", 0) != 0 { b = transpose(b, [1, 0]) }
                var y = matmul(ins[0]!, b)
                if ins.count > 2, let c = ins[2] { for i in 0..<y.count { y.values[i] += c.values[i % c.count] } }
                out = y
            case "Conv":
                out = conv(ins[0]!, ins[1]!, ins.count > 2 ? ins[2] : nil, node)
            case "MaxPool":
                out = maxPool(ins[0]!, node)
            default:
                fatalError("reference: op \(node.opType) not needed by the fixtures")
            }
            env[node.output[0]] = out
        }
        return env[model.graph.output[0].name]!.values
    }

    func transpose(_ a: Tensor, _ perm: [Int]) -> Tensor {
        let newShape = perm.map { a.shape[$0] }
        var strides = [Int](repeating: 1, count: a.shape.count)
        for k in stride(from: a.shape.count - 2, through: 0, by: -1) { strides[k] = strides[k + 1] * a.shape[k + 1] }
        var out = [Double](repeating: 0, count: a.count)
        for i in 0..<a.count {
            var rem = i, src = 0
            for k in stride(from: newShape.count - 1, through: 0, by: -1) {
                src += (rem % newShape[k]) * strides[perm[k]]
                rem /= newShape[k]
            }
            out[i] = a.values[src]
        }
        return Tensor(shape: newShape, values: out)
    }

    func matmul(_ a: Tensor, _ b: Tensor) -> Tensor {
        let n = b.shape[0], m = b.shape[1], rows = a.count / n
        var out = [Double](repeating: 0, count: rows * m)
        for r in 0..<rows { for j in 0..<m { for i in 0..<n { out[r * m + j] += a.values[r * n + i] * b.values[i * m + j] } } }
        return Tensor(shape: Array(a.shape.dropLast()) + [m], values: out)
    }

    func conv(_ x: Tensor, _ w: Tensor, _ bias: Tensor?, _ node: Onnx_NodeProto) -> Tensor {
        let (c, h, wd) = (x.shape[1], x.shape[2], x.shape[3])
        let (o, kh, kw) = (w.shape[0], w.shape[2], w.shape[3])
        precondition(w.shape[1] == c && int(node, "group", 1) == 1)
        let s = ints(node, "strides") ?? [1, 1], p = ints(node, "pads") ?? [0, 0, 0, 0], d = ints(node, "dilations") ?? [1, 1]
        let oh = (h + p[0] + p[2] - d[0] * (kh - 1) - 1) / s[0] + 1, ow = (wd + p[1] + p[3] - d[1] * (kw - 1) - 1) / s[1] + 1
        var out = [Double](repeating: 0, count: o * oh * ow)
        for oc in 0..<o {
            for y in 0..<oh {
                for xx in 0..<ow {
                    var sum = bias?.values[oc] ?? 0
                    for ic in 0..<c {
                        for a in 0..<kh {
                            let iy = y * s[0] - p[0] + a * d[0]
                            if iy < 0 || iy >= h { continue }
                            for b in 0..<kw {
                                let ix = xx * s[1] - p[1] + b * d[1]
                                if ix < 0 || ix >= wd { continue }
                                sum += w.values[((oc * c + ic) * kh + a) * kw + b] * x.values[(ic * h + iy) * wd + ix]
                            }
                        }
                    }
                    out[(oc * oh + y) * ow + xx] = sum
                }
            }
        }
        return Tensor(shape: [1, o, oh, ow], values: out)
    }

    func maxPool(_ x: Tensor, _ node: Onnx_NodeProto) -> Tensor {
        let (c, h, wd) = (x.shape[1], x.shape[2], x.shape[3])
        let k = ints(node, "kernel_shape")!, s = ints(node, "strides") ?? [1, 1], p = ints(node, "pads") ?? [0, 0, 0, 0]
        precondition(int(node, "ceil_mode", 0) == 0)
        let oh = (h + p[0] + p[2] - k[0]) / s[0] + 1, ow = (wd + p[1] + p[3] - k[1]) / s[1] + 1
        var out = [Double](repeating: -.infinity, count: c * oh * ow)
        for ch in 0..<c {
            for y in 0..<oh {
                for xx in 0..<ow {
                    for a in 0..<k[0] {
                        for b in 0..<k[1] {
                            let iy = y * s[0] - p[0] + a, ix = xx * s[1] - p[1] + b
                            if iy >= 0, iy < h, ix >= 0, ix < wd {
                                out[(ch * oh + y) * ow + xx] = max(out[(ch * oh + y) * ow + xx], x.values[(ch * h + iy) * wd + ix])
                            }
                        }
                    }
                }
            }
        }
        return Tensor(shape: [1, c, oh, ow], values: out)
    }
}
