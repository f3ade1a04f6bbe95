import Foundation
import Testing
@testable import LipscopeSolvers
import LipscopeTestSupport

@Suite struct SDPAFormatTests {
    static let names = ["truss1", "truss3", "truss4", "hinf1", "control1", "control2", "theta1", "qap5",
                        "mcp100", "gpp100", "arch0", "infp1", "infd1"]

    @Test(arguments: names) func roundTrip(name: String) throws {
        let p = try SDPAFormat.read(path: Fixtures.sdplib(name))
        let text = SDPAFormat.string(p, comment: "exported by lipscope tests")
        let q = try SDPAFormat.parse(text, file: "exported")
        #expect(q == p)
    }

    @Test func readsStructure() throws {
        let p = try SDPAFormat.read(path: Fixtures.sdplib("arch0"))
        #expect(p.variableCount == 174)
        #expect(p.blocks == [.dense(161), .diagonal(174)])
        let t = try SDPAFormat.read(path: Fixtures.sdplib("truss1"))
        #expect(t.blocks.count == 7 && t.variableCount == 6)
    }

    @Test func builderWithLowRankExportsExpanded() throws {
        var b = SDPProblem.Builder(blocks: [.dense(3), .diagonal(2)], objective: [1, -2])
        b.addConstant(block: 0, row: 0, col: 0, value: 1)
        b.addConstant(block: 0, row: 2, col: 1, value: 0.5)          // lower triangle: mirrored to (1,2)
        b.addCoefficient(variable: 0, block: 0, row: 1, col: 1, value: 2)
        b.addCoefficient(variable: 0, block: 0, row: 1, col: 1, value: 1)  // duplicate: summed
        b.addCoefficient(variable: 1, block: 1, row: 1, col: 1, value: -1)
        b.addRankOne(matrix: 2, block: 0, scale: 2, indices: [2, 0], values: [1, 3])
        let p = b.build()
        #expect(p.matrices[1].value == [3])
        #expect(p.matrices[0].row == [0, 1] && p.matrices[0].col == [0, 2])
        let q = try SDPAFormat.parse(SDPAFormat.string(p))
        #expect(q == p.expandingLowRank())
        let dense = q.matrices[2].denseBlock(0, size: 3)
        #expect(dense[0] == 18 && dense[2 * 3 + 0] == 6 && dense[8] == 2)
    }

    @Test func writeAndReadFile() throws {
        let p = try SDPAFormat.read(path: Fixtures.sdplib("control1"))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("lipscope-test-\(UUID().uuidString).dat-s").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try SDPAFormat.write(p, to: path)
        #expect(try SDPAFormat.read(path: path) == p)
    }

    func error(_ text: String) -> ProblemFileError? {
        do { _ = try SDPAFormat.parse(text, file: "bad.dat-s"); return nil } catch { return error }
    }

    @Test func malformedEntryNamesLine() {
        let text = "\"comment\n2\n1\n2\n1.0 2.0\n0 1 1 1 1.0\n1 1 1 2 x\n"
        let e = error(text)
        #expect(e?.line == 7)
        #expect(e?.description == "bad.dat-s:7: expected a numeric value, found 'x'")
    }

    @Test func malformedHeaderAndIndices() {
        #expect(error("abc\n")?.description == "bad.dat-s:1: expected the number of constraint matrices m (a non-negative integer), found 'abc'")
        #expect(error("1\n1\n0\n")?.description == "bad.dat-s:3: expected block size 1 of 1 (a non-zero integer), found '0'")
        #expect(error("1\n1\n2\n1\n0 1 3 1 1\n")?.description == "bad.dat-s:5: expected a row index between 1 and 2 (size of block 1), found '3'")
        #expect(error("1\n1\n2\n1\n2 1 1 1 1\n")?.description == "bad.dat-s:5: expected a matrix number between 0 and 1, found '2'")
        #expect(error("1\n1\n-2\n1\n1 1 1 2 1\n")?.description == "bad.dat-s:5: expected a diagonal entry (i = j) in diagonal block 1, found i = 1, j = 2")
        #expect(error("1\n1\n2\n1\n1 1 1\n")?.description == "bad.dat-s:5: expected an entry 'matno blkno i j value' (5 fields), found 3 fields: '1 1 1'")
        #expect(error("2\n1\n2\n")?.description == "bad.dat-s: unexpected end of file: expected 2 objective coefficients")
    }

    @Test func missingFile() {
        #expect(throws: ProblemFileError(file: "/nonexistent/x.dat-s", line: nil, message: "no such file")) {
            try SDPAFormat.read(path: "/nonexistent/x.dat-s")
        }
    }
}

@Suite struct MPSFormatTests {
    static let names = ["afiro", "sc50a", "sc50b", "adlittle", "blend", "kb2", "sc105", "share2b", "stocfor1", "e226", "boeing2"]

    @Test(arguments: names) func roundTrip(name: String) throws {
        let p = try MPSFormat.read(path: Fixtures.netlib(name))
        let text = try MPSFormat.string(p)
        let q = try MPSFormat.parse(text, file: "exported")
        #expect(q == p)
    }

    @Test func fixedLayoutAgreesWithFree() throws {
        let a = try MPSFormat.read(path: Fixtures.netlib("afiro"), layout: .fixed)
        let b = try MPSFormat.read(path: Fixtures.netlib("afiro"), layout: .free)
        #expect(a == b)
    }

    @Test func afiroStructure() throws {
        let p = try MPSFormat.read(path: Fixtures.netlib("afiro"))
        #expect(p.rowCount == 27 && p.columnCount == 32 && p.matrix.nonzeroCount == 83)
        #expect(p.name == "AFIRO")
    }

    @Test func e226ObjectiveConstant() throws {
        let p = try MPSFormat.read(path: Fixtures.netlib("e226"))
        #expect(p.objectiveConstant == 7.113)
    }

    @Test func boundsRangesAndSense() throws {
        let text = """
        NAME          TEST
        OBJSENSE
            MAX
        ROWS
         N  COST
         E  R1
         L  R2
         G  R3
         E  R4
         N  FREE
        COLUMNS
            X1        COST         1.0   R1           1.0
            X1        R2           2.0
            MARKER                 'MARKER'                 'INTORG'
            X2        COST        -1.0   R3           1.0
            MARKER                 'MARKER'                 'INTEND'
            X3        R4           1.0   FREE         3.0
            X4        R1           1.0
            X5        R2           1.0
            X6        R3           1.0
        RHS
            RHS       R1           4.0   R2           5.0
            RHS       R3           1.0   R4           2.0
            RHS       COST         2.5
        RANGES
            RNG       R1           2.0   R2           3.0
            RNG       R3           4.0   R4          -1.0
        BOUNDS
         UP BND       X1          -1.0
         MI BND       X2
         UP BND       X2           3.0
         BV BND       X3
         FR BND       X4
         FX BND       X5           7.0
         LO BND       X6          -2.0
         PL BND       X6
        ENDATA
        """
        let p = try MPSFormat.parse(text)
        #expect(p.maximize)
        #expect(p.objectiveConstant == -2.5)
        #expect(p.rowNames == ["R1", "R2", "R3", "R4", "FREE"])
        #expect(p.rowLower == [4, 2, 1, 1, -.infinity])
        #expect(p.rowUpper == [6, 5, 5, 2, .infinity])
        #expect(p.columnLower == [-.infinity, -.infinity, 0, -.infinity, 7, -2])
        #expect(p.columnUpper == [-1, 3, 1, .infinity, 7, .infinity])
        #expect(p.objective == [1, -1, 0, 0, 0, 0])
        #expect(try MPSFormat.parse(MPSFormat.string(p)) == p)
    }

    func error(_ text: String) -> ProblemFileError? {
        do { _ = try MPSFormat.parse(text, file: "bad.mps"); return nil } catch { return error }
    }

    @Test func malformedNamesLine() {
        let base = "NAME T\nROWS\n N  OBJ\n L  R1\nCOLUMNS\n"
        #expect(error(base + "    X  R1  abc\nRHS\nENDATA\n")?.description
                == "bad.mps:6: expected a number for the coefficient of column 'X' in row 'R1', found 'abc'")
        #expect(error(base + "    X  R9  1\nENDATA\n")?.description
                == "bad.mps:6: expected a row name declared in ROWS, found unknown row 'R9'")
        #expect(error(base + "    X  R1  1\nBOUNDS\n XX BND X 1\nENDATA\n")?.description
                == "bad.mps:8: expected a bound type (UP, LO, FX, FR, MI, PL, BV, LI, UI), found 'XX'")
        #expect(error(base + "    X  R1  1\nBOUNDS\n UP BND Y 1\nENDATA\n")?.description
                == "bad.mps:8: expected a column name declared in COLUMNS, found unknown column 'Y'")
        #expect(error("NAME T\nROWS\n Q  OBJ\n")?.description == "bad.mps:3: expected a row type N, E, L or G, found 'Q'")
        #expect(error("NAME T\nFOO\n")?.description
                == "bad.mps:2: expected a section header (NAME, ROWS, COLUMNS, RHS, RANGES, BOUNDS, ENDATA), found 'FOO'")
        #expect(error(base + "    X  R1  1\n")?.description == "bad.mps: unexpected end of file: expected ENDATA")
    }

    @Test func builderRoundTrip() throws {
        var b = LPProblem.Builder()
        let x = b.addColumn(cost: 1, lower: -1, upper: 2, name: "x")
        let y = b.addColumn(cost: -0.1, lower: 0, upper: -3, name: "y")
        let z = b.addColumn(cost: 0, lower: -.infinity, upper: -3, name: "z")
        b.addRow([(x, 1), (y, 1)], lower: 0.1, upper: 0.7, name: "r1")
        b.addRow([(z, 2)], .equal, 1, name: "r2")
        b.objectiveConstant = 1.25
        let p = b.build()
        #expect(try MPSFormat.parse(MPSFormat.string(p)) == p)
    }
}

@Suite struct MPSFixedWriterTests {
    @Test(arguments: ["afiro", "sc50b", "kb2", "boeing2"]) func fixedRoundTrip(name: String) throws {
        let p = try MPSFormat.read(path: Fixtures.netlib(name))
        let text = try MPSFormat.string(p, layout: .fixed)
        let q = try MPSFormat.parse(text, file: "fixed", layout: .fixed)
        #expect(q == p)
    }

    @Test func longNamesRejected() {
        var b = LPProblem.Builder()
        b.addColumn(cost: 1, name: "averyverylongname")
        #expect(throws: ProblemFileError.self) { try MPSFormat.string(b.build(), layout: .fixed) }
    }
}

@Suite struct MPSAutoLayoutTests {
    @Test func namesWithSpacesFallBackToFixed() throws {
        let text = """
        NAME          SPACES
        ROWS
         N  COST
         E  ROW A
        COLUMNS
            X 1       COST               1.0   ROW A              1.0
        RHS
            RHS       ROW A              2.0
        ENDATA
        """
        let p = try MPSFormat.parse(text)
        #expect(p.rowNames == ["ROW A"] && p.columnNames == ["X 1"])
        #expect(p.rowLower == [2] && p.rowUpper == [2])
        let r = try CLPSolver().solve(.lp(p))
        #expect(r.status == .optimal && abs(r.primalObjective! - 2) < 1e-12)
    }
}
