import Foundation
import Testing
import LipscopeTestSupport
@testable import LipscopeEngine

@Suite struct VNNLIBTests {
    @Test func readsAVNNCOMPRobustnessProperty() throws {
        let path = Fixtures.path("vnncomp2021/prop_0_0.03.vnnlib")
        let p = try VNNLIBFormat.load(path: path)
        // Independently from the text: the comment names the label, and the asserts give the box.
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasPrefix("; Mnist property with label: 8."))
        #expect(p.label == 8 && p.others == [0, 1, 2, 3, 4, 5, 6, 7, 9] && p.outputCount == 10)
        #expect(p.region.dimension == 784)
        for line in text.split(separator: "\n") where line.hasPrefix("(assert (<= X_") || line.hasPrefix("(assert (>= X_") {
            let parts = line.dropFirst(9).dropLast(2).split(separator: " ")
            let i = Int(parts[1].dropFirst(2))!, v = Double(parts[2])!
            #expect((line.contains("<=") ? p.region.upper[i] : p.region.lower[i]) == v)
        }
    }

    static let header = "(declare-const X_0 Real)\n(declare-const X_1 Real)\n(declare-const Y_0 Real)\n(declare-const Y_1 Real)\n(declare-const Y_2 Real)\n(assert (>= X_0 -1))\n(assert (<= X_0 1))\n(assert (>= X_1 0))\n(assert (<= X_1 0.5))\n"

    @Test func singleComparisonForms() throws {
        let a = try VNNLIBFormat.parse(Self.header + "(assert (<= Y_2 Y_0))\n", file: "a.vnnlib")
        #expect(a.label == 2 && a.others == [0])
        let b = try VNNLIBFormat.parse(Self.header + "(assert (>= Y_1 Y_2))\n", file: "b.vnnlib")
        #expect(b.label == 2 && b.others == [1])
        #expect(b.region.lower == [-1, 0] && b.region.upper == [1, 0.5])
    }

    @Test func unsupportedAndMalformedFilesNameTheLine() throws {
        func error(_ text: String) -> String {
            do { _ = try VNNLIBFormat.parse(text, file: "p.vnnlib"); return "no error" } catch { return "\(error)" }
        }
        let conj = error(Self.header + "(assert (and (>= Y_0 Y_2) (>= Y_1 Y_2)))\n")
        #expect(conj.hasPrefix("p.vnnlib: line 10: expected") && conj.contains("unsupported property"), "\(conj)")
        let twoLabels = error(Self.header + "(assert (or\n (and (>= Y_0 Y_2))\n (and (>= Y_2 Y_1))))\n")
        #expect(twoLabels.hasPrefix("p.vnnlib: line 10:") && twoLabels.contains("different classes"), "\(twoLabels)")
        let open = error(Self.header + "(assert (or (and (>= Y_0 Y_2))\n")
        #expect(open.hasPrefix("p.vnnlib: line 10: expected balanced parentheses"), "\(open)")
        let missing = error("(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(declare-const Y_1 Real)\n(assert (>= X_0 0))\n(assert (>= Y_0 Y_1))\n")
        #expect(missing.contains("X_0 without a upper bound"), "\(missing)")
        let badNumber = error(Self.header.replacingOccurrences(of: "(<= X_1 0.5)", with: "(<= X_1 zero)") + "(assert (>= Y_0 Y_1))\n")
        #expect(badNumber.hasPrefix("p.vnnlib: line 9: expected a finite number bounding X_1, found zero"), "\(badNumber)")
        let otherCommand = error(Self.header + "(check-sat)\n")
        let crlf = try VNNLIBFormat.parse((Self.header + "(assert (<= Y_2 Y_0))\n").replacingOccurrences(of: "\n", with: "\r\n"), file: "c.vnnlib")
        #expect(crlf.label == 2 && crlf.region.upper == [1, 0.5])
        #expect(otherCommand.hasPrefix("p.vnnlib: line 10:") && otherCommand.contains("the command 'check-sat'"), "\(otherCommand)")
    }
}

/// Verdicts on copied VNN-COMP 2021 properties never contradict the competition's (verdicts.csv),
/// and a violation always comes with a counterexample checked here by a forward pass.
@Suite struct CertifyTests {
    @Test func verdictsAgreeWithVNNCOMP() throws {
        let net = try Fixtures.feedforward("vnncomp2021/mnist-net_256x2.onnx")
        let rows = try String(contentsOfFile: Fixtures.path("vnncomp2021/verdicts.csv"), encoding: .utf8).split(whereSeparator: \.isNewline)
        #expect(rows.count == 3)
        for row in rows {
            let f = row.split(separator: ",").map(String.init)
            let property = try VNNLIBFormat.load(path: Fixtures.path("vnncomp2021/\(f[2])"))
            let problem = Certifier.Problem(network: net, region: property.region, label: property.label, others: property.others)
            let outcome = try Certifier.certify(problem, method: .crown)
            if f[3] == "violated" { #expect(outcome.verdict != .holds, "\(f[2])") }
            if f[3] == "holds" { #expect(outcome.verdict != .violated, "\(f[2])") }
            if outcome.verdict == .violated {
                let ce = try #require(outcome.counterexample)
                #expect(property.region.contains(ce.input))
                let y = net.forward(ce.input)
                #expect(y[ce.winner] >= y[property.label] && property.others.contains(ce.winner))
            }
            // The competition's violated instances are found by the attack.
            if f[3] == "violated" { #expect(outcome.verdict == .violated, "\(f[2])") }
        }
    }

    /// On tiny nets: a margin certified `holds` over a ball is positive at every sampled point,
    /// and crown's lower margin is never above a sampled margin.
    @Test(arguments: ["tiny_relu_1", "tiny_relu_3", "tiny_leaky", "tiny_tanh"])
    func certifiedLowerMarginsAreBelowSampledMargins(name: String) throws {
        let net = try Fixtures.feedforward("testnets/\(name).json")
        var rng = SeededGenerator(seed: 4)
        for _ in 0..<5 {
            let center = (0..<net.inputSize).map { _ in rng.gaussian() }
            let y0 = net.forward(center)
            let label = y0.indices.max { y0[$0] < y0[$1] }!
            let region = try InputRegion(center: center, radius: 0.1)
            let others = y0.indices.filter { $0 != label }
            for method in Certifier.Method.allCases {
                let o = try Certifier.certify(.init(network: net, region: region, label: label, others: others), method: method)
                for _ in 0..<200 {
                    let x = (0..<net.inputSize).map { rng.uniform(region.lower[$0], region.upper[$0]) }
                    let y = net.forward(x)
                    for (k, j) in others.enumerated() {
                        #expect(o.lowerMargins[k] <= y[label] - y[j], "\(name) \(method)")
                    }
                }
                #expect(o.margins.enumerated().allSatisfy { $0.element <= y0[label] - y0[others[$0.offset]] })
            }
        }
    }
}
