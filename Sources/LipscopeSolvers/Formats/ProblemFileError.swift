import Foundation

/// A problem file could not be read or written. The description names the file and, for
/// syntax errors, the 1-based line, then says what was expected and what was found.
public struct ProblemFileError: Error, CustomStringConvertible, Sendable, Equatable {
    public let file: String
    /// 1-based line number, nil for whole-file problems (missing file, premature end …).
    public let line: Int?
    public let message: String

    public init(file: String, line: Int?, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String {
        if let line { return "\(file):\(line): \(message)" }
        return "\(file): \(message)"
    }
}

/// Reads a text file for the parsers; a missing or unreadable file becomes a ProblemFileError.
func readProblemText(_ path: String) throws(ProblemFileError) -> String {
    guard FileManager.default.fileExists(atPath: path) else {
        throw ProblemFileError(file: path, line: nil, message: "no such file")
    }
    guard let data = FileManager.default.contents(atPath: path) else {
        throw ProblemFileError(file: path, line: nil, message: "cannot read file")
    }
    guard let text = String(data: data, encoding: .utf8) ?? String(data: data, encoding: .isoLatin1) else {
        throw ProblemFileError(file: path, line: nil, message: "file is not text")
    }
    return text
}

func writeProblemText(_ text: String, to path: String) throws(ProblemFileError) {
    do {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    } catch {
        throw ProblemFileError(file: path, line: nil, message: "cannot write file: \(error.localizedDescription)")
    }
}

/// Parses a floating-point number, accepting Fortran-style `D` exponents.
func parseNumber<S: StringProtocol>(_ s: S) -> Double? {
    if let v = Double(s) { return v }
    let t = s.replacingOccurrences(of: "D", with: "e").replacingOccurrences(of: "d", with: "e")
    return Double(t)
}

/// Shortest text that parses back to exactly `v`.
func formatNumber(_ v: Double) -> String {
    if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
    return "\(v)"
}
