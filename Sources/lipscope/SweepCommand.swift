import ArgumentParser
import Foundation
import LipscopeEngine

/// One hierarchy method over a range of degrees: bound and time per degree.
struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep", abstract: "Run a hierarchy method (lipopt-lp, lipopt-sdp) at several degrees.",
        discussion: "Example: lipscope sweep net.json --method lipopt-lp --degrees 2..4")

    @Argument(help: "Network file (.json, .nnet).")
    var network: String

    @Option(name: .long, help: "Method (one with a relaxation degree).")
    var method = MethodArgument(LiPoptLPBound())

    @Option(name: .long, help: "Degrees: A..B, a comma list, or one degree (default: the lowest admissible and the next two).")
    var degrees: String?

    @Option(name: .long, help: "Norm: 2 or inf.")
    var norm: Norm = .linf

    @OptionGroup var options: RunOptions

    static func parseDegrees(_ text: String) -> [Int]? {
        let t = text.replacingOccurrences(of: " ", with: "")
        if let r = t.range(of: "..") {
            guard let a = Int(t[..<r.lowerBound]), let b = Int(t[r.upperBound...]), a <= b, a >= 0 else { return nil }
            return Array(a...b)
        }
        let parts = t.split(separator: ",").map { Int($0) }
        guard !parts.isEmpty, parts.allSatisfy({ $0 != nil }) else { return nil }
        return parts.map { $0! }
    }

    func validate() throws {
        try options.check(for: [method.method])
        if let degrees, Self.parseDegrees(degrees) == nil {
            throw ValidationError("--degrees: expected A..B, a comma list or one integer, got '\(degrees)'")
        }
        if options.degree != nil { throw ValidationError("use --degrees with sweep, not --degree") }
    }

    func run() throws {
        let net = try NetworkLoader.load(path: network)
        let method = method.method
        guard let lowest = method.minimumDegree(for: net) else {
            throw ValidationError("\(method.id) has no relaxation degree on this network")
        }
        let list = degrees.flatMap(Self.parseDegrees) ?? Array(lowest...(lowest + 2))
        var results: [BoundResult] = []
        let makeRequest = try options.requests(for: net)
        for k in list {
            var request = makeRequest(net, norm)
            request.degree = k
            let progress = ProgressLine(label: "\(method.id) k=\(k)")
            let r = Job.run(method, request, sink: { progress.handle($0) })
            results.append(r)
            if !options.json { print(Self.row(r), terminator: "\n") }
        }
        if options.json {
            print(Display.json(results))
        }
        if results.contains(where: { $0.status == .failed }) { throw ExitCode(ExitStatus.solverFailure) }
    }

    static func number(_ r: BoundResult, _ key: String) -> String {
        if case .number(let x)? = r.details[key] { return x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : Presentation.number(x) }
        return "—"
    }

    static func seconds(_ r: BoundResult, _ key: String) -> String {
        if case .number(let x)? = r.details[key] { return Presentation.duration(x) }
        return "—"
    }

    /// One line per degree, printed as soon as it is known.
    static func row(_ r: BoundResult) -> String {
        let size = r.details["columns"] != nil
            ? "\(number(r, "rows"))×\(number(r, "columns")), \(number(r, "nonzeros")) nnz"
            : r.details["moments"] != nil ? "\(number(r, "moments")) moments, block \(number(r, "largest_block"))" : ""
        var line = "degree \(r.degree.map(String.init) ?? "?")  \(Presentation.status(r.status))  bound \(Presentation.number(r.value))"
        if let note = Presentation.certification(r) { line += " (\(note))" }
        line += "  time \(Presentation.duration(r.seconds)) (build \(seconds(r, "build_seconds")), solve \(seconds(r, "solve_seconds")))"
        if !size.isEmpty { line += "  \(size)" }
        if case .string(let reason)? = r.details["reason"] { line += "  — \(reason)" }
        return line
    }
}
