/// SDPA sparse format (`.dat-s`), as used by SDPLIB, csdp, SDPA and DSDP:
///
///     "comment lines start with " or *
///     m                      number of variables (constraint matrices F₁…Fₘ)
///     nblocks
///     s₁ s₂ …                block sizes, negative = diagonal block; , ( ) { } ignored
///     c₁ … cₘ
///     matno blkno i j value  entries (matno 0 = F₀), 1-based, upper triangle
public enum SDPAFormat {
    public static func read(path: String) throws(ProblemFileError) -> SDPProblem {
        try parse(readProblemText(path), file: path)
    }

    public static func write(_ problem: SDPProblem, to path: String, comment: String? = nil) throws(ProblemFileError) {
        try writeProblemText(string(problem, comment: comment), to: path)
    }

    /// The file text for `problem`; low-rank terms are expanded. Entries come in canonical
    /// order (matrix, block, row, col), values in shortest round-trip form, so reading the
    /// text back gives `problem.expandingLowRank()` exactly.
    public static func string(_ problem: SDPProblem, comment: String? = nil) -> String {
        var out = ""
        out.reserveCapacity(64 + problem.matrices.reduce(0) { $0 + $1.entryCount } * 32)
        if let comment {
            for line in comment.split(separator: "\n", omittingEmptySubsequences: false) { out += "\"\(line)\n" }
        }
        out += "\(problem.variableCount)\n\(problem.blocks.count)\n"
        out += problem.blocks.map { $0.isDiagonal ? "-\($0.size)" : "\($0.size)" }.joined(separator: " ") + "\n"
        out += problem.objective.map(formatNumber).joined(separator: " ") + "\n"
        for (mi, m0) in problem.matrices.enumerated() {
            let m = m0.expandingLowRank()
            for k in 0..<m.value.count {
                out += "\(mi) \(m.block[k] + 1) \(m.row[k] + 1) \(m.col[k] + 1) \(formatNumber(m.value[k]))\n"
            }
        }
        return out
    }

    public static func parse(_ text: String, file: String = "<string>") throws(ProblemFileError) -> SDPProblem {
        var lines = LineReader(text)
        func fail(_ line: Int?, _ msg: String) -> ProblemFileError { ProblemFileError(file: file, line: line, message: msg) }
        func isComment(_ s: Substring) -> Bool { s.first == "\"" || s.first == "*" }
        func tokens(_ s: Substring) -> [Substring] {
            s.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," || $0 == "(" || $0 == ")" || $0 == "{" || $0 == "}" || $0 == "\r" })
        }
        // Header lines: skip comments and blank lines.
        func nextHeaderTokens(_ what: String) throws(ProblemFileError) -> (Int, [Substring]) {
            while let (n, l) = lines.next() {
                let t = tokens(l)
                if t.isEmpty || isComment(l.drop(while: { $0 == " " || $0 == "\t" })) { continue }
                return (n, t)
            }
            throw fail(nil, "unexpected end of file: expected \(what)")
        }
        let (mLine, mTok) = try nextHeaderTokens("the number of constraint matrices m")
        guard let m = Int(mTok[0]), m >= 0 else {
            throw fail(mLine, "expected the number of constraint matrices m (a non-negative integer), found '\(mTok[0])'")
        }
        let (bLine, bTok) = try nextHeaderTokens("the number of blocks")
        guard let nb = Int(bTok[0]), nb > 0 else {
            throw fail(bLine, "expected the number of blocks (a positive integer), found '\(bTok[0])'")
        }
        var blocks: [SDPBlock] = []
        while blocks.count < nb {
            let (ln, t) = try nextHeaderTokens("\(nb) block sizes")
            for tok in t where blocks.count < nb {
                guard let s = Int(tok), s != 0 else {
                    throw fail(ln, "expected block size \(blocks.count + 1) of \(nb) (a non-zero integer), found '\(tok)'")
                }
                blocks.append(s > 0 ? .dense(s) : .diagonal(-s))
            }
        }
        var c: [Double] = []
        c.reserveCapacity(m)
        while c.count < m {
            let (ln, t) = try nextHeaderTokens("\(m) objective coefficients")
            for tok in t where c.count < m {
                guard let v = parseNumber(tok), v.isFinite else {
                    throw fail(ln, "expected objective coefficient c\(c.count + 1) of \(m) (a number), found '\(tok)'")
                }
                c.append(v)
            }
        }
        var builder = SDPProblem.Builder(blocks: blocks, objective: c)
        while let (ln, l) = lines.next() {
            let t = tokens(l)
            if t.isEmpty || isComment(l.drop(while: { $0 == " " || $0 == "\t" })) { continue }
            guard t.count >= 5 else {
                throw fail(ln, "expected an entry 'matno blkno i j value' (5 fields), found \(t.count) field\(t.count == 1 ? "" : "s"): '\(l.trimmingCharacters(in: .whitespaces))'")
            }
            guard let mat = Int(t[0]), mat >= 0, mat <= m else {
                throw fail(ln, "expected a matrix number between 0 and \(m), found '\(t[0])'")
            }
            guard let blk = Int(t[1]), blk >= 1, blk <= nb else {
                throw fail(ln, "expected a block number between 1 and \(nb), found '\(t[1])'")
            }
            let size = blocks[blk - 1].size
            guard let i = Int(t[2]), i >= 1, i <= size else {
                throw fail(ln, "expected a row index between 1 and \(size) (size of block \(blk)), found '\(t[2])'")
            }
            guard let j = Int(t[3]), j >= 1, j <= size else {
                throw fail(ln, "expected a column index between 1 and \(size) (size of block \(blk)), found '\(t[3])'")
            }
            if blocks[blk - 1].isDiagonal && i != j {
                throw fail(ln, "expected a diagonal entry (i = j) in diagonal block \(blk), found i = \(i), j = \(j)")
            }
            guard let v = parseNumber(t[4]), v.isFinite else {
                throw fail(ln, "expected a numeric value, found '\(t[4])'")
            }
            builder.add(matrix: mat, block: blk - 1, row: i - 1, col: j - 1, value: v)
        }
        return builder.build()
    }
}

/// Iterates the lines of a text with 1-based line numbers (handles \n and \r\n).
struct LineReader {
    private let text: Substring
    private var index: String.Index
    private var lineNumber = 0

    init(_ text: String) {
        self.text = Substring(text)
        self.index = self.text.startIndex
    }

    mutating func next() -> (Int, Substring)? {
        let utf8 = text.utf8
        guard index < utf8.endIndex else { return nil }
        let end = utf8[index...].firstIndex(of: UInt8(ascii: "\n")) ?? utf8.endIndex
        var lineEnd = end
        if lineEnd > index, utf8[utf8.index(before: lineEnd)] == UInt8(ascii: "\r") { lineEnd = utf8.index(before: lineEnd) }
        let line = text[index..<lineEnd]
        index = end < utf8.endIndex ? utf8.index(after: end) : end
        lineNumber += 1
        return (lineNumber, line)
    }
}
