import Foundation
import Testing
@testable import LipscopeEngine
@testable import LipscopeTUI
import LipscopeTestSupport

@Suite struct ViewTests {
    @Test func mainScreenAt80x24HasEveryPane() {
        let s = loadedState(rows: 24, cols: 80)
        let screen = View.render(s)
        #expect(screen.rows == 24 && screen.cols == 80)
        let lines = screen.lines
        #expect(lines[0].hasPrefix(" lipscope \(LipscopeVersion.string) │ tiny_relu_1"))
        #expect(lines[1].hasPrefix("┌ Network ─"))
        #expect(lines[1].contains("┌ Run ─"))
        #expect(lines[2] == "│tiny_relu_1 (feedforward)     ││▸ Sampled lower bound                    lower│")
        #expect(lines[3].hasPrefix("│sizes 2→5→6→2"))
        #expect(lines.contains { $0.hasPrefix("┌ Live ─") })
        #expect(lines.contains { $0.hasPrefix("┌ Compare (run order) ─") })
        #expect(lines[22] == "loaded tiny_relu_1: feedforward 2-5-6-2")
        #expect(lines[23].hasPrefix("F1Help  oOpen  ⏎Run   cCancel nNorm  ±Degree sSweep tTrain wSave  qQuit"))
    }

    @Test func theBottomBarDimsKeysThatDoNothingNow() {
        func enabled(_ s: WorkbenchState) -> [String] {
            let screen = View.render(s)
            let row = screen.rows - 1
            var labels: [String] = []
            for (key, label, _) in Keymap.bar(in: s) {
                let line = screen.line(row)
                guard let range = line.range(of: key + label) else { continue }
                let col = line.distance(from: line.startIndex, to: range.lowerBound) + key.count
                if screen[row, col].style.role != .muted { labels.append(label) }
            }
            return labels
        }
        var s = loadedState()
        _ = Update.apply(&s, .sessionLogOpened(path: "/work/sessions/s.jsonl"))
        #expect(enabled(s) == ["Help", "Open", "Run", "Norm", "Train", "Save", "Quit"])
        s.press(.char("n"), .down)  // LiPopt: a degree to change and sweep
        #expect(enabled(s) == ["Help", "Open", "Run", "Norm", "Degree", "Sweep", "Train", "Save", "Quit"])
        s.press(.enter)
        #expect(enabled(s) == ["Help", "Open", "Cancel", "Norm", "Degree", "Save", "Quit"])
    }

    @Test func everySizeRendersWithoutLeavingTheBuffer() {
        var s = loadedState()
        finishRun(&s, value: 2.0, kind: .lower)
        s.press(.enter)
        for i in 1...300 {
            _ = Update.apply(&s, .job(run: 2, .iteration(IterationRecord(index: i, elapsed: Double(i), metrics: [Metric("gap", 1 / Double(i)), Metric("obj", Double(i))]))))
        }
        for rows in [1, 2, 5, 11, 12, 16, 20, 23, 24, 25, 40, 61] {
            for cols in [1, 10, 39, 40, 60, 79, 80, 81, 120, 233] {
                _ = Update.apply(&s, .resize(rows: rows, cols: cols))
                let screen = View.render(s)
                #expect(screen.rows == rows && screen.cols == cols)
                #expect(screen.lines.allSatisfy { $0.count <= cols })
            }
        }
        _ = Update.apply(&s, .resize(rows: 10, cols: 30))
        #expect(View.render(s).line(0) == "lipscope: terminal 30×10")
        // The Run pane with an SDP method's options, some set, and the help screen.
        var o = loadedState()
        o.press(.down, .char("b"), .char("d"), .char("."), .char("."), .char(">"))
        for rows in [1, 12, 16, 24, 40] {
            for cols in [1, 40, 60, 80, 120] {
                _ = Update.apply(&o, .resize(rows: rows, cols: cols))
                for mode in [Mode.main, .help] {
                    o.mode = mode
                    let screen = View.render(o)
                    #expect(screen.lines.allSatisfy { $0.count <= cols })
                }
            }
        }
    }

    @Test func helpScreenListsEveryKey() {
        for (rows, cols) in [(40, 120), (24, 80)] {
            var s = loadedState(rows: rows, cols: cols)
            s.press(.char("?"))
            let text = s.screenText
            for binding in Keymap.bindings(.main) {
                #expect(text.contains(binding.keysText), "\(binding.keysText) missing at \(cols)×\(rows)")
            }
            if rows >= 40 {
                for binding in Keymap.bindings(.browser) + Keymap.bindings(.prompt) { #expect(text.contains(binding.keysText)) }
            } else {
                #expect(text.contains("Browser ↑↓ Enter, Backspace up, a–z jump, Esc · Prompts (w, a) Enter, Esc"))
            }
        }
    }

    @Test func compareBarsShareAScaleAndMarkTheBestLowerBound() {
        var s = loadedState()
        finishRun(&s, value: 1.0, kind: .lower)
        s.press(.down, .down)
        finishRun(&s, value: 100.0)
        let lines = s.screenText.split(separator: "\n").map(String.init)
        let header = try! #require(lines.first { $0.contains("# method") })
        #expect(header.contains("log scale"))  // 100 / 1 > 20
        let lowerRow = try! #require(lines.first { $0.contains("  1 Sampled lower bound") })
        let upperRow = try! #require(lines.first { $0.contains("  2 Naive") })
        #expect(upperRow.contains("100.000"))
        #expect(upperRow.contains(" ✓ "))
        #expect(upperRow.contains("100.000"))
        #expect(lowerRow.contains("┃") && upperRow.contains("┃"))
        // The upper bar is longer than the lower one and passes the marker.
        #expect(upperRow.filter { $0 == "█" }.count > lowerRow.filter { $0 == "█" }.count)
        #expect(upperRow.contains("┃█"))
        #expect(s.screenText.contains("best lower ℓ2 1"))
    }

    @Test func compareShowsTheNewestRunWhenItDoesNotFit() {
        var s = loadedState(rows: 24, cols: 80)
        for k in 1...5 { finishRun(&s, value: Double(k)) }
        let text = s.screenText
        #expect(text.contains("  5 Sampled lower"))
        #expect(!text.contains("  1 Sampled lower"))
        s.press(.tab, .home)
        s.press(.up, .up, .up, .up)
        #expect(s.compareCursor == 0)
        #expect(s.screenText.contains("  1 Sampled lower"))
    }

    @Test func networkPaneShowsImplicitWellPosedness() {
        let net = try! NetworkLoader.load(path: Fixtures.repositoryPath("examples/implicit_n8.json"))
        let s = loadedState(network: net)
        let text = s.screenText
        #expect(text.contains("(implicit)"))
        #expect(text.contains("(in→state→out)"))
        #expect(text.contains("μ∞(A) "))
        #expect(text.contains("posed yes (weighted ℓ∞ contraction)"))
    }

    @Test func progressBarShowsCountsAndTheLastLogLine() {
        var s = loadedState()
        s.press(.enter)
        _ = Update.apply(&s, .job(run: 1, .log("LP: 120 rows, 300 columns, 900 nonzeros")))
        _ = Update.apply(&s, .job(run: 1, .progress(phase: "products", done: 50, total: 200)))
        let text = s.screenText
        #expect(text.contains("products 50/200 ████"))
        #expect(text.contains(" 25%"))
        #expect(text.contains("LP: 120 rows, 300 columns, 900 nonzeros"))
        #expect(text.contains("waiting for the first iteration…"))
        // Once iterations stream, the size line stays above the table.
        _ = Update.apply(&s, .job(run: 1, .progress(phase: "products", done: 200, total: 200)))
        _ = Update.apply(&s, .job(run: 1, .iteration(IterationRecord(index: 1, elapsed: 0.5, metrics: [Metric("primal", 2)]))))
        let lines = s.screenText.split(separator: "\n").map(String.init)
        let size = try! #require(lines.firstIndex { $0.contains("LP: 120 rows, 300 columns, 900 nonzeros") })
        #expect(lines[size + 1].contains("    it    primal     time"))
        #expect(!s.screenText.contains("products 200/200"))
    }

    @Test func brailleTicksGrowWithIterations() {
        var screen = ScreenBuffer(rows: 6, cols: 40)
        Plot.braille(&screen, Rect(row: 0, col: 0, height: 6, width: 40),
                     [Plot.Series(name: "gap", values: [1, 0.1, 0.01, 0.001], style: .accent)], log: true)
        #expect(screen.line(0).hasPrefix("       1┤"))
        #expect(screen.line(5).hasPrefix("   0.001┤"))
        let dots = screen.lines.joined().unicodeScalars.filter { (0x2801...0x28FF).contains($0.value) }.count
        #expect(dots >= 4)
        #expect(Plot.bar(0.5, width: 4) == "██")
        #expect(Plot.bar(0.53, width: 4) == "██▏")
        #expect(Format.compact(1e-5, width: 10) == "1e-05")
        #expect(Format.compact(0.123456789, width: 10) == "0.123457")
    }
}
