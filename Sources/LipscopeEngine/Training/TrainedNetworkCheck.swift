import Foundation

/// The certified ℓ∞ numbers of a trained network, computed by the existing contraction methods on
/// the network as saved (so what the report says is what `lipscope bound` says of the file).
public struct TrainedNetworkCheck: Sendable {
    public var muInf: Double
    /// Spectral abscissa of the Metzler majorant of A: inf over η of μ_η(A).
    public var bestWeightedMu: Double?
    /// `contraction-weighted` (the reported bound) and `contraction` (η = 1).
    public var weighted: BoundResult
    public var plain: BoundResult

    public init(_ network: Network) {
        let summary = NetworkSummary(network)
        muInf = summary.muInf ?? .nan
        bestWeightedMu = summary.bestWeightedMu
        weighted = Job.run(ContractionBound(weighted: true), BoundRequest(network: network, norm: .linf))
        plain = Job.run(ContractionBound(weighted: false), BoundRequest(network: network, norm: .linf))
    }

    /// The best certified value of the two (nil when neither certified).
    public var bound: Double? {
        [weighted, plain].filter { $0.certified }.compactMap(\.value).min()
    }
}
