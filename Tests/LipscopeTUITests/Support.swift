import Foundation
import Testing
@testable import LipscopeEngine
@testable import LipscopeTUI
import LipscopeTestSupport

/// A method the tests control: no math, configurable identity, norms, degree and applicability.
struct FakeMethod: BoundMethod {
    var id: String
    var label: String
    var kind: BoundKind = .upper
    var norms: [Norm] = [.l2, .linf]
    var minDegree: Int? = nil
    var applies = true
    var declared: [MethodOption] = []

    var options: [MethodOption] { declared }

    func minimumDegree(for network: Network) -> Int? { minDegree }
    func applicability(_ request: BoundRequest) -> Applicability { applies ? .applicable : .notApplicable("fake") }
    func run(_ request: BoundRequest, context: JobContext) throws -> BoundResult {
        result(request, value: 1, certified: true)
    }
}

let fakeMethods: [any BoundMethod] = [
    FakeMethod(id: "sampling", label: "Sampled lower bound", kind: .lower),
    FakeMethod(id: "lipopt", label: "LiPopt-LP", norms: [.linf], minDegree: 2, declared: LiPoptLPBound().options),
    FakeMethod(id: "lipsdp", label: "LipSDP-Neuron", norms: [.l2], declared: StandardOptions.sdp),
    FakeMethod(id: "naive", label: "Naive", kind: .upper),
    FakeMethod(id: "never", label: "Never applies", applies: false),
]

func tinyNetwork() -> Network {
    try! NetworkLoader.load(path: Fixtures.repositoryPath("examples/tiny_relu_1.json"))
}

func multiOutputNetwork() -> Network {
    try! NetworkLoader.load(path: Fixtures.repositoryPath("Tests/Fixtures/testnets/medium_1.json"))
}

/// A workbench at 120×40 with the tiny network loaded.
func loadedState(methods: [any BoundMethod] = fakeMethods, network: Network = tinyNetwork(),
                 rows: Int = 40, cols: Int = 120) -> WorkbenchState {
    var s = WorkbenchState(methods: methods, sessionsDirectory: "/tmp/sessions", workingDirectory: "/work")
    _ = Update.apply(&s, .resize(rows: rows, cols: cols))
    s.send(.networkLoaded(path: "/work/examples/tiny_relu_1.json", network: network, sha256: "00ff"))
    return s
}

extension WorkbenchState {
    /// Applies an event like the runtime would, performing `.checkMethods` at once (in method
    /// order); returns every effect.
    @discardableResult
    mutating func send(_ event: Event) -> [Effect] {
        var all: [Effect] = []
        var queue = [event]
        while !queue.isEmpty {
            for effect in Update.apply(&self, queue.removeFirst()) {
                all.append(effect)
                if case .checkMethods(let token, let network, let norm) = effect {
                    for (i, m) in methods.enumerated() {
                        queue.append(.methodChecked(token: token, method: i, applies: Update.applies(m, network, norm),
                                                    minimumDegree: m.minimumDegree(for: network), last: i == methods.count - 1))
                    }
                }
            }
        }
        return all
    }

    /// Sends keys in order, returning all effects.
    @discardableResult
    mutating func press(_ keys: Key...) -> [Effect] {
        keys.flatMap { send(.key($0)) }
    }

    var screenText: String { View.render(self).text }
    var selectedMethodID: String? { currentMethod.map { methods[$0].id } }
}

extension Effect {
    var startedRun: (run: Int, method: Int, request: BoundRequest)? {
        if case .start(let run, let method, let request) = self { return (run, method, request) }
        return nil
    }
    var loggedEvent: SessionEvent? {
        if case .log(let e) = self { return e }
        return nil
    }
    var isQuit: Bool { if case .quit = self { return true }; return false }
}

func result(_ method: String, _ value: Double?, kind: BoundKind = .upper, norm: Norm = .l2, degree: Int? = nil,
            status: BoundStatus = .optimal, seconds: Double = 0.01) -> BoundResult {
    BoundResult(method: method, norm: norm, degree: degree, kind: kind, value: value, certified: kind == .upper,
                status: status, seconds: seconds, iterations: 3)
}
