import ArgumentParser
import Dispatch
import Foundation
import LipscopeEngine

extension Parameterization: ExpressibleByArgument {}
extension FixedPointScheme: ExpressibleByArgument {}

/// Trains a well-posed implicit network x = relu(Ax + Bu + b), y = Cx + Du with μ∞(A) ≤ γ < 1,
/// optionally regularized by its certified ℓ∞ Lipschitz bound (Jafarpour et al., NeurIPS 2021).
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Train a well-posed implicit network with a certified ℓ∞ Lipschitz bound.",
        discussion: """
        Loss: cross-entropy + λ × the certified ℓ∞ bound ‖D‖∞ + ‖C‖∞‖B‖∞/(1 − μ∞(A)) in a smooth form. \
        Forward: the averaged fixed-point iteration; backward: the adjoint fixed point (implicit differentiation). \
        Data: `digits` (bundled 8×8 digits, pixels scaled to [0, 1], held-out 20 % with seed 0), a directory of MNIST IDX \
        files (pixels scaled to [0, 1]), or a CSV file (features, then an integer label per line). Ctrl-C stops after \
        the current batch and saves the last finished epoch's network.
        """)

    @Option(name: .long, help: "digits, a directory of MNIST IDX files, or a CSV file.")
    var data: String = "digits"

    @Option(name: .long, help: "Number of hidden states n.")
    var hidden: Int = 100

    @Option(name: .long, help: "Contraction level: μ∞(A) ≤ γ < 1.")
    var gamma: Double = 0.5

    @Option(name: .long, help: "Weight of the certified ℓ∞ Lipschitz bound in the loss.")
    var lambda: Double = 0

    @Option(name: .long, help: "Passes over the training set.")
    var epochs: Int = 15

    @Option(name: .long, help: "Seed of the initialization and the batch order.")
    var seed: UInt64 = 0

    @Option(name: .customLong("param"), help: "polytope (projection onto μ∞(A) ≤ γ), direct (A = γI + P − diag(|P|𝟙)) or monotone (monDEQ baseline, λ = 0 only).")
    var parameterization: Parameterization = .polytope

    @Option(name: .long, help: "Comma-separated λ values: train one network per λ and print accuracy against the certified bound.")
    var lambdaSweep: String?

    @Option(name: .long, help: "Mini-batch size.")
    var batch: Int = 64

    @Option(name: .long, help: "Adam learning rate (divided by 5 for the last quarter of the epochs).")
    var learningRate: Double = 5e-3

    @Option(name: .long, help: "Fixed-point scheme: averaged (default for polytope/direct), picard, forward-backward, or peaceman-rachford (default for monotone).")
    var scheme: FixedPointScheme?

    @Option(name: .long, help: "Where to save the trained network (native JSON). With --lambda-sweep, one file per λ: NAME_lambda<λ>.json.")
    var out: String

    @Flag(name: .long, help: "Print one JSON object on stdout at the end.")
    var json = false

    func settings(lambda: Double) -> TrainingSettings {
        var s = TrainingSettings()
        s.hidden = hidden; s.gamma = gamma; s.lambda = lambda; s.epochs = epochs; s.seed = seed
        s.parameterization = parameterization; s.batchSize = batch; s.learningRate = learningRate; s.scheme = scheme
        s.name = URL(fileURLWithPath: out).deletingPathExtension().lastPathComponent
        return s
    }

    func sweepValues() throws -> [Double]? {
        guard let lambdaSweep else { return nil }
        let values = lambdaSweep.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let numbers = values.map { Double($0) }
        guard !values.isEmpty, numbers.allSatisfy({ $0 != nil && $0! >= 0 && $0!.isFinite }) else {
            throw ValidationError("--lambda-sweep expects comma-separated numbers ≥ 0, e.g. 0,1e-3,1e-2; found '\(lambdaSweep)'")
        }
        return numbers.map { $0! }
    }

    func validate() throws {
        let lambdas = try sweepValues() ?? [lambda]
        for l in lambdas { if let problem = settings(lambda: l).validate() { throw ValidationError(problem) } }
    }

    func run() throws {
        let trainingData = try DatasetLoader.load(data)
        if let lambdas = try sweepValues() {
            var rows: [TrainingReport] = []
            for l in lambdas {
                let path = Self.sweepPath(out, lambda: l)
                let report = try train(settings(lambda: l), data: trainingData, out: path, quiet: true)
                rows.append(report)
                if !json { Display.writeError("λ = \(l): test accuracy \(Self.percent(report.test_accuracy)), bound \(Presentation.number(report.lipschitz_bound))\n") }
                if report.status != TrainingStatus.finished.rawValue { break }
            }
            if json { print(Display.json(TrainingSweepReport(data: trainingData.source, sweep: rows))) }
            else { print(Self.sweepTable(rows)) }
            if rows.contains(where: { $0.status == TrainingStatus.failed.rawValue }) { throw ExitCode(ExitStatus.solverFailure) }
            return
        }
        let report = try train(settings(lambda: lambda), data: trainingData, out: out, quiet: json)
        if json { print(Display.json(report)) } else { print(Self.summary(report)) }
        if report.status == TrainingStatus.failed.rawValue { throw ExitCode(ExitStatus.solverFailure) }
    }

    /// Runs one training job (Ctrl-C cancels it), saves its network, and certifies the saved file.
    func train(_ settings: TrainingSettings, data: TrainingData, out path: String, quiet: Bool) throws -> TrainingReport {
        let progress = ProgressLine(label: "train λ=\(settings.lambda)")
        let printEpochs = !quiet
        let job = TrainingJob.start(settings, data: data) { event in
            switch event {
            case .epoch(let record):
                if printEpochs {
                    Self.clearProgressLine()
                    Display.writeError(Self.epochLine(record, of: settings.epochs) + "\n")
                }
                progress.handle(.iteration(record.iterationRecord))
            case .log(let message):
                if printEpochs { Display.writeError(message + "\n") }
            case .finished: break
            }
        }
        signal(SIGINT, SIG_IGN)
        let interrupt = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        interrupt.setEventHandler { job.cancel() }
        interrupt.resume()
        let outcome = job.wait()
        interrupt.cancel()
        signal(SIGINT, SIG_DFL)
        Self.clearProgressLine()
        try NetworkLoader.save(.implicit(outcome.network), to: path)
        let saved = try NetworkLoader.load(path: path)
        let check = TrainedNetworkCheck(saved)
        return TrainingReport(outcome, check: check, path: path, data: data)
    }

    static func clearProgressLine() { if Display.stderrIsTerminal { Display.writeError("\r\u{1B}[K") } }

    static func sweepPath(_ out: String, lambda: Double) -> String {
        let url = URL(fileURLWithPath: out)
        let ext = url.pathExtension.isEmpty ? "json" : url.pathExtension
        let stem = url.deletingPathExtension().path
        return "\(stem)_lambda\(lambda == 0 ? "0" : String(lambda)).\(ext)"
    }

    static func percent(_ x: Double) -> String { x.isFinite ? String(format: "%.2f %%", 100 * x) : "—" }

    static func epochLine(_ r: EpochRecord, of total: Int) -> String {
        String(format: "epoch %3d/%d  loss %.4f  train %6.2f %%  test %6.2f %%  μ∞(A) %.4f  bound %@  iter fwd %.1f bwd %.1f  %@",
               r.epoch, total, r.loss, 100 * r.trainAccuracy, 100 * r.testAccuracy, r.muInf,
               Presentation.number(r.certifiedBound), r.meanForwardIterations, r.meanBackwardIterations, Presentation.duration(r.seconds))
            + (r.unconvergedBatches > 0 ? "  (\(r.unconvergedBatches) batches at the iteration limit)" : "")
    }

    static func summary(_ r: TrainingReport) -> String {
        var lines = [
            "status          \(r.status)\(r.reason.map { " (\($0))" } ?? "")",
            "network         \(r.network)  (\(r.hidden) states, \(r.parameterization), γ = \(r.gamma), λ = \(r.lambda))",
            "epochs          \(r.epochs) in \(Presentation.duration(r.seconds))",
            "train accuracy  \(percent(r.train_accuracy))",
            "test accuracy   \(percent(r.test_accuracy))  (\(r.test_set))",
            "μ∞(A)           \(Presentation.number(r.mu_inf))",
            "best μ_η(A)     \(Presentation.number(r.best_weighted_mu))",
            "ℓ∞ Lipschitz    \(Presentation.number(r.lipschitz_bound))  (\(r.certified ? "certified, contraction-weighted on the saved file" : "NOT certified: \(r.bound_reason ?? "?")"))",
        ]
        if let plain = r.lipschitz_bound_plain { lines.append("  with η = 1    \(Presentation.number(plain))  (contraction)") }
        return lines.joined(separator: "\n")
    }

    static func sweepTable(_ rows: [TrainingReport]) -> String {
        let table = Display.table(["λ", "train acc", "test acc", "μ∞(A)", "ℓ∞ bound", "bound (η = 1)", "time", "network"], rows.map { r in
            [String(r.lambda), percent(r.train_accuracy), percent(r.test_accuracy), Presentation.number(r.mu_inf), Presentation.number(r.lipschitz_bound),
             Presentation.number(r.lipschitz_bound_plain), Presentation.duration(r.seconds), r.network]
        })
        return table + "\n\n" + TextScatter.plot(rows.map { (label: String($0.lambda), x: $0.lipschitz_bound, y: $0.test_accuracy) },
                                                 xTitle: "certified ℓ∞ bound (log scale)", yTitle: "test accuracy")
    }
}

/// `lipscope train --json`: field names are part of the stable contract.
struct TrainingReport: Encodable {
    var status: String
    var reason: String?
    var train_accuracy: Double
    var test_accuracy: Double
    var mu_inf: Double
    var best_weighted_mu: Double?
    /// Certified ℓ∞ bound of the saved network by `contraction-weighted` (nil when not certified).
    var lipschitz_bound: Double?
    var lipschitz_bound_plain: Double?
    var certified: Bool
    var bound_reason: String?
    var epochs: Int
    var seconds: Double
    var network: String
    var data: String
    var test_set: String
    var lambda: Double
    var gamma: Double
    var hidden: Int
    var parameterization: String
    var scheme: String
    var seed: UInt64
    var history: [EpochRecord]

    init(_ o: TrainingOutcome, check: TrainedNetworkCheck, path: String, data: TrainingData) {
        status = o.status.rawValue
        reason = o.reason
        let last = o.epochs.last
        train_accuracy = last?.trainAccuracy ?? .nan
        test_accuracy = last?.testAccuracy ?? .nan
        mu_inf = check.muInf
        best_weighted_mu = check.bestWeightedMu
        lipschitz_bound = check.weighted.certified ? check.weighted.value : nil
        lipschitz_bound_plain = check.plain.certified ? check.plain.value : nil
        certified = check.weighted.certified
        if case .string(let why)? = check.weighted.details["reason"] { bound_reason = why }
        epochs = o.epochs.count
        seconds = o.seconds
        network = path
        self.data = data.source
        test_set = data.testDescription
        lambda = o.settings.lambda
        gamma = o.settings.gamma
        hidden = o.settings.hidden
        parameterization = o.settings.parameterization.rawValue
        scheme = o.settings.effectiveScheme.rawValue
        seed = o.settings.seed
        history = o.epochs
    }
}

struct TrainingSweepReport: Encodable {
    var data: String
    var sweep: [TrainingReport]
}

/// A small text scatter plot: y against log10 x, each point drawn as its row number.
enum TextScatter {
    static func plot(_ points: [(label: String, x: Double?, y: Double)], xTitle: String, yTitle: String, width: Int = 48, height: Int = 10) -> String {
        let valid = points.enumerated().compactMap { k, p -> (Int, Double, Double)? in
            guard let x = p.x, x > 0, p.y.isFinite else { return nil }
            return (k, log10(x), p.y)
        }
        guard !valid.isEmpty else { return "(no certified points to plot)" }
        let xs = valid.map { $0.1 }, ys = valid.map { $0.2 }
        let x0 = xs.min()!, x1 = max(xs.max()!, x0 + 1e-9), y0 = ys.min()!, y1 = max(ys.max()!, y0 + 1e-9)
        var grid = Array(repeating: Array(repeating: Character(" "), count: width), count: height)
        for (k, x, y) in valid {
            let c = Int(((x - x0) / (x1 - x0) * Double(width - 1)).rounded())
            let r = height - 1 - Int(((y - y0) / (y1 - y0) * Double(height - 1)).rounded())
            grid[r][c] = Character(String(k % 10))
        }
        var lines = ["\(yTitle)"]
        for (r, row) in grid.enumerated() {
            let label = r == 0 ? TrainCommand.percent(y1) : (r == height - 1 ? TrainCommand.percent(y0) : "")
            lines.append(label.padding(toLength: 9, withPad: " ", startingAt: 0) + "|" + String(row))
        }
        lines.append(String(repeating: " ", count: 9) + "+" + String(repeating: "-", count: width))
        let left = Presentation.number(pow(10, x0)), right = Presentation.number(pow(10, x1))
        lines.append(String(repeating: " ", count: 10) + left + String(repeating: " ", count: max(1, width - left.count - right.count)) + right)
        lines.append(String(repeating: " ", count: 10) + xTitle + "; points: " + points.enumerated().map { "\($0.offset % 10) = λ \($0.element.label)" }.joined(separator: ", "))
        return lines.joined(separator: "\n")
    }
}
