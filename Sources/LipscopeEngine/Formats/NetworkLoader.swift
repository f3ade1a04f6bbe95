import Foundation

/// Opens a network file of any supported format, choosing the reader by extension (and by
/// content when the extension is unknown). Every failure is an `InputError` naming the file.
public enum NetworkLoader {
    public static let extensions = ["json", "nnet", "onnx", "mat", "npz"]

    public static func load(path: String) throws -> Network {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw InputError(file: path, expected: "an existing network file", found: "no such file")
        }
        if isDirectory.boolValue {
            throw InputError(file: path, expected: "a network file (\(extensions.map { "." + $0 }.joined(separator: ", ")))", found: "a directory")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(file: path, expected: "a readable file", found: "permission denied or unreadable")
        }
        let ext = URL(fileURLWithPath: path).pathExtension.lowercased()
        switch ext {
        case "onnx": return try ONNXFormat.read([UInt8](data), file: path)
        case "mat": return try MATFormat.read([UInt8](data), file: path)
        case "npz": return try NPZFormat.read([UInt8](data), file: path)
        case "npy":
            throw InputError(file: path, expected: "an .npz archive of named arrays", found: "a single .npy array (save the weights with numpy.savez)")
        case "pt", "pth":
            throw InputError(file: path, expected: "a network format lipscope reads (\(extensions.map { "." + $0 }.joined(separator: ", ")))",
                             found: "a PyTorch pickle, which is never loaded (it can run code); export to ONNX, or save the tensors with numpy.savez")
        case "h5", "hdf5":
            throw InputError(file: path, expected: "a network format lipscope reads (\(extensions.map { "." + $0 }.joined(separator: ", ")))",
                             found: "an HDF5 file; for MATLAB save with -v7, for Keras export to ONNX")
        default: break
        }
        let text = try textContents(data, file: path, format: ext == "nnet" ? "NNet" : "JSON")
        if ext == "nnet" { return .feedforward(try NNetFormat.read(text, file: path)) }
        if ext == "json" || text.drop(while: { $0.isWhitespace }).first == "{" {
            return try NativeJSONFormat.read(data, file: path)
        }
        return .feedforward(try NNetFormat.read(text, file: path))
    }

    /// Text formats must be UTF-8 without NUL bytes; anything else is a binary file.
    static func textContents(_ data: Data, file: String, format: String) throws -> String {
        if data.isEmpty {
            throw InputError(file: file, expected: "a \(format) network", found: "an empty file")
        }
        if data.prefix(65536).contains(0) {
            throw InputError(file: file, expected: "a \(format) text file", found: "binary data (NUL bytes)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw InputError(file: file, expected: "a \(format) text file in UTF-8", found: "bytes that are not UTF-8 text (binary file?)")
        }
        return text
    }

    /// Writes the native JSON format.
    public static func save(_ network: Network, to path: String) throws {
        try NativeJSONFormat.write(network).write(to: URL(fileURLWithPath: path))
    }
}
