/// Importer knowledge carried alongside a network without being part of the function it
/// computes: equality ignores it (a network read back from JSON, which does not store it, is the
/// same network), and methods may only use it to compute something they could compute from the
/// weights alone, faster or tighter (a convolution's operator norm from its kernel).
public struct NetworkAnnotations: Sendable, Equatable {
    /// Lines `info` shows, e.g. how a MaxPool was lowered.
    public var notes: [String] = []
    public init() {}
    public static func == (_: Self, _: Self) -> Bool { true }
}

public struct LayerAnnotations: Sendable, Equatable {
    /// Set when the layer's weight is exactly this convolution's matrix, up to permutations of
    /// its rows and columns (which change no induced ℓ2 or ℓ∞ norm).
    public var convolution: ConvolutionShape?
    public init() {}
    public static func == (_: Self, _: Self) -> Bool { true }
}

/// A 2-D convolution's geometry and kernel (c_out, c_in/groups, kh, kw in C order).
public struct ConvolutionShape: Sendable {
    public var inChannels: Int, outChannels: Int
    public var inHeight: Int, inWidth: Int
    public var outHeight: Int, outWidth: Int
    public var kernelHeight: Int, kernelWidth: Int
    public var strideH: Int, strideW: Int
    public var padTop: Int, padLeft: Int, padBottom: Int, padRight: Int
    public var dilationH: Int, dilationW: Int
    public var groups: Int
    public var kernel: [Double]
}
