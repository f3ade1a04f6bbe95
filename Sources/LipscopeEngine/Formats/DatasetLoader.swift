import Foundation
import LipscopeLinearAlgebra

/// Reads classification data for `lipscope train`: the bundled 8×8 digits, a directory of MNIST
/// IDX files, or a CSV file (features, then an integer label, per line). Gzipped files are read
/// as well. Every failure is an `InputError` naming the file and the line (or byte offset).
public enum DatasetLoader {
    /// The held-out fraction and its seed when the source has no test set of its own. Fixed, so
    /// every run (and every λ of a sweep) is scored on the same examples.
    public static let testFraction = 0.2
    public static let splitSeed: UInt64 = 0

    /// Where `--data digits` is looked for, relative to the current directory and to the
    /// executable's ancestors (a build under .build/…/release finds the checkout's data/).
    public static let digitsRelativePath = "data/digits/digits.csv.gz"

    public static func load(_ spec: String) throws -> TrainingData {
        if spec == "digits" { return try loadDigits(path: try locateDigits()) }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: spec, isDirectory: &isDirectory) else {
            throw InputError(file: spec, expected: "`digits`, a directory of MNIST IDX files or a CSV file", found: "no such file or directory")
        }
        if isDirectory.boolValue { return try IDXDataset.load(directory: spec) }
        let dataset = try CSVDataset.read(path: spec, scale: 1)
        return split(dataset, source: spec)
    }

    /// The bundled digits: pixels 0…16 scaled to [0, 1].
    public static func loadDigits(path: String) throws -> TrainingData {
        var dataset = try CSVDataset.read(path: path, scale: 1.0 / 16, name: "digits")
        dataset.classCount = max(dataset.classCount, 10)
        return split(dataset, source: "digits (\(path))")
    }

    static func split(_ dataset: Dataset, source: String) -> TrainingData {
        let (train, test) = dataset.split(testFraction: testFraction, seed: splitSeed)
        return TrainingData(source: source, train: train, test: test,
                            testDescription: "held-out \(Int(testFraction * 100)) % (seed \(splitSeed))")
    }

    public static func locateDigits() throws -> String {
        var candidates = [digitsRelativePath]
        if let env = ProcessInfo.processInfo.environment["LIPSCOPE_DATA"] {
            candidates.insert(URL(fileURLWithPath: env).appendingPathComponent("digits/digits.csv.gz").path, at: 0)
        }
        var directory = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            candidates.append(directory.appendingPathComponent(digitsRelativePath).path)
            directory = directory.deletingLastPathComponent()
        }
        if let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) { return found }
        throw InputError(file: digitsRelativePath, expected: "the bundled digits data (run from the lipscope checkout, or set LIPSCOPE_DATA to its data/ folder)",
                         found: "no such file in the current directory or beside the executable")
    }

    /// The file's bytes, gunzipped when they start with the gzip magic.
    static func contents(of path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(file: path, expected: "a readable file", found: "no such file, or unreadable")
        }
        let bytes = [UInt8](data)
        return bytes.starts(with: [0x1F, 0x8B]) ? try Gzip.decompress(bytes, file: path) : bytes
    }
}

/// CSV: one example per line, comma-separated numbers, the last one the class label (a whole
/// number ≥ 0). A first line that is not numeric is taken as a header; blank lines are skipped.
enum CSVDataset {
    static func read(path: String, scale: Double, name: String? = nil) throws -> Dataset {
        let bytes = try DatasetLoader.contents(of: path)
        if bytes.isEmpty { throw InputError(file: path, expected: "CSV rows of features and a label", found: "an empty file") }
        if bytes.prefix(65536).contains(0) { throw InputError(file: path, expected: "a CSV text file", found: "binary data (NUL bytes)") }
        guard let text = String(bytes: bytes, encoding: .utf8) else {
            throw InputError(file: path, expected: "a CSV text file in UTF-8", found: "bytes that are not UTF-8 text")
        }
        var values: [Double] = []
        var labels: [Int] = []
        var width: Int? = nil
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            let numbers = fields.map { Double($0) }
            if labels.isEmpty && width == nil && numbers.contains(where: { $0 == nil }) && lineNumber == 1 { continue }  // header
            let location = "line \(lineNumber)"
            if let width, fields.count != width {
                throw InputError(file: path, location: location,
                                 expected: "\(width) comma-separated values like the first row (\(width - 1) features, then the label)",
                                 found: "\(fields.count) value\(fields.count == 1 ? "" : "s")")
            }
            if fields.count < 2 {
                throw InputError(file: path, location: location, expected: "at least one feature and a label, separated by commas",
                                 found: "\(fields.count) value")
            }
            width = fields.count
            for (k, number) in numbers.enumerated() {
                guard let number, number.isFinite else {
                    throw InputError(file: path, location: "\(location), column \(k + 1)", expected: "a finite number", found: "'\(fields[k])'")
                }
                if k < fields.count - 1 { values.append(number * scale) }
            }
            let label = numbers.last!!
            guard label >= 0, label == label.rounded(), label < 100_000 else {
                throw InputError(file: path, location: "\(location), column \(fields.count) (the label)",
                                 expected: "a whole-number class label ≥ 0", found: "'\(fields.last!)'")
            }
            labels.append(Int(label))
        }
        guard let width, !labels.isEmpty else {
            throw InputError(file: path, expected: "CSV rows of features and a label", found: "no data rows")
        }
        let classes = (labels.max() ?? 0) + 1
        guard classes >= 2 else {
            throw InputError(file: path, expected: "labels of at least two classes", found: "only label \(labels[0])")
        }
        let features = Matrix(rows: width - 1, columns: labels.count, storage: values)
        return Dataset(name: name ?? URL(fileURLWithPath: path).lastPathComponent, features: features, labels: labels, classCount: classes)
    }
}

/// MNIST's IDX files: a directory with `train-images-idx3-ubyte` and `train-labels-idx1-ubyte`
/// (optionally gzipped, any prefix), and optionally the `t10k-…` pair as the test set. Pixels are
/// scaled from 0…255 to [0, 1].
enum IDXDataset {
    static func load(directory: String) throws -> TrainingData {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        func find(_ part: String, _ kind: String) -> String? {
            files.filter { $0.contains(part) && $0.contains(kind) }.sorted().first.map { URL(fileURLWithPath: directory).appendingPathComponent($0).path }
        }
        guard let trainImages = find("train", "idx3"), let trainLabels = find("train", "idx1") else {
            throw InputError(file: directory, expected: "MNIST IDX files train-images-idx3-ubyte and train-labels-idx1-ubyte (optionally .gz)",
                             found: files.isEmpty ? "an empty directory" : "\(files.sorted().prefix(6).joined(separator: ", "))")
        }
        let train = try read(images: trainImages, labels: trainLabels, name: "train")
        if let testImages = find("t10k", "idx3") ?? find("test", "idx3"), let testLabels = find("t10k", "idx1") ?? find("test", "idx1") {
            var test = try read(images: testImages, labels: testLabels, name: "test")
            guard test.featureCount == train.featureCount else {
                throw InputError(file: testImages, expected: "images of \(train.featureCount) pixels like \(trainImages)", found: "\(test.featureCount) pixels")
            }
            let classes = max(train.classCount, test.classCount)
            var trainSet = train
            trainSet.classCount = classes; test.classCount = classes
            return TrainingData(source: directory, train: trainSet, test: test, testDescription: "the test files (\(URL(fileURLWithPath: testImages).lastPathComponent))")
        }
        return DatasetLoader.split(train, source: directory)
    }

    /// Header: two zero bytes, the element type (0x08 = unsigned byte), the number of dimensions,
    /// then each dimension as a big-endian UInt32.
    static func header(_ bytes: [UInt8], file: String, dimensions expected: Int) throws -> [Int] {
        guard bytes.count >= 4 + 4 * expected else {
            throw InputError(file: file, location: "header", expected: "an IDX header of \(4 + 4 * expected) bytes", found: "\(bytes.count) bytes in the file")
        }
        guard bytes[0] == 0, bytes[1] == 0, bytes[2] == 0x08 else {
            throw InputError(file: file, location: "bytes 0–2", expected: "the IDX magic 00 00 08 (unsigned bytes)",
                             found: bytes.prefix(3).map { String(format: "%02x", $0) }.joined(separator: " "))
        }
        guard Int(bytes[3]) == expected else {
            throw InputError(file: file, location: "byte 3", expected: "\(expected) dimension\(expected == 1 ? "" : "s") (\(expected == 3 ? "images" : "labels"))",
                             found: "\(bytes[3])")
        }
        let dims = (0..<expected).map { d in (0..<4).reduce(0) { $0 << 8 | Int(bytes[4 + 4 * d + $1]) } }
        let payload = dims.reduce(1, *)
        guard bytes.count == 4 + 4 * expected + payload else {
            throw InputError(file: file, location: "size", expected: "\(4 + 4 * expected + payload) bytes for dimensions \(dims.map(String.init).joined(separator: "×"))",
                             found: "\(bytes.count) bytes")
        }
        return dims
    }

    static func read(images imagePath: String, labels labelPath: String, name: String) throws -> Dataset {
        let imageBytes = try DatasetLoader.contents(of: imagePath)
        let labelBytes = try DatasetLoader.contents(of: labelPath)
        let imageDims = try header(imageBytes, file: imagePath, dimensions: 3)
        let labelDims = try header(labelBytes, file: labelPath, dimensions: 1)
        guard imageDims[0] == labelDims[0] else {
            throw InputError(file: labelPath, location: "header", expected: "\(imageDims[0]) labels, one per image of \(imagePath)", found: "\(labelDims[0])")
        }
        let count = imageDims[0], pixels = imageDims[1] * imageDims[2]
        guard count > 0, pixels > 0 else { throw InputError(file: imagePath, location: "header", expected: "at least one image", found: "none") }
        let features = Matrix(rows: pixels, columns: count, storage: imageBytes[16...].map { Double($0) / 255 })
        let labels = labelBytes[8...].map(Int.init)
        return Dataset(name: name, features: features, labels: labels, classCount: max(2, (labels.max() ?? 0) + 1))
    }
}

/// gzip (RFC 1952) around a raw deflate stream: the header is skipped here, zlib inflates the rest.
enum Gzip {
    static func decompress(_ bytes: [UInt8], file: String) throws -> [UInt8] {
        func fail(_ what: String) -> InputError { InputError(file: file, location: "gzip header", expected: "a gzip file", found: what) }
        guard bytes.count >= 18, bytes[2] == 8 else { throw fail(bytes.count < 18 ? "\(bytes.count) bytes" : "compression method \(bytes[2])") }
        let flags = bytes[3]
        var p = 10
        if flags & 4 != 0 {
            guard p + 2 <= bytes.count else { throw fail("a truncated extra field") }
            p += 2 + Int(bytes[p]) | Int(bytes[p + 1]) << 8
        }
        for flag: UInt8 in [8, 16] where flags & flag != 0 {  // file name, comment: zero-terminated
            while p < bytes.count && bytes[p] != 0 { p += 1 }
            p += 1
        }
        if flags & 2 != 0 { p += 2 }
        guard p < bytes.count else { throw fail("a header longer than the file") }
        switch Inflater.inflate(bytes[p...], raw: true, limit: 1 << 31) {
        case .success(let out): return out
        case .failure(.truncated): throw InputError(file: file, expected: "a complete gzip stream", found: "a truncated one")
        case .failure(.corrupt(let why)): throw InputError(file: file, expected: "a valid gzip stream", found: "corrupt data (\(why))")
        case .failure(.tooLarge(let limit)): throw InputError(file: file, expected: "at most \(limit) bytes uncompressed", found: "more")
        }
    }
}
