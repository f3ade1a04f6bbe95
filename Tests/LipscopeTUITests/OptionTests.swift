import Foundation
import Testing
@testable import LipscopeEngine
@testable import LipscopeSolvers
@testable import LipscopeTUI

/// The Run pane's per-method options: what is shown comes from the method's declarations, and
/// a run passes exactly the values the user set.
@Suite struct OptionTests {
    /// ℓ2, LipSDP-Neuron (declares the SDP options) selected.
    func sdpState() -> WorkbenchState {
        var s = loadedState()
        s.press(.down)
        #expect(s.selectedMethodID == "lipsdp")
        return s
    }

    func started(_ s: inout WorkbenchState) -> BoundRequest? {
        s.press(.enter).compactMap(\.startedRun).first?.request
    }

    @Test func runPaneShowsExactlyTheSelectedMethodsOptions() {
        var s = sdpState()
        var text = s.screenText
        for token in ["[solver dsdp]", "chordal auto", "split —", "reduce on", "scale on", "gap —", "time_limit —"] {
            #expect(text.contains(token), "\(token) missing:\n\(text)")
        }
        #expect(!text.contains("cliques"))
        // LiPopt-LP (ℓ∞): its own options; the file path (write_mps) is not a pane control.
        s.press(.char("n"), .down)
        #expect(s.selectedMethodID == "lipopt")
        text = s.screenText
        #expect(text.contains("[cliques sparse]") && text.contains("max_lp_nonzeros 5000000"))
        #expect(!text.contains("write_mps") && !text.contains("solver") && !text.contains("chordal"))
        // A method without options shows none.
        s.press(.up)
        #expect(!s.screenText.contains("cliques") && s.shownOptions.isEmpty)
    }

    @Test func optionLinesScrollToTheCursorAt80x24() {
        var s = loadedState(rows: 24, cols: 80)
        s.press(.down, .char("b"))
        var lines = s.screenText.split(separator: "\n").map(String.init)
        #expect(lines[6].contains("[solver csdp* (default dsdp)]  chordal auto"))
        #expect(lines[7].contains("split —  reduce on  scale on  gap —") && lines[7].hasSuffix("↓"))
        #expect(!s.screenText.contains("time_limit"))
        for _ in 0..<6 { s.press(.char(".")) }
        lines = s.screenText.split(separator: "\n").map(String.init)
        #expect(lines[6].contains("split —  reduce on  scale on  gap —") && lines[6].hasSuffix("↑"))
        #expect(lines[7].contains("[time_limit —]"))
    }

    @Test func bCyclesTheSolverThroughTheDeclaredBackendsOnly() {
        var s = sdpState()
        var seen: [String] = []
        for _ in 0..<4 {
            s.press(.char("b"))
            seen.append(s.optionValues["lipsdp"]?["solver"] ?? "default")
        }
        #expect(seen == ["csdp", "default", "csdp", "default"])
        #expect(s.screenText.contains("solver dsdp"))
        #expect(started(&s)?.options == [:])
        s.press(.char("c"))
        _ = Update.apply(&s, .job(run: 1, .finished(result("lipsdp", nil, status: .cancelled))))
        s.press(.char("b"))
        #expect(s.screenText.contains("[solver csdp* (default dsdp)]"))
        #expect(s.message?.text.hasPrefix("LipSDP-Neuron solver: csdp (set; default dsdp) — SDP solver") == true)
        #expect(started(&s)?.options == ["solver": "csdp"])
        // The real SDP methods offer exactly the SDP backends.
        for method in MethodRegistry.all {
            guard let solver = method.options.first(where: { $0.key == "solver" }) else { continue }
            var values: Set<String> = [solver.defaultValue ?? ""]
            var current: String? = nil
            for _ in 0..<6 {
                current = OptionControls.step(solver, current, up: true)
                if let current { values.insert(current) }
            }
            // LiPopt-SDP adds its own interior point for the moment SDP ("ipm", its default);
            // LipSDP-Neuron/-Layer the structured primal–dual method for their LMI (their default),
            // LipSDP-Neuron also the factored dual (it needs one multiplier per neuron), LipSDP-Layer
            // the descent on ρ*(λ) (it needs few).
            let own: Set<String> = method.id == "lipopt-sdp" ? ["ipm"]
                : method.id == "lipsdp-neuron" ? ["structured", "factored"]
                : method.id == "lipsdp-layer" ? ["structured", "descent"] : []
            #expect(values == Set(SolverBackend.solving(.sdp).map(\.name)).union(own), "\(method.id): \(values)")
        }
    }

    @Test func dCyclesChordalAutoOnOffIntoTheRequest() {
        var s = sdpState()
        s.press(.char("d"))
        #expect(s.screenText.contains("[chordal on* (default auto)]"))
        #expect(started(&s)?.options == ["chordal": "on"])
        var fresh = sdpState()
        fresh.press(.char("d"), .char("d"))
        #expect(fresh.screenText.contains("[chordal off* (default auto)]"))
        fresh.press(.char("d"))
        #expect(fresh.screenText.contains("[chordal auto]"))
        #expect(started(&fresh)?.options == [:])
    }

    @Test func shortcutForAnOptionTheMethodLacksSaysSo() {
        var s = sdpState()
        #expect(s.press(.char("k")).isEmpty)
        #expect(s.message == Message(text: "LipSDP-Neuron has no cliques option (its options: solver, chordal, split, reduce, scale, gap, time_limit)", isError: true))
        s.press(.up)  // sampling: no options at all
        s.press(.char("."))
        #expect(s.message?.text == "Sampled lower bound has no options")
    }

    @Test func cursorStepsNumbersAndResets() {
        var s = sdpState()
        s.press(.char("."), .char("."))  // split
        #expect(s.screenText.contains("[split —]"))
        s.press(.char(">"), .char(">"))
        #expect(s.optionValues["lipsdp"]?["split"] == "2")
        s.press(.char("<"), .char("<"))
        #expect(s.optionValues["lipsdp"] == nil)  // below the minimum: back to the default
        s.press(.char("."), .char(">"))  // reduce: on → off
        #expect(s.screenText.contains("[reduce off* (default on)]"))
        s.press(.char("."), .char("."), .char(">"))  // gap (0, 1): starts near 1
        #expect(s.optionValues["lipsdp"]?["gap"] == "0.5")
        s.press(.char("<"), .char("<"))
        #expect(s.optionValues["lipsdp"]?["gap"] == "0.1")
        s.press(.char("."), .char(">"), .char(">"), .char(">"))  // time_limit: 1, 2, 5 s
        #expect(s.screenText.contains("[time_limit 5*]"))
        s.press(.char("."))  // stays on the last option
        #expect(s.optionCursor == 6)
        #expect(started(&s)?.options == ["reduce": "off", "gap": "0.1", "time_limit": "5"])
        s.press(.char("c"))
        _ = Update.apply(&s, .job(run: 1, .finished(result("lipsdp", nil, status: .cancelled))))
        s.press(.char("x"))
        #expect(s.message?.text.hasPrefix("LipSDP-Neuron time_limit: — (default)") == true)
        #expect(started(&s)?.options == ["reduce": "off", "gap": "0.1"])
    }

    @Test func valuesBelongToTheirMethod() {
        var s = sdpState()
        s.press(.char("b"))
        s.press(.char("n"), .down)  // ℓ∞ LiPopt-LP
        #expect(s.selectedMethodID == "lipopt")
        s.press(.char("k"))
        #expect(s.screenText.contains("[cliques dense* (default sparse)]"))
        let request = started(&s)
        #expect(request?.options == ["cliques": "dense"])
        // The sweep's runs carry the swept method's options too.
        s.press(.char("c"))
        _ = Update.apply(&s, .job(run: 1, .finished(result("lipopt", nil, norm: .linf, status: .cancelled))))
        #expect(s.press(.char("s")).compactMap(\.startedRun).first?.request.options == ["cliques": "dense"])
        #expect(s.optionValues["lipsdp"] == ["solver": "csdp"])
    }

    @Test func stepsFollowTheDeclaredRanges() {
        let lp = LiPoptLPBound().options.first { $0.key == "max_lp_nonzeros" }!
        #expect(OptionControls.step(lp, nil, up: true) == "10000000")
        #expect(OptionControls.step(lp, nil, up: false) == "2500000")
        #expect(OptionControls.step(lp, "10000000", up: false) == nil)  // back at the default
        let split = StandardOptions.sdp.first { $0.key == "split" }!
        #expect(OptionControls.step(split, nil, up: false) == nil)
        #expect(OptionControls.step(split, nil, up: true) == "1")
        let gap = StandardOptions.sdp.first { $0.key == "gap" }!
        #expect(OptionControls.step(gap, "0.5", up: true) == "0.5")  // the open bound 1 is excluded
        #expect(OptionControls.step(gap, "1e-09", up: false) == nil)
        #expect(OptionControls.step(gap, "0.003", up: true) == "0.005")
        // Every stepped value passes the engine's own validation.
        for method in MethodRegistry.all {
            for option in OptionControls.shown(method) {
                var value: String? = nil
                for k in 0..<30 {
                    value = OptionControls.step(option, value, up: k < 20)
                    if let value {
                        #expect((try? ParsedOptions(method: method.id, declarations: method.options, raw: [option.key: value])) != nil,
                                "\(method.id) \(option.key)=\(value)")
                    }
                }
            }
        }
    }
}

