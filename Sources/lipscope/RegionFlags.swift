import ArgumentParser
import Foundation
import LipscopeEngine

/// `--center v1,…|FILE --radius ε`, `--vnnlib FILE` and `--margin c,j`: the input region and the
/// margin of a local run, as flags (the same keys as `--option center=…`, which stays accepted).
/// A FILE center is a JSON array, numbers separated by commas or whitespace, or a `.vnnlib`
/// property (its box's midpoint); `--vnnlib` takes the property's whole input box. The file is
/// read once the network is loaded, so its errors can name the expected input count.
struct RegionFlags: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Center of the ℓ∞ ball of inputs: comma-separated numbers, or a file (JSON array, numbers, or a .vnnlib property's midpoint); needs --radius.",
                                            valueName: "v1,v2,…|FILE"))
    var center: String?

    // Unconditional so "-0.1" reaches the check that names the flag instead of reading as a flag.
    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("ℓ∞ radius of the ball around --center.", valueName: "ε"))
    var radius: String?

    @Option(name: .long, help: ArgumentHelp("A VNN-LIB property: the run is over its input box.", valueName: "FILE"))
    var vnnlib: String?

    @Option(name: .long, help: ArgumentHelp("Bound the scalar f_c − f_j (0-based outputs) instead of the output vector.", valueName: "c,j"))
    var margin: String?

    /// The option keys these flags set (for the checks that run before the network is loaded).
    var keys: [String] {
        var keys: [String] = []
        if center != nil || radius != nil { keys += ["center", "radius"] }
        if vnnlib != nil { keys += ["lower", "upper"] }
        if margin != nil { keys.append("margin") }
        return keys
    }

    var isSet: Bool { !keys.isEmpty }

    /// The flags' combinations that cannot mean anything, whatever the network.
    func validate() throws {
        if vnnlib != nil, center != nil || radius != nil {
            throw ValidationError("give either --vnnlib FILE (its input box) or --center with --radius, not both")
        }
        if (center == nil) != (radius == nil) {
            throw ValidationError(center == nil ? "--radius needs --center" : "--center needs --radius")
        }
    }

    /// Stand-in values with the right shape, for checking that the chosen methods take these keys.
    var placeholderOptions: [String: String] {
        var raw: [String: String] = [:]
        if center != nil { raw["center"] = "0"; raw["radius"] = "0" }
        if vnnlib != nil { raw["lower"] = "0"; raw["upper"] = "0" }
        if let margin { raw["margin"] = margin }
        return raw
    }

    /// The option values for `network`: the center's file read, the property's box written out.
    func options(for network: Network) throws -> [String: String] {
        var raw: [String: String] = [:]
        let (inputs, outputs) = (network.inputSize, network.outputSize)
        func list(_ v: [Double]) -> String { v.map { "\($0)" }.joined(separator: ",") }
        if let center, let radius {
            let point: [Double]
            if FileManager.default.fileExists(atPath: center) {
                point = try RegionFile.load(path: center, inputSize: inputs, outputSize: outputs).center
            } else {
                point = try RegionFile.numbers(center, file: "--center", count: inputs)
            }
            // Bad input like a wrong-sized center (exit 2, as certify), not a usage error.
            guard let r = Double(radius), r.isFinite, r >= 0 else {
                throw InputError(file: "--radius", expected: "a finite number ≥ 0", found: radius)
            }
            raw["center"] = list(point)
            raw["radius"] = radius
        }
        if let vnnlib {
            guard vnnlib.lowercased().hasSuffix(".vnnlib") else {
                throw InputError(file: vnnlib, expected: "a VNN-LIB property (.vnnlib)", found: "another file")
            }
            let file = try RegionFile.load(path: vnnlib, inputSize: inputs, outputSize: outputs)
            guard let box = file.box else { throw InputError(file: vnnlib, expected: "an input box", found: "none") }
            raw["lower"] = list(box.lower)
            raw["upper"] = list(box.upper)
        }
        if let margin { raw["margin"] = margin }
        return raw
    }
}
