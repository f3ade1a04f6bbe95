import Foundation

/// Bounds-checked reads from a byte buffer. Every read past the end throws an `InputError`
/// naming the file, the place and what was being read: binary parsers never trap on bad input.
struct ByteReader {
    let bytes: [UInt8]
    let file: String
    var littleEndian: Bool = true

    init(_ bytes: [UInt8], file: String, littleEndian: Bool = true) {
        self.bytes = bytes; self.file = file; self.littleEndian = littleEndian
    }

    var count: Int { bytes.count }

    func need(_ offset: Int, _ length: Int, _ what: String, location: String? = nil) throws {
        guard offset >= 0, length >= 0, offset <= bytes.count, length <= bytes.count - offset else {
            throw InputError(file: file, location: location ?? "byte \(offset)",
                             expected: "\(length) bytes of \(what)",
                             found: "the end of the data after \(max(0, bytes.count - max(0, offset))) bytes (truncated file?)")
        }
    }

    func uint(_ offset: Int, size: Int, _ what: String, location: String? = nil) throws -> UInt64 {
        try need(offset, size, what, location: location)
        var value: UInt64 = 0
        if littleEndian {
            for k in stride(from: size - 1, through: 0, by: -1) { value = value << 8 | UInt64(bytes[offset + k]) }
        } else {
            for k in 0..<size { value = value << 8 | UInt64(bytes[offset + k]) }
        }
        return value
    }

    func u16(_ offset: Int, _ what: String, location: String? = nil) throws -> Int {
        Int(try uint(offset, size: 2, what, location: location))
    }
    func u32(_ offset: Int, _ what: String, location: String? = nil) throws -> Int {
        Int(try uint(offset, size: 4, what, location: location))
    }
    /// A 64-bit size or offset; values beyond Int's range are refused rather than trapped on.
    func u64(_ offset: Int, _ what: String, location: String? = nil) throws -> Int {
        let v = try uint(offset, size: 8, what, location: location)
        guard v <= UInt64(Int.max / 2) else {
            throw InputError(file: file, location: location ?? "byte \(offset)", expected: "a plausible \(what)", found: "\(v)")
        }
        return Int(v)
    }

    func slice(_ offset: Int, _ length: Int, _ what: String, location: String? = nil) throws -> ArraySlice<UInt8> {
        try need(offset, length, what, location: location)
        return bytes[offset..<(offset + length)]
    }
}
