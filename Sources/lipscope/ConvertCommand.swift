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
            Sub/Div by constants are folded into the neighbouring affine layers. The native format \
            stores every weight densely, so very large convolutional layers are refused.
            """)

    @Argument(help: "Input network file.")
    var input: String

    @Argument(help: "Output file (.json).")
    var output: String

    @Flag(name: .long, help: "Overwrite OUT if it exists.")
    var force = false

    /// Above this many dense weight entries the JSON would be gigabytes.
    static let denseEntryLimit = 5_000_000

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
        if case .feedforward(let net) = network {
            let entries = net.layers.reduce(0) { $0 + $1.weight.rows * $1.weight.columns }
            if entries > Self.denseEntryLimit {
                let sizes = net.layers.filter(\.weight.isSparse).map { "\($0.weight.rows)x\($0.weight.columns)" }
                throw InputError(file: input, expected: "at most \(Self.denseEntryLimit) weights once stored densely (the native JSON format has no sparse layers)",
                                 found: "\(entries) (sparse layers \(sizes.joined(separator: ", "))); use the file directly instead of converting it")
            }
        }
        try NetworkLoader.save(network, to: output)
        let summary = NetworkSummary(network)
        print("wrote \(output): \(summary.kind) \(summary.sizes.map(String.init).joined(separator: "-")), \(summary.parameters) parameters")
    }
}
