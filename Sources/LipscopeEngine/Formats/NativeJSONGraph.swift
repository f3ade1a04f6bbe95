import Foundation
import LipscopeLinearAlgebra

/// The graph form of the native format (`"kind": "graph"`), documented in the README:
/// `input_size` and `nodes`, each `{name?, inputs: [{from, weight}], bias, activation, slope?}`
/// with `from` either `"input"` or the 0-based index of an earlier node; a node computes
/// σ(Σ weight·from + bias) and the last node is the network's output. Weights are written
/// exactly as in the feedforward form (a list of rows, or the sparse CSR object).
extension NativeJSONFormat {
    static func readGraph(_ object: [String: Any], name: String, _ r: FieldReader) throws -> NetworkGraph {
        let inputSize = try r.integer(object["input_size"], "input_size")
        guard inputSize > 0 else {
            throw InputError(file: r.file, location: "input_size", expected: "a positive integer", found: "\(inputSize)")
        }
        let nodeValues = try r.array(object["nodes"], "nodes")
        guard !nodeValues.isEmpty else {
            throw InputError(file: r.file, location: "nodes", expected: "at least one node", found: "an empty list (empty network)")
        }
        var nodes: [GraphNode] = []
        for (k, value) in nodeValues.enumerated() {
            let path = "nodes[\(k)]"
            let node = try r.object(value, path)
            let inputValues = try r.array(node["inputs"], "\(path).inputs")
            guard !inputValues.isEmpty else {
                throw InputError(file: r.file, location: "\(path).inputs", expected: "at least one input", found: "an empty list")
            }
            var edges: [GraphEdge] = []
            var rows: Int? = nil
            for (e, edgeValue) in inputValues.enumerated() {
                let edgePath = "\(path).inputs[\(e)]"
                let edge = try r.object(edgeValue, edgePath)
                let source: GraphSource
                let width: Int, meaning: String
                if let s = edge["from"] as? String {
                    guard s == "input" else {
                        throw InputError(file: r.file, location: "\(edgePath).from", expected: "\"input\" or an earlier node's index", found: "\"\(s)\"")
                    }
                    source = .input; width = inputSize; meaning = "input_size"
                } else {
                    let j = try r.integer(edge["from"], "\(edgePath).from")
                    guard j >= 0, j < k else {
                        throw InputError(file: r.file, location: "\(edgePath).from", expected: "\"input\" or the index of an earlier node (0..<\(k))", found: "\(j)")
                    }
                    source = .node(j); width = nodes[j].size; meaning = "node \(j)'s size"
                }
                let weight: WeightMatrix
                if let sparse = edge["weight"] as? [String: Any] {
                    weight = .sparse(try r.sparseMatrix(sparse, "\(edgePath).weight", columns: width, columnsMeaning: meaning))
                } else {
                    weight = .automatic(try r.matrix(edge["weight"], "\(edgePath).weight", columns: width, columnsMeaning: meaning, rows: rows))
                }
                if let rows, weight.rows != rows {
                    throw InputError(file: r.file, location: "\(edgePath).weight", expected: "\(rows) rows (as the node's first input)", found: "\(weight.rows)")
                }
                rows = weight.rows
                edges.append(GraphEdge(source: source, weight: weight))
            }
            let size = rows ?? 0
            let bias = try node["bias"].map { try r.vector($0, "\(path).bias", count: size) } ?? [Double](repeating: 0, count: size)
            let activation = try r.activation(node["activation"], slope: node["slope"], alpha: node["alpha"], path)
            let nodeName = (node["name"] as? String) ?? "node\(k)"
            nodes.append(GraphNode(name: nodeName, inputs: edges, bias: bias, activation: activation))
        }
        let graph = NetworkGraph(name: name, inputSize: inputSize, nodes: nodes)
        if let problem = graph.problem { throw InputError(file: r.file, location: "nodes", expected: "a consistent graph", found: problem) }
        return graph
    }

    static func writeGraph(_ net: NetworkGraph, into object: inout [String: Any]) {
        object["input_size"] = net.inputSize
        object["nodes"] = net.nodes.map { node -> [String: Any] in
            var o: [String: Any] = ["name": node.name, "bias": node.bias]
            o["inputs"] = node.inputs.map { edge -> [String: Any] in
                let from: Any
                switch edge.source { case .input: from = "input"; case .node(let j): from = j }
                return ["from": from, "weight": weightObject(edge.weight)]
            }
            activationFields(node.activation, into: &o)
            return o
        }
    }
}
