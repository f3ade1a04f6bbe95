import Foundation
import LipscopeEngine
import Testing

/// Method options on the command line: typed flags, `--option key=value`, validation against
/// the chosen method before anything runs, help built from the declarations, `--output all`.
@Suite struct OptionCLITests {
    let cli = CLITests()
    let tiny = "\(CLITests.fixtures)/testnets/tiny_relu_1.json"

    func json(_ stdout: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any])
    }

    @Test func unknownOptionIsAUsageErrorNamingIt() throws {
        let r = try cli.run(["bound", tiny, "--method", "lipsdp-neuron", "--option", "colour=red", "--json"])
        #expect(r.status == 1 && r.stdout.isEmpty)
        #expect(r.stderr.contains("lipsdp-neuron: option 'colour': expected one of the options solver, chordal, split, reduce, scale, gap, time_limit, center, radius, lower, upper, margin, found 'colour'"))
        let flag = try cli.run(["bound", tiny, "--method", "contraction", "--cliques", "dense"])
        #expect(flag.status == 1 && flag.stderr.contains("contraction: option 'cliques': expected one of the options center, radius, lower, upper, margin, found 'cliques'"))
    }

    @Test func badValuesAreUsageErrorsNamingExpectedAndFound() throws {
        let gap = try cli.run(["bound", tiny, "--method", "lipsdp-neuron", "--option", "gap=2"])
        #expect(gap.status == 1 && gap.stderr.contains("option 'gap': expected a number in (0, 1), found '2'"))
        let clp = try cli.run(["bound", tiny, "--method", "lipopt-sdp", "--norm", "inf", "--solver", "clp"])
        #expect(clp.status == 1 && clp.stderr.contains("lipopt-sdp: option 'solver': expected ipm, dsdp or csdp, found 'clp'"))
        let word = try cli.run(["bound", tiny, "--method", "lipsdp-neuron", "--chordal", "sometimes"])
        #expect(word.status == 1 && word.stderr.contains("--chordal: expected auto, on or off, found 'sometimes'"))
        let malformed = try cli.run(["bound", tiny, "--method", "lipsdp-neuron", "--option", "gap"])
        #expect(malformed.status == 1 && malformed.stderr.contains("expected key=value"))
        // compare: an option no method declares, or a value a declaring method refuses.
        let compare = try cli.run(["compare", tiny, "--option", "colour=red"])
        #expect(compare.status == 1 && compare.stderr.contains("option 'colour'"))
        let compareSolver = try cli.run(["compare", tiny, "--solver", "clp-barrier"])
        #expect(compareSolver.status == 1 && compareSolver.stderr.contains("option 'solver': expected ipm, dsdp or csdp, found 'clp-barrier'"))
    }

    @Test func boundHelpListsEveryMethodsOptionsFromTheDeclarations() throws {
        let r = try cli.run(["bound", "--help"])
        #expect(r.status == 0)
        for method in MethodRegistry.all {
            #expect(r.stdout.contains("\(method.id) — \(method.label)"), "\(method.id) missing from bound --help")
            for option in method.options {
                #expect(r.stdout.contains("\(option.key): \(option.expected)"), "\(method.id).\(option.key) missing from bound --help")
            }
        }
        #expect(r.stdout.contains("--option <key=value>") && r.stdout.contains("--output <J|all>"))
    }

    @Test func outputAllIsTheWholeOutputVector() throws {
        // tiny_relu_1, naive ℓ2: the oracle's 4.110333416062645 (expected.json, rel_tol 1e-6).
        for arguments in [["--output", "all"], []] {
            let r = try cli.run(["bound", tiny, "--method", "naive", "--json"] + arguments)
            #expect(r.status == 0, "\(arguments): \(r.stderr)")
            let object = try json(r.stdout)
            #expect(object["output"] is NSNull)
            #expect(abs((object["value"] as? Double ?? 0) - 4.110333416062645) <= 1e-6 * 4.11)
        }
        let one = try json(try cli.run(["bound", tiny, "--method", "naive", "--output", "1", "--json"]).stdout)
        #expect(one["output"] as? Int == 1)
        let bad = try cli.run(["bound", tiny, "--method", "naive", "--output", "every"])
        #expect(bad.status == 1)
    }

    @Test func genericOptionReachesTheMethod() throws {
        let r = try cli.run(["bound", tiny, "--method", "lipsdp-neuron", "--option", "split=2", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let object = try json(r.stdout)
        let details = try #require(object["details"] as? [String: Any])
        #expect(details["split"] as? Double == 2)
        #expect(object["certified"] as? Bool == true)
        // A product of chunk bounds: no tighter than the whole LMI (oracle 1.8169737978016054,
        // rel_tol 1e-3), no looser than the product of spectral norms (naive, 4.110333416062645).
        let value = try #require(object["value"] as? Double)
        #expect(value >= 1.8169737978016054 * (1 - 1e-3) && value <= 4.110333416062645 * (1 + 1e-6))
        // The flag and --option are the same key: agreeing is fine, disagreeing is an error.
        #expect(try cli.run(["bound", tiny, "--method", "lipsdp-neuron", "--split", "2", "--option", "split=2", "--json"]).status == 0)
        let twice = try cli.run(["bound", tiny, "--method", "lipsdp-neuron", "--split", "3", "--option", "split=2"])
        #expect(twice.status == 1 && twice.stderr.contains("option 'split' is set twice"))
    }
}
