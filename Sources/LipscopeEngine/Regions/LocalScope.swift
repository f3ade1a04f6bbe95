import Foundation
import LipscopeLinearAlgebra

/// What a local (region-restricted) run of a layer-product method works on: the network
/// restricted to an output or to a margin f_c − f_j, the input region (nil: all of Rⁿ) and
/// the slope interval of every hidden neuron over that region (the global box without one).
public struct LocalScope: Sendable {
    public let network: FeedforwardNetwork
    public let region: InputRegion?
    public let slopes: SlopeIntervals
    public let margin: (c: Int, j: Int)?

    /// The region options plus `margin`, declared by naive, relaxed-exact and sampling.
    public static let options: [MethodOption] = InputRegion.options + [
        MethodOption("margin", .list, default: nil,
                     help: "\"c,j\": bound the scalar f_c − f_j (row c minus row j of the last layer) instead of the output vector"),
    ]

    public init(_ request: BoundRequest, parsed: ParsedOptions, network full: FeedforwardNetwork) throws {
        let region = try InputRegion.from(parsed, inputSize: full.inputSize)
        let margin = try Self.margin(request, parsed: parsed, outputCount: full.outputSize)
        self.region = region
        self.margin = margin
        if let (c, j) = margin {
            network = full.restricted(toMargin: c, minus: j)
        } else {
            network = request.output.map { full.restricted(toOutput: $0) } ?? full.withLinearOutput
        }
        if let region {
            slopes = try PreActivationBounds(full, region: region).slopes
        } else {
            slopes = SlopeIntervals(global: full)
        }
    }

    /// The `margin` option as (c, j), nil when unset; errors name the option (shared with the
    /// equilibrium methods' scope).
    static func margin(_ request: BoundRequest, parsed: ParsedOptions, outputCount m: Int) throws -> (c: Int, j: Int)? {
        guard let words = parsed.list("margin"), parsed.isSet("margin") else { return nil }
        guard words.count == 2, let c = Int(words[0]), let j = Int(words[1]),
              (0..<m).contains(c), (0..<m).contains(j), c != j else {
            throw OptionError(method: parsed.method, key: "margin",
                              expected: "two different output indices \"c,j\" in 0..<\(m)", found: words.joined(separator: ","))
        }
        guard request.output == nil else {
            throw OptionError(method: parsed.method, key: "margin", expected: "no --output together with a margin",
                              found: "output \(request.output!)")
        }
        return (c, j)
    }

    /// A scope from slopes already computed (certify computes the region's bounds once for all classes).
    public init(network full: FeedforwardNetwork, region: InputRegion?, slopes: SlopeIntervals, margin: (c: Int, j: Int)?) {
        self.region = region
        self.slopes = slopes
        self.margin = margin
        network = margin.map { full.restricted(toMargin: $0.c, minus: $0.j) } ?? full.withLinearOutput
    }

    public var isLocal: Bool { region != nil || margin != nil }

    /// The scope of a feedforward request that sets a region or a margin; nil otherwise.
    public static func ifLocal(_ request: BoundRequest, parsed: ParsedOptions) throws -> LocalScope? {
        guard case .feedforward(let full) = request.network else { return nil }
        let scope = try LocalScope(request, parsed: parsed, network: full)
        return scope.isLocal ? scope : nil
    }

    /// What the result's details say about the scope.
    public var details: [String: JSONValue] {
        var d: [String: JSONValue] = [:]
        if let region {
            let half = zip(region.lower, region.upper).map { ($1 - $0) / 2 }
            let isBall = half.allSatisfy { $0 == half.first }
            d["region"] = .string(isBall ? "ℓ∞ ball of radius \(region.radius) around the given center"
                                         : "box of \(region.dimension) inputs, largest half-width \(region.radius)")
            d["unstable_neurons"] = .number(Double(slopes.unstableCount))
        }
        if let (c, j) = margin { d["margin"] = .string("f_\(c) − f_\(j)") }
        return d
    }
}

extension FeedforwardNetwork {
    /// The scalar network f_c − f_j: the last layer's row c minus row j (linear-output form).
    public func restricted(toMargin c: Int, minus j: Int) -> FeedforwardNetwork {
        var net = withLinearOutput
        let last = net.layers.removeLast()
        let w = last.weight.dense
        let row = Matrix(rows: 1, columns: w.columns, storage: (0..<w.columns).map { w[c, $0] - w[j, $0] })
        net.layers.append(Layer(weight: .dense(row), bias: [last.bias[c] - last.bias[j]], activation: .identity))
        return net
    }
}
