import Foundation

/// An input region read from a file: a center point (a JSON array, or numbers separated by
/// commas or whitespace) or a VNN-LIB property (its input box and, for a robustness property,
/// the label that must stay largest).
public struct RegionFile: Sendable, Equatable {
    /// The center of the region: the point itself, or the midpoint of the VNN-LIB box.
    public var center: [Double]
    /// The VNN-LIB property's input box, when the file is one.
    public var box: InputRegion?
    /// The VNN-LIB property's label.
    public var label: Int?
    /// The classes the VNN-LIB property says must stay below the label (nil: all the others).
    public var others: [Int]?

    public init(center: [Double], box: InputRegion? = nil, label: Int? = nil, others: [Int]? = nil) {
        self.center = center; self.box = box; self.label = label; self.others = others
    }

    /// Reads `path` for a network with `inputSize` inputs (and `outputSize` outputs, which a
    /// VNN-LIB property must match). Errors name the file, the entry, what was expected and what
    /// was found.
    public static func load(path: String, inputSize: Int, outputSize: Int) throws -> RegionFile {
        if path.lowercased().hasSuffix(".vnnlib") {
            let property = try VNNLIBFormat.load(path: path)
            guard property.region.dimension == inputSize else {
                throw InputError(file: path, location: "declare-const X_i", expected: "\(inputSize) inputs (the network's)",
                                 found: "\(property.region.dimension)")
            }
            guard property.outputCount == outputSize else {
                throw InputError(file: path, location: "declare-const Y_j", expected: "\(outputSize) outputs (the network's)",
                                 found: "\(property.outputCount)")
            }
            let mid = zip(property.region.lower, property.region.upper).map { ($0 + $1) / 2 }
            return RegionFile(center: mid, box: property.region, label: property.label, others: property.others)
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(file: path, expected: "a readable file", found: "none")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw InputError(file: path, expected: "a text file of numbers", found: "not UTF-8")
        }
        return RegionFile(center: try numbers(text, file: path, count: inputSize))
    }

    /// A JSON array of numbers, or numbers separated by commas or whitespace.
    public static func numbers(_ text: String, file: String, count: Int) throws -> [Double] {
        var body = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if body.hasPrefix("[") {
            guard body.hasSuffix("]") else { throw InputError(file: file, expected: "a JSON array closed by ']'", found: "no ']' at the end") }
            body = String(body.dropFirst().dropLast())
        }
        let words = body.split(whereSeparator: { $0 == "," || $0.isWhitespace })
        var values: [Double] = []
        for (i, w) in words.enumerated() {
            guard let v = Double(w), v.isFinite else {
                throw InputError(file: file, location: "entry \(i)", expected: "a finite number", found: String(w))
            }
            values.append(v)
        }
        guard values.count == count else {
            throw InputError(file: file, expected: "\(count) numbers (one per network input)", found: "\(values.count) numbers")
        }
        return values
    }
}
