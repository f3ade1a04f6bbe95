/// What both LiPopt hierarchies check and prepare before sizing their relaxation: a
/// feedforward network, the clique mode of the settings, a variable count the packed monomials can index,
/// the outputs asked for — or why LiPopt does not apply.
struct LiPoptSetup {
    var network: LiPoptNetwork
    var mode: LiPoptCliques
    var outputs: [Int]

    /// `maximumVariables`: the LP's products index 2n variables (y and 1 − y), the SDP's n.
    /// `scope`: a local run (input region and/or margin): its network and per-neuron slopes.
    static func make(_ request: BoundRequest, mode: LiPoptCliques, maximumVariables: Int,
                     scope: LocalScope? = nil) -> Result<LiPoptSetup, LiPoptRefusal> {
        guard let full = request.network.layerChain else {
            if case .graph = request.network {
                return .failure(.notApplicable("LiPopt builds its polynomial layer by layer; with skip connections the Jacobian is a sum of path products of different lengths, which this implementation does not form (use implicit-sdp, contraction-weighted or naive on graphs)"))
            }
            return .failure(.notApplicable("LiPopt is implemented for feedforward networks"))
        }
        if let scope {
            let net = LiPoptNetwork(scope.network, slopes: scope.slopes)
            if net.variableCount > maximumVariables {
                return .failure(.tooLarge("\(net.variableCount) variables (limit \(maximumVariables))"))
            }
            return .success(LiPoptSetup(network: net, mode: mode, outputs: Array(0..<net.outputCount)))
        }
        let net = LiPoptNetwork(full)
        if net.variableCount > maximumVariables {
            return .failure(.tooLarge("\(net.variableCount) variables (limit \(maximumVariables))"))
        }
        let outputs = request.output.map { [$0] } ?? Array(0..<net.outputCount)
        return .success(LiPoptSetup(network: net, mode: mode, outputs: outputs))
    }

    /// The cliques of every requested output, in the order of `outputs`.
    func cliquesPerOutput() -> [[[Int]]] {
        outputs.map { network.cliques(output: $0, mode) }
    }
}

/// Why a LiPopt request is refused before running.
enum LiPoptRefusal: Error {
    case notApplicable(String)
    case tooLarge(String)

    var message: String {
        switch self { case .notApplicable(let s), .tooLarge(let s): s }
    }

    var applicability: Applicability {
        switch self {
        case .notApplicable(let s): .notApplicable(s)
        case .tooLarge(let s): .tooLarge(s)
        }
    }
}
