/// Every bound method the engine offers, in the order comparisons list them.
public enum MethodRegistry {
    public static let all: [any BoundMethod] = [
        SamplingBound(),
        RelaxedExactBound(),
        ExactBound(),
        LiPoptLPBound(),
        LiPoptSDPBound(),
        LipSDPBound(.neuron),
        LipSDPBound(.layer),
        ECLipsEBound(.sdp),
        ECLipsEBound(.fast),
        ImplicitSDPBound(),
        LipSDPLinfBound(),
        ContractionBound(weighted: true),
        ContractionBound(weighted: false),
        NaiveBound(),
    ]

    public static func method(named id: String) -> (any BoundMethod)? {
        all.first { $0.id == id }
    }

    public static var names: [String] { all.map(\.id) }
}
