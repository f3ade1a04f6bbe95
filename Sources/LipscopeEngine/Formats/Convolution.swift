import LipscopeLinearAlgebra

/// A 2-D convolution's geometry (ONNX conventions: input and output flattened channel-first,
/// C × H × W, kernel (c_out, c_in / groups, kh, kw)). `toeplitz` gives the exact linear map as a
/// sparse matrix, so a convolution becomes an ordinary (sparse) layer.
struct ConvGeometry: Equatable {
    var inChannels: Int, outChannels: Int
    var inHeight: Int, inWidth: Int
    var kernelHeight: Int, kernelWidth: Int
    var strideH: Int, strideW: Int
    var padTop: Int, padLeft: Int, padBottom: Int, padRight: Int
    var dilationH: Int, dilationW: Int
    var groups: Int

    var outHeight: Int { (inHeight + padTop + padBottom - dilationH * (kernelHeight - 1) - 1) / strideH + 1 }
    var outWidth: Int { (inWidth + padLeft + padRight - dilationW * (kernelWidth - 1) - 1) / strideW + 1 }
    var inputSize: Int { inChannels * inHeight * inWidth }
    var outputSize: Int { outChannels * outHeight * outWidth }

    /// Why the geometry is impossible, or nil when it is consistent.
    var problem: String? {
        if [inChannels, outChannels, inHeight, inWidth, kernelHeight, kernelWidth, strideH, strideW, dilationH, dilationW, groups].contains(where: { $0 <= 0 }) {
            return "non-positive sizes, strides, dilations or groups"
        }
        if [padTop, padLeft, padBottom, padRight].contains(where: { $0 < 0 || $0 > 1 << 16 }) { return "negative or huge padding" }
        if inChannels % groups != 0 || outChannels % groups != 0 { return "channels not divisible by the group count" }
        if inHeight + padTop + padBottom < dilationH * (kernelHeight - 1) + 1 || inWidth + padLeft + padRight < dilationW * (kernelWidth - 1) + 1 {
            return "a kernel larger than the padded input"
        }
        guard let size = checkedProduct([outChannels, outHeight, outWidth, inChannels / groups, kernelHeight, kernelWidth], limit: 1 << 28) else {
            return "more than 2^28 nonzeros in the unrolled matrix"
        }
        _ = size
        return nil
    }

    /// Row (o, y, x), column (c, iy, ix), value kernel[o, c − g·c_in/G, a, b].
    func toeplitz(kernel: [Double]) -> SparseMatrix {
        let oh = outHeight, ow = outWidth
        let cinG = inChannels / groups, coutG = outChannels / groups
        var rowStart = [0]
        rowStart.reserveCapacity(outputSize + 1)
        var cols: [Int] = []
        var vals: [Double] = []
        for o in 0..<outChannels {
            let g = o / coutG
            for y in 0..<oh {
                for x in 0..<ow {
                    for c in 0..<cinG {
                        let channel = g * cinG + c
                        for a in 0..<kernelHeight {
                            let iy = y * strideH - padTop + a * dilationH
                            if iy < 0 || iy >= inHeight { continue }
                            for b in 0..<kernelWidth {
                                let ix = x * strideW - padLeft + b * dilationW
                                if ix < 0 || ix >= inWidth { continue }
                                let v = kernel[((o * cinG + c) * kernelHeight + a) * kernelWidth + b]
                                if v == 0 { continue }
                                cols.append((channel * inHeight + iy) * inWidth + ix)
                                vals.append(v)
                            }
                        }
                    }
                    rowStart.append(cols.count)
                }
            }
        }
        return SparseMatrix(rows: outputSize, columns: inputSize, rowStart: rowStart, columnIndex: cols, values: vals)
    }
}
