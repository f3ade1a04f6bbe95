import Foundation
import LipscopeEngine

/// A key press, decoded from curses by the backend (and built directly by tests).
public enum Key: Equatable, Sendable {
    case char(Character)
    case enter, escape, backspace, tab, backTab
    case up, down, left, right, pageUp, pageDown, home, end
    case function(Int)
    case ctrl(Character)
}

/// Everything that can happen to the workbench.
public enum Event: Sendable {
    case key(Key)
    case resize(rows: Int, cols: Int)
    /// Monotonic seconds since the workbench started.
    case tick(Double)
    case job(run: Int, JobEvent)
    /// From the training run `run` (`Effect.startTraining`).
    case training(run: Int, TrainingUpdate)
    /// From the certification run `run` (`Effect.startCertify`).
    case certify(run: Int, CertifyUpdate)
    case networkLoaded(path: String, network: Network, sha256: String?)
    case loadFailed(path: String, message: String)
    case directoryListed(path: String, entries: [BrowserEntry])
    case listFailed(path: String, message: String)
    case saved(log: String, report: String)
    case saveFailed(String)
    case replayLoaded(path: String, record: SessionRecord)
    case replayFailed(path: String, message: String)
    case sessionLogOpened(path: String)
    case sessionLogFailed(String)
    /// The runtime's answer to `Effect.checkFile`.
    case fileChecked(path: String, exists: Bool, purpose: FileCheck)
    /// One method checked against the network and norm of check `token` (see `Effect.checkMethods`).
    case methodChecked(token: Int, method: Int, applies: Bool, minimumDegree: Int?, last: Bool,
                       predicted: CostPrediction? = nil)
    /// The runtime's answer to `Effect.loadRegion`.
    case regionLoaded(path: String, file: RegionFile)
    case regionFailed(path: String, message: String)
}

/// What the runtime does for the update function: the only way the workbench touches the
/// world (threads, files, the session log).
public enum Effect: Sendable {
    case start(run: Int, method: Int, request: BoundRequest)
    /// Cancels a bound run or a training run.
    case cancel(run: Int)
    /// Train on the data of `parameters` on a thread, save the network to `parameters.out` (or
    /// the next unused name beside it) and answer with `.training` events.
    case startTraining(run: Int, parameters: TrainingParameters)
    /// Certify on a thread (`Certifier.certify` with a progress listener that also checks the
    /// cancel switch) and answer with `.certify` events.
    case startCertify(run: Int, problem: Certifier.Problem, method: Certifier.Method, seed: UInt64)
    /// The same for an implicit (equilibrium) net (`ImplicitCertifier.certify`).
    case startImplicitCertify(run: Int, problem: ImplicitCertifier.Problem, method: ImplicitCertifier.Method, seed: UInt64)
    /// Append to the session log (the runtime stamps `time`).
    case log(SessionEvent)
    case loadNetwork(path: String)
    case listDirectory(path: String, purpose: BrowserPurpose)
    case save(name: String)
    case replay(path: String)
    /// Whether a file exists (the update function never looks at the file system itself);
    /// answered with `.fileChecked`.
    case checkFile(path: String, purpose: FileCheck)
    /// Decide, off the main thread, which methods apply (some checks size an LP/SDP and take
    /// seconds on big networks); answers come back one method at a time as `.methodChecked`.
    case checkMethods(token: Int, network: Network, norm: Norm)
    /// Read a region file (a center point or a .vnnlib property) for a network of these sizes;
    /// answered with `.regionLoaded` or `.regionFailed`.
    case loadRegion(path: String, inputSize: Int, outputSize: Int)
    case quit
}

/// What a training run reports to the workbench.
public enum TrainingUpdate: Sendable {
    case log(String)
    case epoch(EpochRecord)
    /// The end, after the network was saved (exactly once).
    case finished(TrainingSummary)
}

/// A training run: its settings, the live pane's view of its epochs, and its end.
public struct TrainingRun: Sendable {
    public var parameters: TrainingParameters
    public var view: RunView
    /// Every epoch as the engine reported it (the view keeps the table's rows).
    public var epochs: [EpochRecord] = []
    public var summary: TrainingSummary?
    /// What the message line said when it ended (repeated when its network is opened).
    public var endText: String?
    public var id: Int { view.id }
    public var running: Bool { summary == nil }

    public static let methodID = "train"
}

public enum BrowserPurpose: Sendable, Equatable { case network, session, region }

/// Why the update function asked whether a file exists.
public enum FileCheck: Sendable, Equatable {
    /// The network a reopened session log was on: load it when it is there.
    case sessionNetwork(name: String)
}

public struct BrowserEntry: Sendable, Equatable {
    public var name: String
    public var isDirectory: Bool
    public init(name: String, isDirectory: Bool) { self.name = name; self.isDirectory = isDirectory }
}

public struct Browser: Sendable, Equatable {
    public var purpose: BrowserPurpose
    public var directory: String
    public var entries: [BrowserEntry]
    public var selected: Int
    public var loading: Bool

    public var title: String {
        switch purpose {
        case .network: "Open network"
        case .session: "Reopen session"
        case .region: "Load a region (center point or .vnnlib)"
        }
    }
}

/// A run: live while active, then a row of the comparison.
public struct RunView: Sendable {
    public var id: Int
    public var parameters: RunParameters
    /// Iterations kept for the table and plot (long runs are thinned, the newest always kept).
    public var iterations: [IterationRecord]
    public var iterationCount: Int
    public var progress: ProgressState?
    public var messages: [String]
    public var startedAt: Double
    public var cancelling: Bool
    public var result: BoundResult?

    public static let keepIterations = 4000

    public init(id: Int, parameters: RunParameters, startedAt: Double, iterations: [IterationRecord] = [],
                result: BoundResult? = nil) {
        self.id = id; self.parameters = parameters; self.startedAt = startedAt
        self.iterations = iterations; self.iterationCount = iterations.count
        self.progress = nil; self.messages = []; self.cancelling = false; self.result = result
    }

    /// Once the run ended, the progress lines ("output 1: solving") are stale: they go, and the
    /// per-output values (when the method reports them) or where it stopped take their place.
    mutating func settle(_ result: BoundResult) {
        let progress = messages.filter(Self.isProgressLine)
        guard !progress.isEmpty else { return }
        messages.removeAll(where: Self.isProgressLine)
        if result.status == .optimal, case .array(let values)? = result.details["per_output"] {
            let parts = values.enumerated().compactMap { k, v -> String? in
                if case .number(let x) = v { return "\(k): \(Format.number(x))" }
                return nil
            }
            if !parts.isEmpty { messages.append("per output " + parts.joined(separator: ", ")) }
        } else if result.status != .optimal, let last = progress.last {
            messages.append("\(result.status.rawValue) while solving \(last.dropLast(Self.progressSuffix.count))")
        }
    }

    static let progressSuffix = ": solving"
    static func isProgressLine(_ line: String) -> Bool {
        line.hasPrefix("output ") && line.hasSuffix(progressSuffix) && Int(line.dropFirst(7).dropLast(progressSuffix.count)) != nil
    }

    mutating func add(_ record: IterationRecord) {
        iterationCount += 1
        iterations.append(record)
        if iterations.count > Self.keepIterations {
            // Drop every other of the older half; the newest half stays complete.
            let half = iterations.count / 2
            iterations = iterations[..<half].enumerated().filter { $0.offset % 2 == 0 }.map(\.element) + iterations[half...]
        }
    }
}

/// A degree sweep of one method: one run per degree until the time budget or the top degree.
public struct Sweep: Sendable {
    public struct Point: Sendable, Equatable {
        public var degree: Int
        public var value: Double?
        public var seconds: Double
        public var status: BoundStatus
    }
    public var method: Int
    public var label: String
    public var norm: Norm
    public var fromDegree: Int
    public var toDegree: Int
    public var budget: Double
    public var points: [Point] = []
    public var running: Bool = true
    public var stopReason: String?
    /// The output every run of the sweep is restricted to (nil: all).
    public var output: Int?
    /// p*: relaxed-exact's value on the same network, norm and output — the maximum over the
    /// slope box that every degree of the hierarchy stays above and converges to.
    public var exact: Double?
    /// The relaxed-exact run the sweep started first to learn p* (while it runs).
    public var exactRun: Int?
    /// Why p* is not known, when relaxed-exact applies but was not run.
    public var exactNote: String?

    /// Relative tolerance of "the bound equals p*" (solver accuracy and rounding margins).
    public static let exactTolerance = 1e-6

    /// Whether a bound is p* up to the tolerance (it cannot be lower, up to rounding).
    public func reachesExact(_ value: Double) -> Bool {
        guard let exact else { return false }
        return value <= exact + Self.exactTolerance * max(1, abs(exact))
    }
}

public enum Mode: Sendable {
    case main
    case help
    case browser(Browser)
    case prompt(text: String)
    /// Typing a note for the session log.
    case note(text: String)
    case confirmQuit
    /// The train form (t): the settings of the next training run.
    case trainForm
}

public enum Focus: Sendable, Equatable { case run, compare }
public enum CompareSort: String, Sendable, CaseIterable { case run = "run order", bound, time }
public enum PlotMode: Sendable, Equatable { case convergence, sweep }

/// The network the workbench works on.
public struct LoadedNetwork: Sendable {
    public var path: String
    public var network: Network
    public var summary: NetworkSummary
    public var sha256: String?
}

public struct Message: Sendable, Equatable {
    public var text: String
    public var isError: Bool
}

/// The whole workbench state: one value, changed only by `update`.
public struct WorkbenchState: Sendable {
    public var rows: Int = 24
    public var cols: Int = 80
    public var clock: Double = 0
    public var methods: [any BoundMethod]
    public var network: LoadedNetwork?
    /// Indices into `methods` of those applicable to the network in the current norm.
    public var applicable: [Int] = []
    /// The check in flight (answers of older checks are ignored) and whether it is still running.
    public var checkToken = 0
    public var checking = false
    /// The method to reselect when its answer arrives, and the degree to keep for it.
    var keepMethod: String?
    var keepDegree: Int?
    /// Set once the kept method arrived or the user moved: later answers do not move the cursor.
    var selectionSettled = false
    /// Minimum degrees of the methods on the loaded network (from the checks).
    public var minimumDegrees: [Int: Int] = [:]
    /// Predicted run times of the methods on the loaded network and norm (from the checks):
    /// the Run list is ordered by them, cheapest first.
    public var predictions: [Int: CostPrediction] = [:]
    /// A method predicted to take longer runs only after a second ⏎ (nil: no budget).
    public var budget: Double? = Comparison.defaultBudget
    /// The method whose over-budget run the user was warned about (the next ⏎ runs it).
    var confirmingRun: Int?
    /// Global, or a ball/box around a loaded point (runs of methods taking a region use it).
    public var region = RegionControl()
    public var selected: Int = 0
    public var norm: Norm = .l2
    public var degree: Int?
    public var output: Int?
    /// The options the user set, by method id and option key (unset keys use the method's
    /// declared default and are not passed).
    public var optionValues: [String: [String: String]] = [:]
    /// The Run pane's option under the cursor (index into the selected method's shown options).
    public var optionCursor = 0
    public var seed: UInt64 = 1
    public var nextRunID = 1
    public var active: RunView?
    public var runs: [RunView] = []
    /// The finished run the live pane shows when nothing is running (compare selection).
    public var shownRun: Int?
    public var focus: Focus = .run
    public var compareCursor: Int = 0
    public var sort: CompareSort = .run
    public var plot: PlotMode = .convergence
    public var sweep: Sweep?
    /// The settings the train form shows (kept between trainings).
    public var trainForm = TrainForm()
    /// The running or last training run.
    public var training: TrainingRun?
    /// The running or last certification run (`v`).
    public var certify: CertifyJob?
    /// Whether the live pane shows the certification run (from `v` until a run or a Compare
    /// row takes the pane back).
    public var showsCertify = false
    public var mode: Mode = .main
    public var message: Message?
    public var sessionLog: String?
    public var sessionsDirectory: String
    public var workingDirectory: String
    /// Set once the user confirmed quitting; the runtime exits after the effects.
    public var quitting = false
    /// Whether the terminal shows colors (views use it only for the legend).
    public var colors = true

    public static let sweepSpan = 5
    public static let sweepBudget = 60.0
    /// A sweep first runs relaxed-exact (2^N slope patterns) for p* up to this many hidden neurons.
    public static let cheapExactNeurons = 16
    public static let exactMethodID = "relaxed-exact"

    public init(methods: [any BoundMethod] = MethodRegistry.all, sessionsDirectory: String = "sessions",
                workingDirectory: String = FileManager.default.currentDirectoryPath,
                budget: Double? = Comparison.defaultBudget) {
        self.methods = methods
        self.budget = budget
        self.sessionsDirectory = sessionsDirectory
        self.workingDirectory = workingDirectory
    }

    /// Whether method `m`'s predicted time exceeds the budget.
    public func isOverBudget(_ m: Int) -> Bool {
        guard let budget, let p = predictions[m] else { return false }
        return p.seconds > budget
    }

    /// The method under the cursor (index into `methods`).
    public var currentMethod: Int? {
        applicable.indices.contains(selected) ? applicable[selected] : nil
    }

    /// A bound, training or certification run is active (one at a time: they all use the cores).
    public var isRunning: Bool { active != nil || training?.running == true || certify?.running == true }

    /// The certification run while it runs.
    public var runningCertify: CertifyJob? { certify?.running == true ? certify : nil }

    /// The training run while it runs.
    public var runningTraining: TrainingRun? { training?.running == true ? training : nil }

    /// The options the Run pane shows for the selected method (empty without one).
    public var shownOptions: [MethodOption] {
        currentMethod.map { OptionControls.shown(methods[$0]) } ?? []
    }

    /// The options a run of method `m` passes: exactly the shown ones the user set.
    public func requestOptions(_ m: Int) -> [String: String] {
        let keys = Set(OptionControls.shown(methods[m]).map(\.key))
        return (optionValues[methods[m].id] ?? [:]).filter { keys.contains($0.key) }
    }

    /// Finished runs on the loaded network (all runs when none is loaded), in display order.
    public var compareRows: [RunView] {
        let name = network?.summary.name
        let rows = runs.filter { name == nil || $0.parameters.network == name }
        switch sort {
        case .run: return rows
        case .bound: return rows.sorted { ($0.result?.value ?? .infinity) < ($1.result?.value ?? .infinity) }
        case .time: return rows.sorted { ($0.result?.seconds ?? 0) < ($1.result?.seconds ?? 0) }
        }
    }

    /// The largest lower (or exact) bound among the comparison rows in a norm.
    public func bestLower(_ norm: Norm) -> Double? {
        compareRows.compactMap(\.result).filter { $0.norm == norm && ($0.kind == .lower || $0.kind == .exact) }
            .compactMap(\.value).max()
    }

    /// A bound divided by the best lower bound in its norm (the comparison's ratio).
    public func ratioToBestLower(_ r: BoundResult) -> Double? {
        guard let v = r.value, let lower = bestLower(r.norm), lower > 0 else { return nil }
        return v / lower
    }

    /// The run the live pane shows: the active one, else the selected/last finished one.
    public var liveRun: RunView? {
        if let active { return active }
        if let t = training, t.running || t.id == shownRun { return t.view }
        if let id = shownRun, let run = runs.first(where: { $0.id == id }) { return run }
        return nil
    }
}

