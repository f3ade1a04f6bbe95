import Foundation
import Testing
@testable import LipscopeEngine
import LipscopeTestSupport

/// Every kind of bad input gets one InputError naming the file, the field or line, what was
/// expected and what was found.
@Suite struct MalformedInputTests {
    func error(loading path: String) -> InputError? {
        do { _ = try NetworkLoader.load(path: path); return nil } catch let e as InputError { return e } catch {
            Issue.record("unexpected error type \(type(of: error)): \(error)"); return nil
        }
    }

    func expectError(_ name: String, _ contents: String, location: String?, contains: [String]) {
        let path = Fixtures.temporaryFile(name, contents)
        guard let e = error(loading: path) else { Issue.record("\(name) loaded without error"); return }
        let text = e.description
        #expect(text.hasPrefix(path), "message does not name the file: \(text)")
        if let location { #expect(e.location == location, "location \(e.location ?? "nil") in: \(text)") }
        for fragment in contains { #expect(text.contains(fragment), "missing '\(fragment)' in: \(text)") }
    }

    static let valid = #"{"format":"lipscope.network","version":1,"name":"t","kind":"feedforward","input_size":2,"layers":[{"weight":[[1,2],[3,4]],"bias":[0,0],"activation":"relu"},{"weight":[[1,-1]],"bias":[0],"activation":"identity"}]}"#

    @Test func validFileLoads() throws {
        let path = Fixtures.temporaryFile("ok.json", Self.valid)
        let net = try NetworkLoader.load(path: path)
        #expect(net.forward([1, 1]) == [-4])
    }

    @Test func truncatedJSON() {
        expectError("t.json", String(Self.valid.prefix(90)), location: nil, contains: ["expected valid JSON", "truncated"])
    }

    @Test func syntaxErrorGivesLineAndColumn() {
        expectError("s.json", "{\n \"format\": lipscope}", location: "line 2, column 12", contains: ["valid JSON"])
    }

    @Test func wrongShapes() {
        let bad = Self.valid.replacingOccurrences(of: #"[[1,-1]]"#, with: #"[[1,-1,5]]"#)
        expectError("shape.json", bad, location: "layers[1].weight[0]",
                    contains: ["expected 2 columns (the previous layer's output size), found 3"])
        let badBias = Self.valid.replacingOccurrences(of: #""bias":[0,0]"#, with: #""bias":[0]"#)
        expectError("bias.json", badBias, location: "layers[0].bias", contains: ["expected 2 numbers, found 1"])
    }

    @Test func nonFiniteNumbers() {
        let huge = Self.valid.replacingOccurrences(of: "[[1,2],", with: "[[1e999,2],")
        expectError("inf.json", huge, location: nil, contains: ["1e999"])
        let text = Self.valid.replacingOccurrences(of: "[[1,2],", with: #"[["NaN",2],"#)
        expectError("nan.json", text, location: "layers[0].weight[0][0]", contains: ["expected a number", "NaN"])
        expectError("nan.nnet", "1,1,1,1,\n1,1,\n0,\n0,\n1,\n0,0,\n1,1,\nnan,\n0,\n", location: "line 8",
                    contains: ["expected a finite number"])
    }

    @Test func unknownActivation() {
        // ("swish" is read as silu since the smooth activations arrived.)
        let bad = Self.valid.replacingOccurrences(of: #""activation":"relu""#, with: #""activation":"mish""#)
        expectError("act.json", bad, location: "layers[0].activation",
                    contains: ["expected one of relu, leaky_relu, tanh, sigmoid, identity, elu, softplus, gelu, silu, found \"mish\""])
    }

    @Test func leakyReluNeedsItsSlope() {
        let bad = Self.valid.replacingOccurrences(of: #""activation":"relu""#, with: #""activation":"leaky_relu""#)
        expectError("leaky.json", bad, location: "layers[0].slope", contains: ["expected a number, found nothing"])
    }

    @Test func emptyNetwork() {
        expectError("empty.json", #"{"format":"lipscope.network","version":1,"kind":"feedforward","input_size":2,"layers":[]}"#,
                    location: "layers", contains: ["at least one layer", "empty network"])
        expectError("empty2.json", "", location: nil, contains: ["an empty file"])
        expectError("empty.nnet", "// only a comment\n", location: nil, contains: ["empty file"])
    }

    @Test func wrongFormatAndKind() {
        expectError("fmt.json", Self.valid.replacingOccurrences(of: "lipscope.network", with: "onnx"), location: "format",
                    contains: ["expected \"lipscope.network\", found \"onnx\""])
        expectError("kind.json", Self.valid.replacingOccurrences(of: "\"feedforward\"", with: "\"recurrent\""), location: "kind",
                    contains: ["\"feedforward\", \"implicit\" or \"graph\""])
        expectError("missing.json", Self.valid.replacingOccurrences(of: "\"input_size\":2,", with: ""), location: "input_size",
                    contains: ["found nothing (the field is missing)"])
    }

    @Test func sparseWeights() throws {
        let sparse = #"{"rows":2,"columns":2,"row_start":[0,1,2],"column_index":[1,0],"values":[5,-2]}"#
        let ok = Self.valid.replacingOccurrences(of: "[[1,2],[3,4]]", with: sparse)
        let net = try NetworkLoader.load(path: Fixtures.temporaryFile("sparse.json", ok))
        #expect(net.forward([1, 1]) == [5])  // W = [[0,5],[-2,0]]: relu([5, -2]) = [5, 0], then 5 − 0
        let badStart = ok.replacingOccurrences(of: "[0,1,2]", with: "[0,2,1]")
        expectError("sparse1.json", badStart, location: "layers[0].weight.row_start",
                    contains: ["non-decreasing offsets from 0 to 2"])
        let badColumn = ok.replacingOccurrences(of: "[1,0]", with: "[1,2]")
        expectError("sparse2.json", badColumn, location: "layers[0].weight.column_index[1]",
                    contains: ["an integer column in 0..<2", "found 2.0"])
    }

    @Test func implicitShapes() {
        let bad = #"{"format":"lipscope.network","version":1,"kind":"implicit","A":[[0,1],[0,0]],"B":[[1],[1]],"C":[[1,0,0]],"D":[[0]],"bias":[0,0],"activation":"relu"}"#
        expectError("imp.json", bad, location: "C[0]", contains: ["expected 2 columns (the state size (A's size)), found 3"])
    }

    @Test func directoryAndMissingFile() {
        let dir = FileManager.default.temporaryDirectory.path
        #expect(error(loading: dir)?.found == "a directory")
        #expect(error(loading: "/nonexistent/net.json")?.description == "/nonexistent/net.json: expected an existing network file, found no such file")
    }

    @Test func binaryFile() {
        let path = Fixtures.temporaryFile("weights.json", bytes: [0x7F, 0x45, 0x4C, 0x46, 0, 1, 2, 3, 0xFF, 0xFE])
        #expect(error(loading: path)?.description == "\(path): expected a JSON text file, found binary data (NUL bytes)")
        let latin = Fixtures.temporaryFile("net.nnet", bytes: [0x31, 0x2C, 0xE9, 0xFF, 0x0A])
        #expect(error(loading: latin)?.found.contains("not UTF-8") == true)
    }

    @Test func truncatedNNet() throws {
        let text = try String(contentsOfFile: Fixtures.path("nnet/small/marabou_fc_2-2-3.nnet"), encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        expectError("cut.nnet", lines.prefix(14).joined(separator: "\n"), location: "after line 14",
                    contains: ["more numbers for layer 2 weights (3x2)", "truncated"])
    }

    @Test func nnetHeaderDisagreesWithSizes() {
        expectError("hdr.nnet", "2,2,3,3,\n2,2,4,\n0,\n", location: "line 2",
                    contains: ["ending with 3 outputs (header)"])
        expectError("hdr2.nnet", "2,x,3,3,\n", location: "line 1", contains: ["expected a number", "\"x\""])
    }

    @Test func nnetTrailingGarbage() throws {
        let text = try String(contentsOfFile: Fixtures.path("nnet/small/marabou_fc_2-2-3.nnet"), encoding: .utf8)
        expectError("extra.nnet", text + "\n7,\n", location: nil, contains: ["expected the end of the file after the last layer"])
    }
}
