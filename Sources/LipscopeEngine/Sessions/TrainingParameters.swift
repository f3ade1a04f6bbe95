import Foundation

/// The settings a training run was started with, as the session log records them: everything
/// `lipscope train` needs to repeat it (`--data --hidden --gamma --lambda --epochs --seed
/// --param --batch --learning-rate --out`).
public struct TrainingParameters: Codable, Sendable, Equatable {
    public var data: String
    public var hidden: Int
    public var gamma: Double
    public var lambda: Double
    public var epochs: Int
    public var seed: UInt64
    public var parameterization: Parameterization
    public var batch: Int
    public var learningRate: Double
    /// Where the trained network is saved (native JSON).
    public var out: String

    public init(data: String = "digits", hidden: Int = 100, gamma: Double = 0.5, lambda: Double = 0, epochs: Int = 15,
                seed: UInt64 = 1, parameterization: Parameterization = .polytope, batch: Int = 64, learningRate: Double = 5e-3,
                out: String) {
        self.data = data; self.hidden = hidden; self.gamma = gamma; self.lambda = lambda; self.epochs = epochs
        self.seed = seed; self.parameterization = parameterization; self.batch = batch; self.learningRate = learningRate
        self.out = out
    }

    enum CodingKeys: String, CodingKey {
        case data, hidden, gamma, lambda, epochs, seed, parameterization, batch, out
        case learningRate = "learning_rate"
    }

    /// The engine's settings (the network is named after the output file, as in `lipscope train`).
    public var settings: TrainingSettings {
        var s = TrainingSettings()
        s.hidden = hidden; s.gamma = gamma; s.lambda = lambda; s.epochs = epochs; s.seed = seed
        s.parameterization = parameterization; s.batchSize = batch; s.learningRate = learningRate
        // String arithmetic only (no file-system look-up: the workbench's update calls this).
        s.name = ((out as NSString).lastPathComponent as NSString).deletingPathExtension
        return s
    }

    /// The equivalent command line.
    public var command: String {
        "lipscope train --data \(data) --hidden \(hidden) --gamma \(gamma) --lambda \(lambda) --epochs \(epochs) --seed \(seed) "
            + "--param \(parameterization.rawValue) --batch \(batch) --learning-rate \(learningRate) --out \(out)"
    }
}

/// How a training run ended, as the session log records it.
public struct TrainingSummary: Codable, Sendable, Equatable {
    public var status: TrainingStatus
    public var reason: String?
    /// Finished epochs (the saved network is the last one's).
    public var epochs: Int
    public var seconds: Double
    /// Where the network was saved (nil when saving failed or there was nothing to save).
    public var saved: String?
    public var saveError: String?

    public init(status: TrainingStatus, reason: String? = nil, epochs: Int, seconds: Double, saved: String? = nil, saveError: String? = nil) {
        self.status = status; self.reason = reason; self.epochs = epochs; self.seconds = seconds
        self.saved = saved; self.saveError = saveError
    }

    enum CodingKeys: String, CodingKey {
        case status, reason, epochs, seconds, saved
        case saveError = "save_error"
    }
}

/// Written by name in session logs (`"parameterization": "polytope"`).
extension Parameterization: Codable {}
