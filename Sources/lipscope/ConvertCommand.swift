import ArgumentParser
import Foundation
import LipscopeEngine

/// `lipscope convert IN OUT.json`: any readable network (ONNX, .mat, .npz, .nnet, JSON) to the
/// native JSON format.
struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert a network (.onnx, .mat, .npz, .nnet, .json) to the native JSON format.",
        discussion: """
            Convolutions become their exact (Toeplitz) matrices; BatchNorm, AveragePool, Pad and \
            Sub/Div by constants are folded into the neighbouring affine layers. Sparse layers \
            (convolutions) are written in CSR form ("row_start", "column_index", "values"), dense \
            ones as lists of rows; a network that would need more than 5 million stored numbers \
            is refused.
            """)

    @Argument(help: "Input network file.")
    var input: String

    @Argument(help: "Output file (.json).")
    var output: String

    @Flag(name: .long, help: "Overwrite OUT if it exists.")
    var force = false

    /// Above this many stored numbers the JSON would be hundreds of megabytes (~20 bytes each).
    static let storedNumberLimit = 5_000_000

    /// The numbers the native format writes for a weight: every entry of a dense layer; the
    /// values, their column indices and the row offsets of a sparse (CSR) one.
    static func storedNumbers(_ weight: WeightMatrix) -> Int {
        switch weight {
        case .dense(let m): m.rows * m.columns
        case .sparse(let s): 2 * s.values.count + s.rows + 1
        }
    }

    func validate() throws {
        guard URL(fileURLWithPath: output).pathExtension.lowercased() == "json" else {
            throw ValidationError("the output must be a .json file (the native format); got \(output)")
        }
    }

    func run() throws {
        let network = try NetworkLoader.load(path: input)
        if FileManager.default.fileExists(atPath: output), !force {
            throw ValidationError("\(output) exists; pass --force to overwrite it")
        }
        let weights: [WeightMatrix]
        switch network {
        case .feedforward(let net): weights = net.layers.map(\.weight)
        case .graph(let net): weights = net.nodes.flatMap { $0.inputs.map(\.weight) }
        case .implicit: weights = []
        }
        if !weights.isEmpty {
            let stored = weights.reduce(0) { $0 + Self.storedNumbers($1) }
            if stored > Self.storedNumberLimit {
                let sizes = weights.map { "\($0.rows)x\($0.columns)\($0.isSparse ? " sparse" : "")" }
                throw InputError(file: input, expected: "at most \(Self.storedNumberLimit) stored weight numbers (dense entries, CSR values and indices)",
                                 found: "\(stored) (layers \(sizes.joined(separator: ", "))); use the file directly instead of converting it")
            }
        }
        try NetworkLoader.save(network, to: output)
        let summary = NetworkSummary(network)
        print("wrote \(output): \(summary.kind) \(summary.sizes.map(String.init).joined(separator: "-")), \(summary.parameters) parameters")
    }
}
