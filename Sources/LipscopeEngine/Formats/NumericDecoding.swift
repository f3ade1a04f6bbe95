/// Decodes `count` numbers of a fixed-size binary type into Doubles.
enum NumericDecoding {
    enum Kind: Sendable, Equatable {
        case float16, float32, float64
        case signed(Int)    // byte size
        case unsigned(Int)  // byte size
        case bool

        var size: Int {
            switch self {
            case .float16: 2
            case .float32: 4
            case .float64: 8
            case .signed(let s), .unsigned(let s): s
            case .bool: 1
            }
        }
    }

    /// `bytes` must hold exactly `count * kind.size` bytes (checked by the caller).
    static func decode(_ bytes: ArraySlice<UInt8>, kind: Kind, count: Int, littleEndian: Bool) -> [Double] {
        var out = [Double](repeating: 0, count: count)
        let size = kind.size
        let base = bytes.startIndex
        bytes.withUnsafeBufferPointer { buffer in
            for n in 0..<count {
                var raw: UInt64 = 0
                let start = n * size
                if littleEndian {
                    for k in stride(from: size - 1, through: 0, by: -1) { raw = raw << 8 | UInt64(buffer[start + k]) }
                } else {
                    for k in 0..<size { raw = raw << 8 | UInt64(buffer[start + k]) }
                }
                switch kind {
                case .float16: out[n] = halfToDouble(UInt16(truncatingIfNeeded: raw))
                case .float32: out[n] = Double(Float(bitPattern: UInt32(truncatingIfNeeded: raw)))
                case .float64: out[n] = Double(bitPattern: raw)
                case .signed(let s):
                    let shift = UInt64(64 - 8 * s)
                    out[n] = Double(Int64(bitPattern: raw << shift) >> Int64(shift))
                case .unsigned: out[n] = Double(raw)
                case .bool: out[n] = raw != 0 ? 1 : 0
                }
            }
        }
        _ = base
        return out
    }

    /// IEEE 754 binary16 → Double without relying on the platform's Float16.
    static func halfToDouble(_ h: UInt16) -> Double {
        let sign: Double = (h & 0x8000) != 0 ? -1 : 1
        let exponent = Int((h >> 10) & 0x1F)
        let fraction = Double(h & 0x3FF)
        if exponent == 0 { return sign * fraction * 0x1p-24 }
        if exponent == 31 { return fraction == 0 ? sign * .infinity : .nan }
        return sign * (1 + fraction / 1024) * Double(sign: .plus, exponent: exponent - 15, significand: 1)
    }
}
