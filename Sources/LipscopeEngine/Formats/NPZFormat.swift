import Foundation

/// NumPy's .npy (one array) and .npz (a ZIP of .npy files, stored or deflated).
/// Dtypes: float16/32/64, signed and unsigned integers, bool, either byte order; C or Fortran
/// order. Object (pickled) and structured arrays are refused: loading them would run pickle.
/// The arrays become a network by `WeightArrays` (weight lists, A/B/C/D, monDEQ W/U/Wout).
public enum NPZFormat {
    public static func read(_ bytes: [UInt8], file: String) throws -> Network {
        let arrays = try readArrays(bytes, file: file)
        return try WeightArrays.network(arrays.map { WeightArrays.Named(name: $0.name, array: $0.array) },
                                        name: WeightArrays.baseName(file), file: file,
                                        formatHint: "a NumPy .npz of weight arrays")
    }

    /// Every array of the archive, in archive order, named without the `.npy` suffix.
    static func readArrays(_ bytes: [UInt8], file: String) throws -> [(name: String, array: NDArray)] {
        if bytes.starts(with: [0x93] + Array("NUMPY".utf8)) {
            throw InputError(file: file, expected: "an .npz archive of named arrays", found: "a single .npy array (save it with numpy.savez)")
        }
        let zip = try ZipArchive(bytes, file: file)
        guard !zip.entries.isEmpty else {
            throw InputError(file: file, expected: "an .npz archive with arrays", found: "an empty archive")
        }
        var out: [(String, NDArray)] = []
        for entry in zip.entries where !entry.name.hasSuffix("/") {
            let name = entry.name.hasSuffix(".npy") ? String(entry.name.dropLast(4)) : entry.name
            let data = try zip.contents(of: entry)
            out.append((name, try NPYFormat.read(data[...], file: file, location: entry.name)))
        }
        return out
    }
}

public enum NPYFormat {
    /// Parses one .npy payload; `location` names the archive member in errors.
    static func read(_ bytes: ArraySlice<UInt8>, file: String, location: String) throws -> NDArray {
        let data = Array(bytes)
        let r = ByteReader(data, file: file)
        let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
        guard data.starts(with: magic) else {
            throw InputError(file: file, location: location, expected: "the .npy magic \\x93NUMPY", found: "other bytes")
        }
        let major = Int(try r.slice(6, 1, "version", location: location).first!)
        let headerLength: Int, headerStart: Int
        switch major {
        case 1: headerLength = try r.u16(8, "header length", location: location); headerStart = 10
        case 2, 3: headerLength = try r.u32(8, "header length", location: location); headerStart = 12
        default:
            throw InputError(file: file, location: location, expected: ".npy format version 1, 2 or 3", found: "version \(major)")
        }
        let headerBytes = try r.slice(headerStart, headerLength, "the .npy header", location: location)
        guard let header = String(bytes: headerBytes, encoding: major == 3 ? .utf8 : .isoLatin1) else {
            throw InputError(file: file, location: location, expected: "a text .npy header", found: "undecodable bytes")
        }
        var parser = HeaderParser(text: header, file: file, location: location)
        let dict = try parser.dictionary()
        guard case .string(let descr)? = dict["descr"] else {
            throw InputError(file: file, location: "\(location) header", expected: "a simple dtype string 'descr' such as '<f8'",
                             found: dict["descr"].map { "\($0)" } ?? "no descr (structured arrays are not read)")
        }
        guard case .bool(let fortran)? = dict["fortran_order"] else {
            throw InputError(file: file, location: "\(location) header", expected: "fortran_order True or False", found: "\(dict["fortran_order"].map { "\($0)" } ?? "nothing")")
        }
        guard case .tuple(let shape)? = dict["shape"], shape.allSatisfy({ $0 >= 0 }) else {
            throw InputError(file: file, location: "\(location) header", expected: "a shape tuple of non-negative integers", found: "\(dict["shape"].map { "\($0)" } ?? "nothing")")
        }
        let (kind, littleEndian) = try dtype(descr, file: file, location: location)
        guard let count = checkedProduct(shape) else {
            throw InputError(file: file, location: "\(location) header", expected: "a shape of plausible size", found: "\(shape)")
        }
        let dataStart = headerStart + headerLength
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: kind.size)
        guard !overflow, byteCount == data.count - dataStart else {
            throw InputError(file: file, location: location, expected: "\(count) values of \(descr) (\(overflow ? "too many" : String(byteCount)) bytes) after the header",
                             found: "\(max(0, data.count - dataStart)) bytes")
        }
        let values = NumericDecoding.decode(data[dataStart...], kind: kind, count: count, littleEndian: littleEndian)
        return fortran ? NDArray.fromColumnMajor(shape: shape, values: values) : NDArray(shape: shape, values: values)
    }

    static func dtype(_ descr: String, file: String, location: String) throws -> (NumericDecoding.Kind, Bool) {
        let chars = Array(descr)
        guard chars.count >= 2 else {
            throw InputError(file: file, location: "\(location) dtype", expected: "a dtype such as '<f8'", found: "'\(descr)'")
        }
        var order = chars[0]
        var body = String(chars.dropFirst())
        if !"<>|=".contains(order) { order = "="; body = descr }
        let little = order != ">"
        let kind: NumericDecoding.Kind? = switch body {
        case "f2": .float16
        case "f4": .float32
        case "f8": .float64
        case "i1": .signed(1)
        case "i2": .signed(2)
        case "i4": .signed(4)
        case "i8": .signed(8)
        case "u1": .unsigned(1)
        case "u2": .unsigned(2)
        case "u4": .unsigned(4)
        case "u8": .unsigned(8)
        case "b1", "?": .bool
        default: nil
        }
        guard let kind else {
            let why = body == "O" ? "object arrays (pickled Python objects are never loaded)" : "dtype '\(descr)'"
            throw InputError(file: file, location: "\(location) dtype", expected: "a real numeric dtype (float16/32/64, integers, bool)", found: why)
        }
        return (kind, little)
    }

    enum HeaderValue: CustomStringConvertible {
        case string(String), bool(Bool), tuple([Int]), int(Int), other(String)
        var description: String {
            switch self {
            case .string(let s): "'\(s)'"
            case .bool(let b): b ? "True" : "False"
            case .tuple(let t): "\(t)"
            case .int(let i): "\(i)"
            case .other(let o): o
            }
        }
    }

    /// The header is a Python dict literal: {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }
    struct HeaderParser {
        let chars: [Character]
        let file: String
        let location: String
        var i = 0

        init(text: String, file: String, location: String) {
            chars = Array(text); self.file = file; self.location = location
        }

        func fail(_ expected: String) -> InputError {
            let found = i < chars.count ? "\"\(String(chars[i..<min(chars.count, i + 20)]))\"" : "the end of the header"
            return InputError(file: file, location: "\(location) header, character \(i)", expected: expected, found: found)
        }

        mutating func skipSpace() { while i < chars.count, chars[i].isWhitespace { i += 1 } }

        mutating func expect(_ c: Character) throws {
            skipSpace()
            guard i < chars.count, chars[i] == c else { throw fail("'\(c)'") }
            i += 1
        }

        mutating func dictionary() throws -> [String: HeaderValue] {
            try expect("{")
            var out: [String: HeaderValue] = [:]
            while true {
                skipSpace()
                if i < chars.count, chars[i] == "}" { i += 1; break }
                guard case .string(let key) = try value() else { throw fail("a quoted key") }
                try expect(":")
                out[key] = try value()
                skipSpace()
                if i < chars.count, chars[i] == "," { i += 1; continue }
                try expect("}")
                break
            }
            return out
        }

        mutating func value() throws -> HeaderValue {
            skipSpace()
            guard i < chars.count else { throw fail("a value") }
            let c = chars[i]
            if c == "'" || c == "\"" {
                i += 1
                var s = ""
                while i < chars.count, chars[i] != c { s.append(chars[i]); i += 1 }
                guard i < chars.count else { throw fail("a closing quote") }
                i += 1
                return .string(s)
            }
            if c == "(" {
                i += 1
                var items: [Int] = []
                while true {
                    skipSpace()
                    if i < chars.count, chars[i] == ")" { i += 1; break }
                    guard case .int(let n) = try value() else { throw fail("an integer in the shape") }
                    items.append(n)
                    skipSpace()
                    if i < chars.count, chars[i] == "," { i += 1; continue }
                    try expect(")")
                    break
                }
                return .tuple(items)
            }
            if c.isNumber || c == "-" {
                var s = ""
                while i < chars.count, chars[i].isNumber || chars[i] == "-" { s.append(chars[i]); i += 1 }
                if i < chars.count, chars[i] == "L" { i += 1 }  // Python 2 long
                guard s.count <= 18, let n = Int(s) else { throw fail("an integer") }
                return .int(n)
            }
            var word = ""
            while i < chars.count, chars[i].isLetter || chars[i] == "_" { word.append(chars[i]); i += 1 }
            switch word {
            case "True": return .bool(true)
            case "False": return .bool(false)
            case "": throw fail("a value")
            default: return .other(word)
            }
        }
    }
}
