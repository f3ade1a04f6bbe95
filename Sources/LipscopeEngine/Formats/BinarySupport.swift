import Foundation
import CZlib

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

/// zlib inflation (Debian's zlib through the CZlib system-library target).
enum Inflater {
    enum Failure: Error { case corrupt(String), truncated, tooLarge(Int) }

    /// Inflates a zlib stream (`raw == false`, MAT v5 compressed elements) or a raw deflate
    /// stream (`raw == true`, ZIP entries). The output may not exceed `limit` bytes.
    static func inflate(_ input: ArraySlice<UInt8>, raw: Bool, expectedSize: Int? = nil, limit: Int) -> Result<[UInt8], Failure> {
        if input.isEmpty { return .failure(.truncated) }
        var source = Array(input)
        // Deflate expands at most ~1032:1, so never reserve more than that up front.
        let plausible = min(limit, source.count.multipliedReportingOverflow(by: 1032).partialValue + 1024)
        let initial = max(256, min(plausible, expectedSize ?? source.count.multipliedReportingOverflow(by: 4).partialValue))
        var output = [UInt8](repeating: 0, count: max(1, initial))
        var produced = 0
        var stream = z_stream()
        var outcome: Result<Void, Failure> = .success(())
        source.withUnsafeMutableBufferPointer { inBuffer in
            guard lipscope_inflate_init(&stream, raw ? -15 : 15) == Z_OK else {
                outcome = .failure(.corrupt("zlib could not start")); return
            }
            defer { inflateEnd(&stream) }
            stream.next_in = inBuffer.baseAddress
            stream.avail_in = uInt(inBuffer.count)
            while true {
                if produced == output.count {
                    if output.count >= limit { outcome = .failure(.tooLarge(limit)); return }
                    let grow = min(output.count, limit - output.count)
                    output.append(contentsOf: repeatElement(0, count: grow))
                }
                let status: Int32 = output.withUnsafeMutableBufferPointer { outBuffer in
                    stream.next_out = outBuffer.baseAddress! + produced
                    stream.avail_out = uInt(outBuffer.count - produced)
                    let s = CZlib.inflate(&stream, Z_NO_FLUSH)
                    produced = outBuffer.count - Int(stream.avail_out)
                    return s
                }
                if status == Z_STREAM_END { return }
                if status == Z_OK { continue }
                if status == Z_BUF_ERROR {
                    if stream.avail_out == 0 { continue }  // needs more room: grow and go on
                    outcome = .failure(.truncated); return
                }
                let message = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                outcome = .failure(.corrupt(message)); return
            }
        }
        switch outcome {
        case .failure(let f): return .failure(f)
        case .success: return .success(Array(output[0..<produced]))
        }
    }

    static func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: uLong = CZlib.crc32(0, nil, 0)
        bytes.withUnsafeBufferPointer { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = min(buffer.count - offset, 1 << 30)
                crc = CZlib.crc32(crc, buffer.baseAddress! + offset, uInt(n))
                offset += n
            }
        }
        return UInt32(truncatingIfNeeded: crc)
    }
}

/// A minimal ZIP reader (stored and deflated entries, ZIP64 sizes), enough for NumPy's .npz.
struct ZipArchive {
    struct Entry {
        var name: String
        var method: Int
        var flags: Int
        var crc: UInt32
        var compressedSize: Int
        var size: Int
        var localHeaderOffset: Int
    }

    let reader: ByteReader
    var entries: [Entry] = []

    /// The largest member we inflate (NumPy arrays of networks are far smaller).
    static let memberLimit = 1 << 31

    init(_ bytes: [UInt8], file: String) throws {
        reader = ByteReader(bytes, file: file)
        let r = reader
        guard bytes.count >= 22 else {
            throw InputError(file: file, expected: "a ZIP archive (.npz)", found: "\(bytes.count) bytes, too short for one")
        }
        // The end-of-central-directory record sits in the last 64 KiB + 22 bytes.
        var eocd = -1
        var p = bytes.count - 22
        let lowest = max(0, bytes.count - 22 - 65_535)
        while p >= lowest {
            if bytes[p] == 0x50, bytes[p + 1] == 0x4B, bytes[p + 2] == 0x05, bytes[p + 3] == 0x06 { eocd = p; break }
            p -= 1
        }
        guard eocd >= 0 else {
            let zipStart = bytes.starts(with: [0x50, 0x4B, 0x03, 0x04])
            throw InputError(file: file, location: "end of file", expected: "the ZIP end-of-central-directory record",
                             found: zipStart ? "none (truncated archive?)" : "no ZIP structure (not an .npz archive)")
        }
        var entryCount = try r.u16(eocd + 10, "ZIP entry count")
        var directorySize = try r.u32(eocd + 12, "ZIP central directory size")
        var directoryOffset = try r.u32(eocd + 16, "ZIP central directory offset")
        if entryCount == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF {
            // ZIP64: a locator 20 bytes before the record points at the ZIP64 end record.
            let locator = eocd - 20
            guard locator >= 0, try r.u32(locator, "ZIP64 locator") == 0x0706_4B50 else {
                throw InputError(file: file, location: "byte \(max(0, locator))", expected: "a ZIP64 end-of-directory locator", found: "none")
            }
            let record = try r.u64(locator + 8, "ZIP64 record offset")
            guard try r.u32(record, "ZIP64 end record") == 0x0606_4B50 else {
                throw InputError(file: file, location: "byte \(record)", expected: "a ZIP64 end-of-directory record", found: "other data")
            }
            entryCount = try r.u64(record + 32, "ZIP64 entry count")
            directorySize = try r.u64(record + 40, "ZIP64 directory size")
            directoryOffset = try r.u64(record + 48, "ZIP64 directory offset")
        }
        try r.need(directoryOffset, directorySize, "the ZIP central directory", location: "byte \(directoryOffset)")
        guard entryCount <= directorySize / 46 else {
            throw InputError(file: file, location: "central directory", expected: "at most \(directorySize / 46) entries in \(directorySize) bytes",
                             found: "\(entryCount) entries claimed")
        }
        var q = directoryOffset
        for k in 0..<entryCount {
            let location = "ZIP central directory entry \(k)"
            guard try r.u32(q, "central directory entry", location: location) == 0x0201_4B50 else {
                throw InputError(file: file, location: location, expected: "a central directory entry signature (PK\\1\\2)", found: "other bytes")
            }
            let flags = try r.u16(q + 8, "flags", location: location)
            let method = try r.u16(q + 10, "method", location: location)
            let crc = UInt32(try r.u32(q + 16, "CRC", location: location))
            var compressed = try r.u32(q + 20, "compressed size", location: location)
            var size = try r.u32(q + 24, "size", location: location)
            let nameLength = try r.u16(q + 28, "name length", location: location)
            let extraLength = try r.u16(q + 30, "extra length", location: location)
            let commentLength = try r.u16(q + 32, "comment length", location: location)
            var offset = try r.u32(q + 42, "local header offset", location: location)
            let nameBytes = try r.slice(q + 46, nameLength, "entry name", location: location)
            let name = String(decoding: nameBytes, as: UTF8.self)
            // ZIP64 extra field (id 1): the 64-bit values of the fields that read 0xFFFFFFFF.
            var e = q + 46 + nameLength
            let extraEnd = e + extraLength
            while e + 4 <= extraEnd {
                let id = try r.u16(e, "extra field id", location: location)
                let length = try r.u16(e + 2, "extra field length", location: location)
                if id == 1 {
                    var f = e + 4
                    if size == 0xFFFF_FFFF { size = try r.u64(f, "ZIP64 size", location: location); f += 8 }
                    if compressed == 0xFFFF_FFFF { compressed = try r.u64(f, "ZIP64 compressed size", location: location); f += 8 }
                    if offset == 0xFFFF_FFFF { offset = try r.u64(f, "ZIP64 offset", location: location); f += 8 }
                }
                e += 4 + length
            }
            entries.append(Entry(name: name, method: method, flags: flags, crc: crc, compressedSize: compressed,
                                 size: size, localHeaderOffset: offset))
            q += 46 + nameLength + extraLength + commentLength
        }
    }

    /// The uncompressed bytes of an entry, CRC-checked.
    func contents(of entry: Entry) throws -> [UInt8] {
        let r = reader, file = reader.file
        let location = "ZIP member \(entry.name)"
        guard entry.flags & 1 == 0 else {
            throw InputError(file: file, location: location, expected: "an unencrypted member", found: "an encrypted one")
        }
        let h = entry.localHeaderOffset
        guard try r.u32(h, "local header", location: location) == 0x0403_4B50 else {
            throw InputError(file: file, location: location, expected: "a local file header (PK\\3\\4) at byte \(h)", found: "other bytes")
        }
        let nameLength = try r.u16(h + 26, "name length", location: location)
        let extraLength = try r.u16(h + 28, "extra length", location: location)
        let start = h + 30 + nameLength + extraLength
        let data = try r.slice(start, entry.compressedSize, "member data", location: location)
        let output: [UInt8]
        switch entry.method {
        case 0:
            guard entry.size == entry.compressedSize else {
                throw InputError(file: file, location: location, expected: "equal sizes for a stored member",
                                 found: "\(entry.compressedSize) stored, \(entry.size) declared")
            }
            output = Array(data)
        case 8:
            guard entry.size <= Self.memberLimit, entry.size <= entry.compressedSize.multipliedReportingOverflow(by: 1032).partialValue + 1024 else {
                throw InputError(file: file, location: location, expected: "a member under 2 GiB", found: "\(entry.size) bytes declared")
            }
            switch Inflater.inflate(data, raw: true, expectedSize: entry.size, limit: max(entry.size, 1)) {
            case .success(let bytes): output = bytes
            case .failure(.truncated):
                throw InputError(file: file, location: location, expected: "a complete deflate stream", found: "it ends early (truncated file?)")
            case .failure(.tooLarge):
                throw InputError(file: file, location: location, expected: "\(entry.size) bytes once inflated (as declared)", found: "more")
            case .failure(.corrupt(let why)):
                throw InputError(file: file, location: location, expected: "valid deflate data", found: "corrupt data (\(why))")
            }
        default:
            throw InputError(file: file, location: location, expected: "a stored or deflated member (method 0 or 8)",
                             found: "compression method \(entry.method)")
        }
        guard output.count == entry.size else {
            throw InputError(file: file, location: location, expected: "\(entry.size) bytes (declared size)", found: "\(output.count)")
        }
        let crc = Inflater.crc32(output[...])
        guard crc == entry.crc else {
            throw InputError(file: file, location: location, expected: String(format: "CRC-32 %08x", entry.crc),
                             found: String(format: "%08x (corrupt member)", crc))
        }
        return output
    }
}
