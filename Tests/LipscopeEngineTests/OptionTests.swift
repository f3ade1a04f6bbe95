import Foundation
import Testing
import LipscopeTestSupport
@testable import LipscopeEngine
import LipscopeSolvers

/// Method options: declarations, validation (unknown keys, bad values), the typed settings the
/// methods build from them, and how `Job.run` reports a bad option.
@Suite struct OptionTests {
    let lipsdp = LipSDPBound(.neuron)

    func parse(_ method: some BoundMethod, _ raw: [String: String]) throws -> ParsedOptions {
        try ParsedOptions(method: method.id, declarations: method.options, raw: raw)
    }

    func error(_ method: some BoundMethod, _ raw: [String: String]) -> OptionError? {
        do { _ = try parse(method, raw); return nil } catch let e as OptionError { return e } catch { return nil }
    }

    @Test func everyDeclarationIsUniqueAndItsDefaultIsValid() throws {
        for method in MethodRegistry.all {
            let keys = method.options.map(\.key)
            #expect(Set(keys).count == keys.count, "\(method.id) declares a key twice")
            for option in method.options {
                #expect(!option.help.isEmpty, "\(method.id).\(option.key) has no help")
                if let d = option.defaultValue {
                    #expect(error(method, [option.key: d]) == nil, "\(method.id).\(option.key): default '\(d)' is not valid")
                }
            }
        }
    }

    @Test func unknownKeyNamesTheOptionAndTheKnownOnes() throws {
        let e = try #require(error(lipsdp, ["solvr": "csdp"]))
        #expect(e.method == "lipsdp-neuron" && e.key == "solvr" && e.found == "solvr")
        // The SDP options, then the region and margin options every local method declares.
        #expect(e.expected == "one of the options solver, chordal, split, reduce, scale, gap, time_limit, center, radius, lower, upper, margin")
        #expect(e.description == "lipsdp-neuron: option 'solvr': expected one of the options solver, chordal, split, reduce, scale, gap, time_limit, center, radius, lower, upper, margin, found 'solvr'")
        // Contraction takes only the region and margin options.
        let region = try #require(error(ContractionBound(weighted: false), ["cliques": "dense"]))
        #expect(region.expected == "one of the options center, radius, lower, upper, margin")
    }

    @Test func badChoice() throws {
        let e = try #require(error(lipsdp, ["chordal": "sometimes"]))
        #expect(e.key == "chordal" && e.expected == "auto, on or off" && e.found == "sometimes")
        #expect(error(lipsdp, ["chordal": "ON"]) == nil)  // words are case-insensitive
        #expect(try parse(lipsdp, ["chordal": "ON"]).choice("chordal", as: ChordalSetting.self) == .on)
        #expect(error(LiPoptLPBound(), ["cliques": "medium"])?.expected == "sparse or dense")
    }

    @Test func integerRanges() throws {
        for bad in ["0", "-1", "2.5", "two", ""] {
            let e = try #require(error(lipsdp, ["split": bad]), "split=\(bad) accepted")
            #expect(e.expected == "a positive integer" && e.found == bad)
        }
        #expect(try parse(lipsdp, ["split": "3"]).int("split") == 3)
        #expect(error(LiPoptLPBound(), ["max_lp_nonzeros": "0"])?.key == "max_lp_nonzeros")
        #expect(error(LiPoptSDPBound(), ["max_sdp_moments": "1e3"])?.expected == "a positive integer")
    }

    @Test func doubleRanges() throws {
        for bad in ["0", "1", "1.5", "-0.1", "nan", "inf", "abc"] {
            let e = try #require(error(lipsdp, ["gap": bad]), "gap=\(bad) accepted")
            #expect(e.expected == "a number in (0, 1)")
        }
        #expect(try parse(lipsdp, ["gap": "1e-7"]).double("gap") == 1e-7)
        for bad in ["0", "-3", "inf"] {
            #expect(error(lipsdp, ["time_limit": bad])?.expected == "a positive number", "time_limit=\(bad)")
        }
    }

    @Test func flagWords() throws {
        for (word, value) in [("on", true), ("off", false), ("true", true), ("false", false), ("yes", true),
                              ("no", false), ("1", true), ("0", false), ("Off", false)] {
            #expect(try parse(lipsdp, ["reduce": word]).flag("reduce") == value, "reduce=\(word)")
        }
        let e = try #require(error(lipsdp, ["scale": "maybe"]))
        #expect(e.key == "scale" && e.expected == "on or off" && e.found == "maybe")
    }

    @Test func sdpSettingsDefaultsAndExplicitValues() throws {
        let net = try Fixtures.load("testnets/tiny_relu_1.json")
        let defaults = try SDPMethodOptions(lipsdp, BoundRequest(network: net, norm: .l2))
        // The structured primal–dual method is LipSDP's default; chordal=on alone means DSDP.
        #expect(defaults.solver.backend == .structured && !defaults.solverExplicit)
        let chordalOn = try SDPMethodOptions(lipsdp, BoundRequest(network: net, norm: .l2, options: ["chordal": "on"]))
        #expect(chordalOn.solver.backend == .dsdp && !chordalOn.solverExplicit)
        #expect(defaults.chordal == .auto && defaults.split == nil)
        #expect(defaults.reduceInput && defaults.balanceLayers)
        #expect(defaults.gapTolerance == nil && defaults.timeLimit == nil)

        let request = BoundRequest(network: net, norm: .l2, options: [
            "solver": "csdp", "chordal": "off", "split": "2", "reduce": "no", "scale": "0", "gap": "1e-6", "time_limit": "5"])
        let set = try SDPMethodOptions(lipsdp, request)
        #expect(set.solver.backend == .csdp && set.solverExplicit)
        #expect(set.chordal == .off && set.split == 2)
        #expect(!set.reduceInput && !set.balanceLayers)
        #expect(set.gapTolerance == 1e-6 && set.timeLimit == 5)
    }

    @Test func lipoptSettingsDefaultsAndExplicitValues() throws {
        let net = try Fixtures.load("testnets/tiny_relu_1.json")
        let lp = try LiPoptLPBound().settings(BoundRequest(network: net, norm: .linf))
        #expect(lp.cliques == .sparse && lp.maximumNonzeros == LiPoptLPBound.defaultMaximumNonzeros && lp.mpsPath == nil)
        let lpSet = try LiPoptLPBound().settings(BoundRequest(network: net, norm: .linf, options: [
            "cliques": "dense", "max_lp_nonzeros": "1000", "write_mps": "/tmp/x.mps"]))
        #expect(lpSet.cliques == .dense && lpSet.maximumNonzeros == 1000 && lpSet.mpsPath == "/tmp/x.mps")
        let sdp = try LiPoptSDPBound().settings(BoundRequest(network: net, norm: .linf))
        #expect(sdp.cliques == .sparse && sdp.solver == nil && sdp.solverName == "ipm" && sdp.maximumMoments == LiPoptSDPBound.defaultMaximumMoments)
        let sdpSet = try LiPoptSDPBound().settings(BoundRequest(network: net, norm: .linf, options: ["solver": "csdp", "max_sdp_moments": "70"]))
        #expect(sdpSet.solver?.backend == .csdp && sdpSet.maximumMoments == 70)
    }

    @Test func lipoptSDPOffersOnlySDPBackends() throws {
        // By type: no SDPBackend is an LP solver.
        #expect(SDPBackend(.clp) == nil && SDPBackend(.clpBarrier) == nil)
        #expect(SDPBackend.all.map(\.backend) == [.dsdp, .csdp])
        #expect(LPBackend.all.map(\.backend) == [.clp, .clpBarrier])
        // By declaration: the solver choice lists its own interior point and exactly the SDP backends.
        #expect(LiPoptSDPBound().option("solver")?.choices == ["ipm", "dsdp", "csdp"])
        for clp in ["clp", "clp-barrier"] {
            let e = try #require(error(LiPoptSDPBound(), ["solver": clp]))
            #expect(e.description == "lipopt-sdp: option 'solver': expected ipm, dsdp or csdp, found '\(clp)'")
        }
        // And through a run: failed with that message, never a number.
        let net = try Fixtures.load("testnets/tiny_relu_1.json")
        let r = Job.run(LiPoptSDPBound(), BoundRequest(network: net, norm: .linf, options: ["solver": "clp"]))
        #expect(r.status == .failed && r.value == nil && !r.certified)
        #expect(r.details["reason"] == .string("lipopt-sdp: option 'solver': expected ipm, dsdp or csdp, found 'clp'"))
    }

    @Test func jobRunReportsABadOptionAsFailedBeforeApplicability() throws {
        // LipSDP does not apply to an implicit net, but the bad option is what the user must read.
        let implicit = try Fixtures.load("testnets/implicit_n8.json")
        let r = Job.run(lipsdp, BoundRequest(network: implicit, norm: .l2, options: ["split": "0"]))
        #expect(r.status == .failed && r.value == nil && !r.certified)
        #expect(r.details["reason"] == .string("lipsdp-neuron: option 'split': expected a positive integer, found '0'"))
        // The wrong norm too: options are checked first.
        let net = try Fixtures.load("testnets/tiny_relu_1.json")
        let wrongNorm = Job.run(NaiveBound(), BoundRequest(network: net, norm: .l2, options: ["gap": "0.1"]))
        #expect(wrongNorm.status == .failed)
        #expect(wrongNorm.details["reason"] == .string("naive: option 'gap': expected one of the options center, radius, lower, upper, margin, found 'gap'"))
        // Valid options run normally: naive ℓ2 on tiny_relu_1 is the oracle's 4.110333416062645.
        let ok = Job.run(lipsdp, BoundRequest(network: net, norm: .l2, options: ["chordal": "off", "reduce": "off"]))
        #expect(ok.status == .optimal && ok.certified)
        let oracle = 1.8169737978016054  // expected.json, lipsdp-neuron ℓ2, rel_tol 1e-3
        let okValue = try #require(ok.value)
        #expect(abs(okValue - oracle) <= 1e-3 * oracle)
    }

    @Test func sharedOptionsGoToTheMethodsThatDeclareThem() throws {
        let methods: [any BoundMethod] = [NaiveBound(), LiPoptLPBound(), LipSDPBound(.neuron)]
        try SharedOptions.check(["cliques": "dense", "chordal": "off"], for: methods)
        let unknown = try #require(throws: OptionError.self) { try SharedOptions.check(["colour": "red"], for: methods) }
        #expect(unknown.key == "colour" && unknown.expected.contains("cliques"))
        let bad = try #require(throws: OptionError.self) { try SharedOptions.check(["solver": "clp"], for: methods) }
        #expect(bad.method == "lipsdp-neuron" && bad.expected == "structured, dsdp, csdp or factored")
        #expect(SharedOptions.methods(declaring: "cliques").map(\.id) == ["lipopt-lp", "lipopt-sdp"])
        #expect(LiPoptLPBound().declaredOptions(in: ["cliques": "dense", "chordal": "off"]) == ["cliques": "dense"])

        // compare: naive ignores cliques, lipopt-lp uses it; both give the oracle's values.
        let net = try Fixtures.load("testnets/tiny_relu_1.json")
        let c = Comparison.run(net, norms: [.linf], request: { BoundRequest(network: $0, norm: $1, options: ["cliques": "dense"]) },
                               methods: [NaiveBound(), LiPoptLPBound()])
        let naive = try #require(c.results.first { $0.method == "naive" })
        let naiveValue = try #require(naive.value)
        #expect(naive.status == .optimal && abs(naiveValue - 14.742834242076693) <= 1e-6 * 14.75)
        let lp = try #require(c.results.first { $0.method == "lipopt-lp" })
        #expect(lp.status == .optimal && lp.details["cliques"] == .string("dense"))
        // LiPopt's θ_k is an upper bound on the exact ℓ∞ constant, which relaxed-exact gives here.
        let lpValue = try #require(lp.value)
        #expect(lpValue >= 1.7961325189435495 * (1 - 1e-6))
    }

    @Test func presentationWording() throws {
        func result(_ kind: BoundKind, _ value: Double?, certified: Bool) -> BoundResult {
            BoundResult(method: "m", norm: .l2, kind: kind, value: value, certified: certified, status: value == nil ? .failed : .optimal)
        }
        #expect(Presentation.meaning(result(.upper, 2, certified: true)) == "certified upper bound")
        #expect(Presentation.meaning(result(.upper, 2, certified: false)) == "upper bound, NOT certified")
        #expect(Presentation.meaning(result(.lower, 2, certified: false)) == "lower bound")
        #expect(Presentation.certifiedCell(result(.upper, 2, certified: false)) == "NO")
        #expect(Presentation.certifiedCell(result(.upper, nil, certified: false)) == "")
        #expect(Presentation.certification(result(.lower, 2, certified: false)) == nil)
        #expect(Presentation.number(4.110333416062645) == "4.110333" && Presentation.number(nil) == "—")
        #expect(Presentation.number(88265.57) == "88265.570000" && Presentation.number(8.8e9) == "8.800000e+09")
        #expect(Presentation.number(.infinity) == "inf" && Presentation.number(.nan) == "nan")
        #expect(Presentation.shortNumber(1.7362542382436006) == "1.73625")
        #expect(Presentation.duration(0.0007) == "0.7 ms" && Presentation.duration(2.5) == "2.50 s")
        #expect(Presentation.shortDuration(0.5) == "500 ms" && Presentation.shortDuration(150) == "150 s")
        #expect(Presentation.shortDuration(5400) == "1.5 h")
        let failed = BoundResult(method: "m", norm: .l2, kind: .upper, value: nil, certified: false, status: .failed,
                                 seconds: 0.01, details: ["reason": .string("m: option 'x': expected on or off, found 'y'")])
        #expect(Presentation.sentence(failed, label: "M") == "M ℓ2: failed — m: option 'x': expected on or off, found 'y' (10 ms)")
    }
}
