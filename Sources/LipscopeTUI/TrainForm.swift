import Foundation
import LipscopeEngine

/// The settings of the next training run (`t`): the fields of the train form, stepped like the
/// method options (← → < > - +), and what they become in the session log.
public struct TrainForm: Sendable, Equatable {
    public enum Field: Int, Sendable, CaseIterable {
        case hidden, gamma, lambda, epochs, seed, parameterization

        public var label: String {
            switch self {
            case .hidden: "hidden states n"
            case .gamma: "γ (μ∞(A) ≤ γ)"
            case .lambda: "λ (bound weight)"
            case .epochs: "epochs"
            case .seed: "seed"
            case .parameterization: "parameterization"
            }
        }
    }

    /// `lipscope train`'s defaults, except the seed (the workbench's runs start at seed 1).
    public var hidden = 100
    public var gamma = 0.5
    public var lambda = 0.0
    public var epochs = 15
    public var seed: UInt64 = 1
    public var parameterization = Parameterization.polytope
    public var cursor = Field.hidden

    public init() {}

    /// The values the steps go through (a typed-in value in between steps to its neighbour).
    static let hiddenSteps = [5, 10, 20, 30, 50, 75, 100, 150, 200, 300, 400]
    static let gammaSteps = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99]
    static let lambdaSteps = [0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1]
    static let maxEpochs = 200

    static func step<T: Comparable>(_ steps: [T], _ value: T, up: Bool) -> T {
        if up { return steps.first { $0 > value } ?? steps.last! }
        return steps.last { $0 < value } ?? steps.first!
    }

    public mutating func step(_ field: Field, up: Bool) {
        switch field {
        case .hidden: hidden = Self.step(Self.hiddenSteps, hidden, up: up)
        case .gamma: gamma = Self.step(Self.gammaSteps, gamma, up: up)
        case .lambda: lambda = Self.step(Self.lambdaSteps, lambda, up: up)
        case .epochs: epochs = min(Self.maxEpochs, max(1, epochs + (up ? 1 : -1)))
        case .seed: seed = up ? seed + 1 : (seed == 0 ? 0 : seed - 1)
        case .parameterization:
            let all = Parameterization.allCases
            let i = all.firstIndex(of: parameterization)!
            parameterization = all[(i + (up ? 1 : all.count - 1)) % all.count]
        }
    }

    /// Puts one field back to its default.
    public mutating func reset(_ field: Field) {
        let d = TrainForm()
        switch field {
        case .hidden: hidden = d.hidden
        case .gamma: gamma = d.gamma
        case .lambda: lambda = d.lambda
        case .epochs: epochs = d.epochs
        case .seed: seed = d.seed
        case .parameterization: parameterization = d.parameterization
        }
    }

    public func value(_ field: Field) -> String {
        switch field {
        case .hidden: String(hidden)
        case .gamma: String(gamma)
        case .lambda: lambda == 0 ? "0" : String(lambda)
        case .epochs: String(epochs)
        case .seed: String(seed)
        case .parameterization: parameterization.rawValue
        }
    }

    public func isDefault(_ field: Field) -> Bool { value(field) == TrainForm().value(field) }

    /// The session log's parameters of a run of these settings on the bundled digits.
    public func parameters(out: String) -> TrainingParameters {
        TrainingParameters(data: "digits", hidden: hidden, gamma: gamma, lambda: lambda, epochs: epochs, seed: seed,
                           parameterization: parameterization, out: out)
    }

    /// Why these settings cannot train (the engine's check, in the form's words), if they cannot.
    public var problem: String? {
        parameters(out: "x.json").settings.validate().map { $0.replacingOccurrences(of: "--lambda", with: "λ").replacingOccurrences(of: "--gamma", with: "γ") }
    }

    /// One line: "n 100 · γ 0.5 · λ 0 · 15 epochs · seed 1 · polytope".
    public var summary: String {
        "n \(hidden) · γ \(value(.gamma)) · λ \(value(.lambda)) · \(epochs) epochs · seed \(seed) · \(parameterization.rawValue)"
    }
}
