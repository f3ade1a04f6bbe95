import Foundation
import LipscopeSolvers
import LipscopeTestSupport
import Synchronization

/// The solver benchmark files under Tests/Fixtures (sdplib, netlib) and their optimal values.
extension Fixtures {
    static func sdplib(_ name: String) -> String { root.appendingPathComponent("sdplib/\(name).dat-s").path }
    static func netlib(_ name: String) -> String { root.appendingPathComponent("netlib/\(name).mps").path }

    /// file (without extension) → value column, from a fixture optimal_values.csv.
    static func table(_ folder: String) -> [String: String] {
        let text = (try? String(contentsOf: root.appendingPathComponent("\(folder)/optimal_values.csv"), encoding: .utf8)) ?? ""
        var out: [String: String] = [:]
        for line in text.split(separator: "\n").dropFirst() {
            let f = line.split(separator: ",", omittingEmptySubsequences: false)
            guard f.count >= 2 else { continue }
            let name = f[0].split(separator: ".").first.map(String.init) ?? String(f[0])
            out[name] = String(f[1])
        }
        return out
    }

    static func sdpOptimum(_ name: String) -> Double? { table("sdplib")[name].flatMap { Double($0) } }
    static func lpOptimum(_ name: String) -> Double? { table("netlib")[name].flatMap { Double($0) } }

    /// 1e-6, except gpp100: its table value -44.9435 is short by 5e-5 (DSDP and csdp agree
    /// on -44.943550…), i.e. 1.1e-6 relative, so the best achievable is 1.2e-6.
    static func sdpTolerance(_ name: String) -> Double { name == "gpp100" ? 1.2e-6 : 1e-6 }

    static func relativeError(_ a: Double, _ b: Double) -> Double { abs(a - b) / max(1, abs(b)) }

    static var csdpAvailable: Bool {
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
            .contains { FileManager.default.isExecutableFile(atPath: "\($0)/csdp") }
    }
}

/// Collects iterations from `onIteration` (called on a worker thread).
final class IterationLog: Sendable {
    private let items = Mutex<[SolverIteration]>([])
    func append(_ it: SolverIteration) { items.withLock { $0.append(it) } }
    var all: [SolverIteration] { items.withLock { $0 } }
    var count: Int { items.withLock { $0.count } }
}

/// A control that cancels itself once `after` iterations have been reported.
func cancellingControl(after n: Int, log: IterationLog) -> SolverControl {
    let flag = StopFlag()
    return SolverControl(isCancelled: { flag.isSet }, onIteration: { it in
        log.append(it)
        if log.count >= n { flag.set() }
    })
}

/// A random feasible sparse LP (rows ≤ b with b chosen so a random x₀ ∈ [0,1]ⁿ is feasible),
/// large enough that dual simplex runs for seconds.
func randomLP(rows: Int, columns: Int, perColumn: Int, seed: UInt64) -> LPProblem {
    var rng = SplitMix(seed: seed)
    var b = LPProblem.Builder()
    var x0 = [Double]()
    for _ in 0..<columns { b.addColumn(cost: rng.uniform() * 2 - 1, lower: 0, upper: 10); x0.append(rng.uniform()) }
    var rowsEntries = [[(column: Int, value: Double)]](repeating: [], count: rows)
    for j in 0..<columns {
        for _ in 0..<perColumn { rowsEntries[Int(rng.next() % UInt64(rows))].append((j, rng.uniform() * 2 - 1)) }
    }
    for r in 0..<rows {
        let act = rowsEntries[r].reduce(0) { $0 + $1.value * x0[$1.column] }
        b.addRow(rowsEntries[r], .lessEqual, act + rng.uniform())
    }
    return b.build()
}

struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
    mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

/// max x + y s.t. x + 2y ≤ 4, 3x + y ≤ 6: optimum 2.8 at (1.6, 1.2).
func smallMaximization() -> LPProblem {
    var b = LPProblem.Builder()
    let x = b.addColumn(cost: 1), y = b.addColumn(cost: 1)
    b.addRow([(x, 1), (y, 2)], .lessEqual, 4)
    b.addRow([(x, 3), (y, 1)], .lessEqual, 6)
    b.maximize = true
    return b.build()
}

/// 2 ≤ z ≤ 1: primal infeasible.
func infeasibleLP() -> LPProblem {
    var b = LPProblem.Builder()
    let z = b.addColumn(cost: 1)
    b.addRow([(z, 1)], .greaterEqual, 2)
    b.addRow([(z, 1)], .lessEqual, 1)
    return b.build()
}
