import Foundation

/// One run as reconstructed from a session log.
public struct SessionRun: Sendable, Equatable {
    public var id: Int
    public var started: String
    public var parameters: RunParameters
    /// The logged iterations (possibly thinned; the last one is always kept).
    public var iterations: [IterationRecord]
    public var lastProgress: ProgressState?
    public var messages: [String]
    /// nil when the log ends before the run finished (crash, kill, truncated log).
    public var result: BoundResult?

    public init(id: Int, started: String, parameters: RunParameters, iterations: [IterationRecord] = [],
                lastProgress: ProgressState? = nil, messages: [String] = [], result: BoundResult? = nil) {
        self.id = id; self.started = started; self.parameters = parameters; self.iterations = iterations
        self.lastProgress = lastProgress; self.messages = messages; self.result = result
    }
}

public struct ProgressState: Sendable, Equatable, Codable {
    public var phase: String
    public var done: Int
    public var total: Int
    public init(phase: String, done: Int, total: Int) { self.phase = phase; self.done = done; self.total = total }
}

/// A training run as reconstructed from a session log.
public struct SessionTraining: Sendable, Equatable {
    public var id: Int
    public var started: String
    public var parameters: TrainingParameters
    public var epochs: [EpochRecord] = []
    public var messages: [String] = []
    /// nil when the log ends before the training finished.
    public var summary: TrainingSummary?

    public init(id: Int, started: String, parameters: TrainingParameters, epochs: [EpochRecord] = [],
                messages: [String] = [], summary: TrainingSummary? = nil) {
        self.id = id; self.started = started; self.parameters = parameters; self.epochs = epochs
        self.messages = messages; self.summary = summary
    }
}

/// A network the session loaded.
public struct SessionNetwork: Sendable, Equatable {
    public var time: String
    public var path: String
    public var sha256: String?
    public var summary: NetworkSummary
}

/// A whole session rebuilt from its events: networks, runs with their iterations and results, notes.
public struct SessionRecord: Sendable {
    public var version: String?
    public var started: String?
    public var ended: String?
    public var networks: [SessionNetwork] = []
    public var runs: [SessionRun] = []
    public var trainings: [SessionTraining] = []
    /// Certification runs (`v` in the workbench), in log order.
    public var certifications: [CertifyRecord] = []
    public var notes: [String] = []
    /// From the reader: why the log stopped early, if it did.
    public var problem: String?

    public init(events: [SessionEvent], problem: String? = nil) {
        self.problem = problem
        var index: [Int: Int] = [:]
        var trainingIndex: [Int: Int] = [:]
        for event in events {
            switch event {
            case .sessionStart(let version, let time):
                if self.version == nil { self.version = version; started = time }
            case .networkLoaded(let time, let path, let sha, let summary):
                networks.append(SessionNetwork(time: time, path: path, sha256: sha, summary: summary))
            case .runStarted(let time, let run, let parameters):
                index[run] = runs.count
                runs.append(SessionRun(id: run, started: time, parameters: parameters))
            case .progress(let run, let phase, let done, let total):
                if let i = index[run] { runs[i].lastProgress = ProgressState(phase: phase, done: done, total: total) }
            case .log(let run, let message):
                if let i = index[run] { runs[i].messages.append(message) }
                else if let i = trainingIndex[run] { trainings[i].messages.append(message) }
            case .iteration(let run, let record):
                if let i = index[run] { runs[i].iterations.append(record) }
            case .runFinished(_, let run, let result):
                if let i = index[run] { runs[i].result = result }
            case .note(_, let text):
                notes.append(text)
            case .trainingStarted(let time, let run, let parameters):
                trainingIndex[run] = trainings.count
                trainings.append(SessionTraining(id: run, started: time, parameters: parameters))
            case .trainingEpoch(let run, let record):
                if let i = trainingIndex[run] { trainings[i].epochs.append(record) }
            case .trainingFinished(_, let run, let summary):
                if let i = trainingIndex[run] { trainings[i].summary = summary }
            case .certifyFinished(_, _, let record):
                certifications.append(record)
            case .sessionEnd(let time):
                ended = time
            }
        }
    }

    public init(contents: SessionLogContents) {
        self.init(events: contents.events, problem: contents.problem)
    }

    public static func read(path: String) throws -> SessionRecord {
        SessionRecord(contents: try SessionLogReader.read(path: path))
    }

    public var finishedRuns: [SessionRun] { runs.filter { $0.result != nil } }

    /// The summary of the network a run was on (by name; the latest load wins).
    public func network(named name: String) -> SessionNetwork? {
        networks.last { $0.summary.name == name }
    }

    /// A comparison of the finished runs on one network (ratios to that network's best lower bound).
    public func comparison(network name: String) -> Comparison? {
        guard let net = network(named: name) else { return nil }
        let results = finishedRuns.filter { $0.parameters.network == name }.compactMap(\.result)
        return Comparison(network: net.summary, results: results, seconds: results.reduce(0) { $0 + $1.seconds })
    }

    /// Names of the networks that runs were on, in order of first run (or of loading when no runs).
    public var networkNames: [String] {
        var names: [String] = []
        for name in runs.map(\.parameters.network) + networks.map(\.summary.name) where !names.contains(name) {
            names.append(name)
        }
        return names
    }
}
