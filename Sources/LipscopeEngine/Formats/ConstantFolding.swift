import ONNXProto

/// Nodes whose inputs are all constants are evaluated at load time when they only move values
/// around (PyTorch exports `Transpose(fc.weight)` before a MatMul). Anything else with only
/// constant inputs is left to the data-path check, which refuses it by name.
extension ONNXFormat.Tracer {
    /// True when the node was folded into a constant.
    mutating func foldConstant(_ node: Onnx_NodeProto, _ index: Int, _ attrs: ONNXFormat.Attributes) throws -> Bool {
        let names = node.input.filter { !$0.isEmpty }
        guard !names.isEmpty, node.output.count == 1, !node.output[0].isEmpty else { return false }
        var values: [NDArray] = []
        for name in names {
            guard case .constant(let a) = slots[name] else { return false }
            values.append(a)
        }
        let a = values[0]
        let folded: NDArray
        switch node.opType {
        case "Identity":
            folded = a
        case "Transpose":
            let rank = a.shape.count
            let perm = attrs.ints("perm") ?? Array((0..<rank).reversed())
            guard perm.count == rank, Set(perm) == Set(0..<rank) else {
                throw fail(node, index, expected: "a permutation of 0..<\(rank)", found: "\(perm)")
            }
            let newShape = perm.map { a.shape[$0] }
            let oldStrides = strides(a.shape)
            let out = (0..<a.count).map { i -> Double in
                var rem = i, src = 0
                for (k, size) in newShape.enumerated().reversed() {
                    src += (rem % size) * oldStrides[perm[k]]
                    rem /= size
                }
                return a.values[src]
            }
            folded = NDArray(shape: newShape, values: out)
        default:
            return false
        }
        slots[node.output[0]] = .constant(folded)
        return true
    }
}
