import ArgumentParser
import Foundation
import LipscopeEngine
import LipscopeLinearAlgebra

/// Training speed (per-epoch time, fixed-point iterations per batch) per parameterization, and
/// Picard against the averaged iteration on the trained nets: the numbers the README quotes.
struct BenchTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Time `lipscope train` per parameterization and compare Picard with the averaged iteration.")

    @Option(name: .long, help: "digits, a directory of MNIST IDX files, or a CSV file.")
    var data: String = "digits"

    @Option(name: .long, help: "Number of hidden states.")
    var hidden: Int = 100

    @Option(name: .long, help: "Epochs per configuration.")
    var epochs: Int = 15

    @Option(name: .long, help: "Contraction level γ.")
    var gamma: Double = 0.5

    @Option(name: .long, help: "Seed.")
    var seed: UInt64 = 0

    @Option(name: .long, help: "Inputs (test examples) solved at once for the Picard/averaged comparison.")
    var inputs: Int = 256

    @Flag(name: .long, help: "Print one JSON object on stdout.")
    var json = false

    struct TrainingRow: Encodable {
        var configuration: String, parameterization: String, scheme: String, lambda: Double, epochs: Int
        var seconds: Double, secondsPerEpoch: Double, forwardIterations: Double, backwardIterations: Double, unconvergedBatches: Int
        var testAccuracy: Double, muInf: Double, certifiedBound: Double?
    }

    struct IterationRow: Encodable {
        var network: String, muInf: Double, minDiagonal: Double
        var picardIterations: Int, picardConverged: Bool
        var averagedStep: Double, averagedIterations: Int, averagedConverged: Bool
    }

    func run() throws {
        let trainingData = try DatasetLoader.load(data)
        let configurations: [(String, Parameterization, Double, FixedPointScheme?)] = [
            ("polytope λ=0", .polytope, 0, nil), ("polytope λ=1e-2", .polytope, 1e-2, nil), ("direct λ=0", .direct, 0, nil),
            ("monotone (monDEQ)", .monotone, 0, nil), ("monotone, FB splitting", .monotone, 0, .forwardBackward),
        ]
        var rows: [TrainingRow] = []
        var nets: [(String, ImplicitNetwork)] = []
        for (label, parameterization, lambda, scheme) in configurations {
            var s = TrainingSettings()
            s.hidden = hidden; s.gamma = gamma; s.epochs = epochs; s.seed = seed; s.parameterization = parameterization; s.lambda = lambda; s.scheme = scheme
            let outcome = TrainingJob.run(s, data: trainingData)
            let records = outcome.epochs
            let count = Double(max(records.count, 1))
            let last = records.last
            rows.append(TrainingRow(
                configuration: label, parameterization: parameterization.rawValue, scheme: s.effectiveScheme.rawValue, lambda: lambda, epochs: records.count,
                seconds: outcome.seconds, secondsPerEpoch: records.map(\.seconds).reduce(0, +) / count,
                forwardIterations: records.map(\.meanForwardIterations).reduce(0, +) / count,
                backwardIterations: records.map(\.meanBackwardIterations).reduce(0, +) / count,
                unconvergedBatches: records.map(\.unconvergedBatches).reduce(0, +),
                testAccuracy: last?.testAccuracy ?? .nan, muInf: last?.muInf ?? .nan, certifiedBound: last?.certifiedBound))
            nets.append((label, outcome.network))
            if !json { Display.writeError("\(label): \(Presentation.duration(outcome.seconds))\n") }
        }
        // A trained net with its diagonal moved down by 3: μ∞ drops by 3 (still contractive),
        // but the map's slope along that diagonal is about −3, which Picard does not survive.
        if var shifted = nets.first?.1 {
            for i in 0..<shifted.stateSize { shifted.A[i, i] -= 3 }
            nets.append(("polytope λ=0, A − 3I", shifted))
        }
        let u = FixedPointComparison.inputs(trainingData.test, count: inputs)
        var iterationRows: [IterationRow] = []
        for (label, net) in nets {
            let picard = FixedPointComparison.run(net, inputs: u, scheme: .picard)
            let averaged = FixedPointComparison.run(net, inputs: u, scheme: .averaged)
            iterationRows.append(IterationRow(
                network: label, muInf: NetworkSummary(.implicit(net)).muInf ?? .nan, minDiagonal: (0..<net.stateSize).map { net.A[$0, $0] }.min() ?? 0,
                picardIterations: picard.iterations, picardConverged: picard.converged,
                averagedStep: averaged.step, averagedIterations: averaged.iterations, averagedConverged: averaged.converged))
        }
        if json {
            struct Report: Encodable { var data: String; var hidden: Int; var gamma: Double; var training: [TrainingRow]; var iterations: [IterationRow] }
            print(Display.json(Report(data: trainingData.source, hidden: hidden, gamma: gamma, training: rows, iterations: iterationRows)))
            return
        }
        print("training: \(trainingData.source), \(hidden) states, γ = \(gamma), \(epochs) epochs, batch 64")
        print(Display.table(["configuration", "scheme", "s/epoch", "fwd iter", "bwd iter", "at limit", "test acc", "μ∞(A)", "bound (η = 1)"], rows.map { r in
            [r.configuration, r.scheme, Presentation.duration(r.secondsPerEpoch), String(format: "%.1f", r.forwardIterations), String(format: "%.1f", r.backwardIterations),
             String(r.unconvergedBatches), TrainCommand.percent(r.testAccuracy), Presentation.number(r.muInf), Presentation.number(r.certifiedBound)]
        }))
        print("\nfixed point to 1e-6 for \(u.columns) test inputs at once, from x = 0 (limit 2000 iterations)")
        func iterations(_ k: Int, _ ok: Bool) -> String { ok ? String(k) : "no (\(k))" }
        print(Display.table(["network", "μ∞(A)", "min aᵢᵢ", "Picard", "averaged α", "averaged"], iterationRows.map { r in
            [r.network, Presentation.number(r.muInf), Presentation.number(r.minDiagonal), iterations(r.picardIterations, r.picardConverged),
             String(format: "%.4f", r.averagedStep), iterations(r.averagedIterations, r.averagedConverged)]
        }))
    }
}
