import Foundation

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
