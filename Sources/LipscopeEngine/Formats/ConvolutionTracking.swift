/// Keeps a layer's convolution geometry while the tracer composes its affine map, so `naive`
/// can take the conv's ℓ2 norm from its structure. The annotation is only set when the layer's
/// weight is exactly P·T·Q with T the convolution's matrix and P, Q permutations (Transpose,
/// Reshape, Flatten and bias additions around it): those change no induced norm. Any other map
/// composed in (a scaling, a second conv, a pooling) drops it.
struct ConvolutionTracking {
    /// Set by the Conv op just before its Toeplitz map is composed.
    var incoming: ConvolutionShape?
    /// The convolution the pending map is (up to permutations), if any.
    private var current: ConvolutionShape?
    /// Whether the pending map so far is a permutation (the identity at a layer's start).
    private var pendingIsPermutation = true

    mutating func compose(_ l: ONNXFormat.Sparse) {
        defer { incoming = nil }
        if ConvolutionTracking.isPermutation(l) { return }
        if let conv = incoming, pendingIsPermutation {
            current = conv
        } else {
            current = nil
        }
        pendingIsPermutation = false
    }

    /// The layer just closed is taken back into the pending map (MaxPool lowering).
    mutating func reopen(_ shape: ConvolutionShape?) {
        current = shape
        pendingIsPermutation = false
    }

    mutating func closeLayer() -> ConvolutionShape? {
        defer { current = nil; pendingIsPermutation = true }
        return current
    }

    static func isPermutation(_ l: ONNXFormat.Sparse) -> Bool {
        guard l.rows == l.columns, l.nonzeros == l.rows else { return false }
        var seen = [Bool](repeating: false, count: l.columns)
        for i in 0..<l.rows {
            guard l.rowStart[i + 1] - l.rowStart[i] == 1 else { return false }
            let p = l.rowStart[i]
            guard l.vals[p] == 1, !seen[l.cols[p]] else { return false }
            seen[l.cols[p]] = true
        }
        return true
    }
}

extension ConvGeometry {
    func shape(kernel: [Double]) -> ConvolutionShape {
        ConvolutionShape(inChannels: inChannels, outChannels: outChannels, inHeight: inHeight, inWidth: inWidth,
                         outHeight: outHeight, outWidth: outWidth, kernelHeight: kernelHeight, kernelWidth: kernelWidth,
                         strideH: strideH, strideW: strideW, padTop: padTop, padLeft: padLeft, padBottom: padBottom, padRight: padRight,
                         dilationH: dilationH, dilationW: dilationW, groups: groups, kernel: kernel)
    }
}

extension ConvolutionShape {
    var geometry: ConvGeometry {
        ConvGeometry(inChannels: inChannels, outChannels: outChannels, inHeight: inHeight, inWidth: inWidth,
                     kernelHeight: kernelHeight, kernelWidth: kernelWidth, strideH: strideH, strideW: strideW,
                     padTop: padTop, padLeft: padLeft, padBottom: padBottom, padRight: padRight,
                     dilationH: dilationH, dilationW: dilationW, groups: groups)
    }
}
