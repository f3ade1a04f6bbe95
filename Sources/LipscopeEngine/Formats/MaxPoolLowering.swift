import LipscopeLinearAlgebra
import ONNXProto

/// MaxPool (and `Max`/`Min` against a constant) rewritten exactly into ReLU layers, so every
/// method sees an ordinary chain.
///
/// max(a, b) = b + relu(a − b), with b passed through a ReLU layer as relu(b) − relu(−b). A
/// k-element window is reduced pairwise, ⌈log₂ k⌉ levels, each level one ReLU layer whose input
/// map (the differences and pass-throughs) is composed with the pending affine map before it and
/// whose output map (sum of the pair's units) is composed into the map after it. A pool right
/// after a ReLU is lowered on the pre-activations (see `lowerMaximum`).
extension ONNXFormat.Tracer {
    /// MaxPool on an (N=1, C, H, W) tensor, padding cells ignored (ONNX pads MaxPool with −∞).
    mutating func maxPool(_ attrs: ONNXFormat.Attributes, _ node: Onnx_NodeProto, _ index: Int) throws {
        guard shape.count == 4, shape[0] == 1 else {
            throw fail(node, index, expected: "2-D max pooling on an (N=1, C, H, W) tensor", found: "data shape \(shape)")
        }
        if node.output.count > 1, !node.output[1].isEmpty {
            throw fail(node, index, expected: "MaxPool without the Indices output", found: "a second output '\(node.output[1])'")
        }
        let (c, h, w) = (shape[1], shape[2], shape[3])
        guard let kernel = attrs.ints("kernel_shape"), kernel.count == 2, kernel.allSatisfy({ $0 > 0 && $0 < 1 << 12 }) else {
            throw fail(node, index, expected: "a 2-D kernel_shape", found: "\(attrs.ints("kernel_shape") ?? [])")
        }
        let (s, p, d) = try spatial(attrs, kernel: kernel, node, index)
        let ceil = attrs.int("ceil_mode", 0) != 0
        func outSize(_ axis: Int) -> Int {
            let size = shape[2 + axis] + p[axis] + p[axis + 2] - d[axis] * (kernel[axis] - 1) - 1
            if size < 0 { return 0 }
            var o = (ceil ? (size + s[axis] - 1) / s[axis] : size / s[axis]) + 1
            // A last window starting in the end padding is dropped (as in ONNX / PyTorch).
            if ceil, (o - 1) * s[axis] >= shape[2 + axis] + p[axis] { o -= 1 }
            return o
        }
        let oh = outSize(0), ow = outSize(1)
        guard oh > 0, ow > 0, checkedProduct([c, oh, ow, kernel[0], kernel[1]], limit: 1 << 26) != nil else {
            throw fail(node, index, expected: "a pooling window that fits the padded input", found: "kernel \(kernel) on \(h)x\(w)")
        }
        var windows: [[Int]] = []
        windows.reserveCapacity(c * oh * ow)
        for ch in 0..<c {
            for y in 0..<oh {
                for x in 0..<ow {
                    var cells: [Int] = []
                    for a in 0..<kernel[0] {
                        let iy = y * s[0] - p[0] + a * d[0]
                        guard iy >= 0, iy < h else { continue }
                        for b in 0..<kernel[1] {
                            let ix = x * s[1] - p[1] + b * d[1]
                            if ix >= 0, ix < w { cells.append((ch * h + iy) * w + ix) }
                        }
                    }
                    guard !cells.isEmpty else {
                        throw fail(node, index, expected: "every pooling window to cover an input cell", found: "a window entirely in the padding")
                    }
                    windows.append(cells)
                }
            }
        }
        lowerMaximum(windows: windows, newShape: [1, c, oh, ow], what: "MaxPool \(kernel[0])x\(kernel[1]) stride \(s[0])x\(s[1])")
    }

    /// `Max` / `Min` of the data and a constant (broadcast): max(x, c) = c + relu(x − c),
    /// min(x, c) = c − relu(c − x), one ReLU layer.
    mutating func maxOrMinWithConstant(_ inputs: NodeInputs) throws {
        let node = inputs.node, index = inputs.index
        guard node.input.count == 2, inputs.constants.count == 1, let constant = inputs.constants.values.first else {
            throw fail(node, index, expected: "\(node.opType) of the data and one constant (a chain)",
                       found: "\(node.input.count) inputs, \(inputs.constants.count) constant")
        }
        let cvalues = try broadcast(constant, node, index)
        let n = count
        let sign: Double = node.opType == "Max" ? 1 : -1
        // sign·(x − c) then relu, then c + sign·relu(…).
        affine(diagonal([Double](repeating: sign, count: n)), bias: cvalues.map { -sign * $0 }, newShape: shape)
        closeLayer(.relu)
        affine(diagonal([Double](repeating: sign, count: n)), bias: cvalues, newShape: shape)
        notes.append("\(Self.describe(node, index)): \(node.opType) with a constant lowered exactly to one ReLU layer")
    }

    /// Replaces the current tensor u by (max over window k of u[i] for i in windows[k]) for all k,
    /// as pairwise ReLU levels.
    ///
    /// When u is exactly a ReLU layer's output, relu(z), that layer is reopened: max of relu(zᵢ)
    /// = relu(max of zᵢ), so the levels run on the pre-activations z (composed into that layer's
    /// affine map) and one ReLU closes the pooled values. Running the levels on relu(z) instead
    /// (pass-through relu(b) alone, since b ≥ 0) is exact too and narrower, but every inactive
    /// neuron then feeds the next ReLU exactly 0: its kink, on a set of inputs of positive
    /// measure, where a Jacobian-based method (sampling) must discard the point. Measured on
    /// marabou_conv_mp1 that variant left sampling at 0; see README (MaxPool).
    mutating func lowerMaximum(windows initial: [[Int]], newShape: [Int], what: String) {
        var reopened = false
        if pending == nil, offset.allSatisfy({ $0 == 0 }), let last = layers.last, last.activation == .relu {
            layers.removeLast()
            let w = last.weight
            switch w {
            case .sparse(let m):
                pending = ONNXFormat.Sparse(rows: m.rows, columns: m.columns, rowStart: m.rowStart, cols: m.columnIndex, vals: m.values)
            case .dense(let m):
                pending = ONNXFormat.Sparse.build(rows: m.rows, columns: m.columns) { i, emit in
                    for j in 0..<m.columns { emit(j, m[i, j]) }
                }
            }
            offset = last.bias
            width = last.inputSize
            convolution.reopen(last.annotations.convolution)
            reopened = true
        }
        var windows = initial
        var levels = 0
        let largest = windows.map(\.count).max() ?? 1
        while windows.contains(where: { $0.count > 1 }) {
            // Input map of this level's ReLU layer: rows are units; `combine` maps units back
            // to the partial maxima (the next level's tensor).
            var unitRows: [[(Int, Double)]] = []
            var combine: [[(Int, Double)]] = []
            var next: [[Int]] = []
            func passThrough(_ i: Int) -> [(Int, Double)] {
                unitRows.append([(i, 1)])
                unitRows.append([(i, -1)])
                return [(unitRows.count - 2, 1.0), (unitRows.count - 1, -1)]
            }
            for window in windows {
                var reduced: [Int] = []
                var k = 0
                while k < window.count {
                    var parts: [(Int, Double)]
                    if k + 1 < window.count {
                        let a = window[k], b = window[k + 1]
                        unitRows.append(a < b ? [(a, 1), (b, -1)] : [(b, -1), (a, 1)])
                        parts = [(unitRows.count - 1, 1)]
                        parts += passThrough(b)
                    } else {
                        parts = passThrough(window[k])
                    }
                    combine.append(parts)
                    reduced.append(combine.count - 1)
                    k += 2
                }
                next.append(reduced)
            }
            let columns = count
            let input = ONNXFormat.Sparse.build(rows: unitRows.count, columns: columns) { r, emit in
                for (j, v) in unitRows[r] { emit(j, v) }
            }
            affine(input, bias: nil, newShape: [unitRows.count])
            closeLayer(.relu)
            let output = ONNXFormat.Sparse.build(rows: combine.count, columns: unitRows.count) { r, emit in
                for (j, v) in combine[r].sorted(by: { $0.0 < $1.0 }) { emit(j, v) }
            }
            affine(output, bias: nil, newShape: [combine.count])
            windows = next
            levels += 1
        }
        // Windows of one element: a selection (no ReLU needed). After the levels each window is
        // one entry, in window order.
        let selection = ONNXFormat.Sparse.build(rows: windows.count, columns: count) { r, emit in emit(windows[r][0], 1) }
        affine(selection, bias: nil, newShape: newShape)
        if reopened { closeLayer(.relu) }
        let layerCount = levels + (reopened ? 1 : 0)
        let how = reopened ? "; the ReLU before it moved after it (max of relu = relu of max), so the levels see pre-activations" : ""
        notes.append("\(what): lowered exactly to \(layerCount) ReLU layer\(layerCount == 1 ? "" : "s") (windows of up to \(largest) cells; max(a, b) = b + relu(a − b), b as relu(b) − relu(−b)\(how))")
    }
}
