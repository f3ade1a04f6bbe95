import LipscopeLinearAlgebra

/// Kyle Julian's NNet text format (ACAS Xu). After `//` comments: a header (layers, inputs,
/// outputs, max width), the layer sizes, an ignored flag line, input minimums, maximums, means
/// and ranges, then per layer its weight rows and its biases. ReLU on every hidden layer; the
/// last layer is affine. The weights act on normalized inputs, so bounds are for those.
/// NeuralVerification.jl's variant (a header of only the layer count, the sizes, then five
/// placeholder lines) is read too, on purpose, without normalization data.
public enum NNetFormat {
    struct Token { let text: Substring; let line: Int }

    public static func read(_ text: String, file: String) throws -> FeedforwardNetwork {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.hasSuffix("\r") ? $0.dropLast() : $0
        }
        var index = 0
        func skipCommentsAndBlanks() {
            while index < lines.count {
                let t = lines[index].trimmingCharacters(in: .whitespaces)
                if t.isEmpty || t.hasPrefix("//") { index += 1 } else { break }
            }
        }
        func fields(_ line: Substring) -> [Substring] {
            line.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" })
        }
        func number(_ s: Substring, line: Int, what: String) throws -> Double {
            guard let d = Double(s) else {
                throw InputError(file: file, location: "line \(line)", expected: "a number (\(what))", found: "\"\(s.prefix(30))\"")
            }
            guard d.isFinite else {
                throw InputError(file: file, location: "line \(line)", expected: "a finite number (\(what))", found: "\(s)")
            }
            return d
        }
        func integers(_ line: Int, _ what: String) throws -> [Int] {
            guard line - 1 < lines.count else {
                throw InputError(file: file, location: "line \(line)", expected: what, found: "the end of the file")
            }
            return try fields(lines[line - 1]).map {
                let d = try number($0, line: line, what: what)
                guard d == d.rounded(), d >= 0 else {
                    throw InputError(file: file, location: "line \(line)", expected: "a non-negative integer (\(what))", found: "\($0)")
                }
                return Int(d)
            }
        }
        func vector(_ line: Int, count: Int, _ what: String) throws -> [Double] {
            guard line - 1 < lines.count else {
                throw InputError(file: file, location: "line \(line)", expected: "\(what) (\(count) numbers)", found: "the end of the file")
            }
            let values = try fields(lines[line - 1]).map { try number($0, line: line, what: what) }
            guard values.count == count else {
                throw InputError(file: file, location: "line \(line)", expected: "\(count) numbers (\(what))", found: "\(values.count)")
            }
            return values
        }

        skipCommentsAndBlanks()
        guard index < lines.count else {
            throw InputError(file: file, expected: "an NNet header line (layers, inputs, outputs, max width)", found: "no data (empty file)")
        }
        let headerLine = index + 1
        let header = try integers(headerLine, "header: layers, inputs, outputs, max width")
        index += 1
        var normalization: InputNormalization? = nil
        let sizes: [Int]
        if header.count == 1 {
            // NeuralVerification.jl variant: sizes, then five placeholder lines.
            sizes = try integers(index + 1, "layer sizes")
            index += 1 + 5
        } else {
            guard header.count >= 4 else {
                throw InputError(file: file, location: "line \(headerLine)", expected: "4 header values (layers, inputs, outputs, max width)", found: "\(header.count)")
            }
            sizes = try integers(index + 1, "layer sizes")
            guard sizes.count == header[0] + 1 else {
                throw InputError(file: file, location: "line \(index + 1)", expected: "\(header[0] + 1) layer sizes (header says \(header[0]) layers)", found: "\(sizes.count)")
            }
            guard sizes.first == header[1], sizes.last == header[2] else {
                throw InputError(file: file, location: "line \(index + 1)", expected: "sizes starting with \(header[1]) inputs and ending with \(header[2]) outputs (header)", found: sizes.map(String.init).joined(separator: ","))
            }
            index += 2  // sizes and the ignored flag line
            let n = header[1]
            let mins = try vector(index + 1, count: n, "input minimums")
            let maxs = try vector(index + 2, count: n, "input maximums")
            let means = try vector(index + 3, count: n + 1, "input means and output mean")
            let ranges = try vector(index + 4, count: n + 1, "input ranges and output range")
            normalization = InputNormalization(minimums: mins, maximums: maxs, means: means, ranges: ranges)
            index += 4
        }
        guard sizes.count >= 2, sizes.allSatisfy({ $0 > 0 }) else {
            throw InputError(file: file, location: "layer sizes", expected: "at least two positive sizes (inputs and outputs)", found: sizes.map(String.init).joined(separator: ","))
        }
        // The rest is a stream of numbers: per layer, out×in weights (row by row) then out biases.
        var tokens: [Token] = []
        for i in index..<lines.count {
            let t = lines[i].trimmingCharacters(in: .whitespaces)
            if t.hasPrefix("//") { continue }
            for f in fields(lines[i]) { tokens.append(Token(text: f, line: i + 1)) }
        }
        var cursor = 0
        func take(_ count: Int, _ what: String) throws -> [Double] {
            guard cursor + count <= tokens.count else {
                let line = tokens.last?.line ?? lines.count
                throw InputError(file: file, location: "after line \(line)",
                                 expected: "\(count - max(0, tokens.count - cursor)) more numbers for \(what)",
                                 found: "the end of the file (truncated?)")
            }
            let values = try tokens[cursor..<(cursor + count)].map { try number($0.text, line: $0.line, what: what) }
            cursor += count
            return values
        }
        var layers: [Layer] = []
        for k in 0..<(sizes.count - 1) {
            let inputs = sizes[k], outputs = sizes[k + 1]
            let w = try take(inputs * outputs, "layer \(k + 1) weights (\(outputs)x\(inputs))")
            let b = try take(outputs, "layer \(k + 1) biases")
            var m = Matrix(rows: outputs, columns: inputs)
            for i in 0..<outputs { for j in 0..<inputs { m[i, j] = w[i * inputs + j] } }
            let isLast = k == sizes.count - 2
            layers.append(Layer(weight: m, bias: b, activation: isLast ? .identity : .relu))
        }
        if cursor < tokens.count {
            throw InputError(file: file, location: "line \(tokens[cursor].line)", expected: "the end of the file after the last layer",
                             found: "more numbers (\(tokens.count - cursor) left)")
        }
        let name = file.split(separator: "/").last.map { String($0).replacingOccurrences(of: ".nnet", with: "") } ?? file
        return FeedforwardNetwork(name: name, inputSize: sizes[0], layers: layers, inputNormalization: normalization)
    }
}
