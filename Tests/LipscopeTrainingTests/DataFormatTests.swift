import Foundation
import Testing
@testable import LipscopeEngine

/// Data files: the bundled digits, CSV and IDX reading, and errors that name file and line.
@Suite struct DataFormatTests {
    @Test func bundledDigitsHaveTheDocumentedShape() throws {
        let data = try DatasetLoader.loadDigits(path: TrainingFixtures.digitsPath)
        #expect(data.train.count + data.test.count == 1797)
        #expect(data.test.count == 359)
        #expect(data.train.featureCount == 64 && data.train.classCount == 10)
        #expect(data.train.features.storage.allSatisfy { $0 >= 0 && $0 <= 1 })
        // First line of the file (SOURCES.md): 0,0,5,13,9,1,0,0,… label 0.
        let all = try CSVDataset.read(path: TrainingFixtures.digitsPath, scale: 1)
        #expect(all.features.column(0).prefix(6) == [0, 0, 5, 13, 9, 1])
        #expect(all.labels[0] == 0 && all.labels[1] == 1)
    }

    func inputError(_ body: () throws -> Any) -> InputError? {
        do { _ = try body(); return nil } catch let e as InputError { return e } catch { return nil }
    }

    @Test func csvWithHeaderReads() throws {
        let path = TrainingFixtures.file("ok.csv", bytes: Array("x1,x2,label\n1,2,0\n3,4,1\n\n".utf8))
        let data = try DatasetLoader.load(path)
        #expect(data.train.count + data.test.count == 2)
        #expect(data.train.featureCount == 2 && data.train.classCount == 2)
    }

    @Test func malformedCSVNamesFileAndLine() throws {
        let cases: [(String, String, String)] = [
            ("1,2,0\n3,4,1\n5,6\n", "line 3", "3 comma-separated values"),
            ("1,2,0\n3,abc,1\n", "line 2, column 2", "a finite number"),
            ("1,2,0\n3,4,1.5\n", "line 2, column 3 (the label)", "whole-number class label"),
            ("1,2,-1\n", "line 1, column 3 (the label)", "whole-number class label"),
            ("1,2,0\n1,2,0\n", "", "at least two classes"),
        ]
        for (text, location, expected) in cases {
            let path = TrainingFixtures.file("bad.csv", bytes: Array(text.utf8))
            let error = try #require(inputError { try DatasetLoader.load(path) }, "\(text)")
            #expect(error.file == path)
            if !location.isEmpty { #expect(error.location == location, "\(error)") }
            #expect(error.expected.contains(expected), "\(error)")
        }
        let empty = TrainingFixtures.file("empty.csv", bytes: [])
        #expect(inputError { try DatasetLoader.load(empty) }?.found == "an empty file")
        let truncatedGzip = TrainingFixtures.file("cut.csv.gz", bytes: Array(try Data(contentsOf: URL(fileURLWithPath: TrainingFixtures.digitsPath)).prefix(200)))
        #expect(inputError { try DatasetLoader.load(truncatedGzip) }?.expected.contains("gzip") == true)
        #expect(inputError { try DatasetLoader.load("/nonexistent/data.csv") } != nil)
    }

    static func idx(magicType: UInt8 = 8, dims: [Int], payload: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = [0, 0, magicType, UInt8(dims.count)]
        for d in dims { bytes += [UInt8(d >> 24 & 255), UInt8(d >> 16 & 255), UInt8(d >> 8 & 255), UInt8(d & 255)] }
        return bytes + payload
    }

    @Test func idxDirectoryReads() throws {
        let dir = TrainingFixtures.scratchDirectory()
        let images = (0..<(10 * 4)).map { UInt8($0 * 6 % 256) }
        _ = TrainingFixtures.file("train-images-idx3-ubyte", bytes: Self.idx(dims: [10, 2, 2], payload: images), in: dir)
        _ = TrainingFixtures.file("train-labels-idx1-ubyte", bytes: Self.idx(dims: [10], payload: (0..<10).map { UInt8($0 % 3) }), in: dir)
        let data = try DatasetLoader.load(dir.path)
        #expect(data.train.count == 8 && data.test.count == 2)
        #expect(data.train.featureCount == 4 && data.train.classCount == 3)
        #expect(data.train.features.storage.allSatisfy { $0 >= 0 && $0 <= 1 })
        // With a t10k pair, that pair is the test set.
        _ = TrainingFixtures.file("t10k-images-idx3-ubyte", bytes: Self.idx(dims: [3, 2, 2], payload: Array(images.prefix(12))), in: dir)
        _ = TrainingFixtures.file("t10k-labels-idx1-ubyte", bytes: Self.idx(dims: [3], payload: [0, 1, 2]), in: dir)
        let withTest = try DatasetLoader.load(dir.path)
        #expect(withTest.train.count == 10 && withTest.test.count == 3)
    }

    @Test func malformedIDXNamesFileAndPlace() throws {
        let dir = TrainingFixtures.scratchDirectory()
        let labels = TrainingFixtures.file("train-labels-idx1-ubyte", bytes: Self.idx(dims: [4], payload: [0, 1, 0, 1]), in: dir)
        let images = TrainingFixtures.file("train-images-idx3-ubyte", bytes: Self.idx(magicType: 0x0D, dims: [4, 2, 2], payload: Array(repeating: 0, count: 64)), in: dir)
        var error = try #require(inputError { try DatasetLoader.load(dir.path) })
        #expect(error.file == images && error.location == "bytes 0–2")
        _ = TrainingFixtures.file("train-images-idx3-ubyte", bytes: Self.idx(dims: [4, 2, 2], payload: Array(repeating: 0, count: 15)), in: dir)
        error = try #require(inputError { try DatasetLoader.load(dir.path) })
        #expect(error.file == images && error.location == "size" && error.found == "31 bytes")
        _ = TrainingFixtures.file("train-images-idx3-ubyte", bytes: Self.idx(dims: [5, 2, 2], payload: Array(repeating: 0, count: 20)), in: dir)
        error = try #require(inputError { try DatasetLoader.load(dir.path) })
        #expect(error.file == labels && error.expected.contains("5 labels"))
        let empty = TrainingFixtures.scratchDirectory()
        #expect(inputError { try DatasetLoader.load(empty.path) }?.expected.contains("train-images-idx3-ubyte") == true)
    }
}
