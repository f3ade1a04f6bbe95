import ArgumentParser
import Foundation
import LipscopeEngine

/// `lipscope certify`: is the label robust over an input box? From a VNN-LIB robustness property
/// or from a center, label and ℓ∞ radius. The verdict is `holds` only from certified bounds,
/// `violated` only with a counterexample a forward pass confirmed, else `unknown`.
struct CertifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certify",
        abstract: "Certify robustness of a label over an input box (VNN-LIB property or center/label/radius).",
        discussion: """
        Methods: bab (default; alpha-crown, then branch and bound on unstable ReLUs for the margins still not \
        positive, within --time-limit), alpha-crown (back-substitution lower bound of each margin f_c − f_j over the box with \
        the lower slopes of unstable ReLUs optimised by projected gradient, for the intermediate bounds too), crown (the same with the fixed CROWN slopes), interval (interval propagation only), \
        naive and relaxed-exact (m_j(x₀) − L_cj·r with the local ℓ∞ Lipschitz bound of f_c − f_j over the box). \
        The region's pre-activation bounds are computed once and shared by every class.

        Implicit (equilibrium) networks take their own methods: equilibrium (default; per class the better of \
        the next two), box (interval arithmetic over the proven fixed-point box of the region) and contraction \
        (m_j(x₀) − L_cj·r with the local contraction-weighted bound of f_c − f_j). Each needs a proof of \
        well-posedness (certified weighted contraction, else the global implicit-SDP certificate); without one \
        the verdict is unknown.
        """)

    @Argument(help: ArgumentHelp("Network file (\(NetworkLoader.extensions.map { "." + $0 }.joined(separator: ", "))).", valueName: "network"))
    var network: String

    @Option(name: .long, help: "A VNN-LIB robustness property (input box, output disjunction).")
    var vnnlib: String?

    @Option(name: .long, help: "Center of the ℓ∞ ball: comma-separated numbers, or a file of numbers.")
    var center: String?

    @Option(name: .long, help: "The class that must stay largest (with --center).")
    var label: Int?

    // Unconditional so a negative value reaches the check below (an input error) instead of the parser.
    @Option(name: .long, parsing: .unconditional, help: "ℓ∞ radius of the ball (with --center).")
    var radius: String?

    @Option(name: .long, help: "Feedforward nets: bab (default), alpha-crown, crown, interval, naive or relaxed-exact. Implicit nets: equilibrium (default), box or contraction.")
    var method: String?

    @Option(name: .long, help: "bab: seconds per property (branching stops there; the verdict is then unknown).")
    var timeLimit: Double = 6

    @Option(name: .long, help: "Projected-gradient steps of alpha-crown's slope search (per bounded layer).")
    var slopeIterations: Int = PreActivationBounds.SlopeSearch().iterations

    @Flag(name: .long, help: "Also find the largest radius the method certifies, by bisection (with --center).")
    var radiusSearch = false

    @Option(name: .long, help: "Seed of the attack's random starts.")
    var seed: UInt64 = 1

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func validate() throws {
        guard timeLimit.isFinite, timeLimit >= 0 else { throw ValidationError("--time-limit: expected a number of seconds ≥ 0, found \(timeLimit)") }
        guard slopeIterations >= 1 else { throw ValidationError("--slope-iterations: expected an integer ≥ 1, found \(slopeIterations)") }
        if let method, Certifier.Method(rawValue: method) == nil, ImplicitCertifier.Method(rawValue: method) == nil {
            throw ValidationError("--method: expected one of \(Self.feedforwardMethods) (feedforward nets) or \(Self.implicitMethods) (implicit nets), found '\(method)'")
        }
        switch (vnnlib, center) {
        case (.some, nil):
            if label != nil || radius != nil { throw ValidationError("--label and --radius go with --center, not --vnnlib") }
            if radiusSearch { throw ValidationError("--radius-search goes with --center") }
        case (nil, .some):
            if label == nil || radius == nil { throw ValidationError("--center needs --label and --radius") }
        default:
            throw ValidationError("give either --vnnlib FILE or --center with --label and --radius")
        }
    }

    static let feedforwardMethods = Certifier.Method.allCases.map(\.rawValue).joined(separator: ", ")
    static let implicitMethods = ImplicitCertifier.Method.allCases.map(\.rawValue).joined(separator: ", ")

    /// The region, label and other classes, from --vnnlib or --center/--label/--radius, checked
    /// against the network's sizes; the center when a radius search may follow.
    func property(inputs: Int, outputs: Int) throws -> (region: InputRegion, label: Int, others: [Int], center: [Double]?) {
        if let vnnlib {
            let property = try VNNLIBFormat.load(path: vnnlib)
            guard property.region.dimension == inputs else {
                throw InputError(file: vnnlib, location: "declare-const X_i", expected: "\(inputs) inputs (the network's)",
                                 found: "\(property.region.dimension)")
            }
            guard property.outputCount == outputs else {
                throw InputError(file: vnnlib, location: "declare-const Y_j", expected: "\(outputs) outputs (the network's)",
                                 found: "\(property.outputCount)")
            }
            return (property.region, property.label, property.others, nil)
        }
        let x0 = try Self.numbers(center!, count: inputs)
        guard let r = Double(radius!), r.isFinite, r >= 0 else {
            throw InputError(file: "--radius", expected: "a finite number ≥ 0", found: radius!)
        }
        guard let c = label, (0..<outputs).contains(c) else {
            throw InputError(file: "--label", expected: "a class in 0..<\(outputs)", found: "\(label!)")
        }
        return (try InputRegion(center: x0, radius: r), c, (0..<outputs).filter { $0 != c }, x0)
    }

    func run() throws {
        let loaded = try NetworkLoader.load(path: network)
        if case .implicit(let net) = loaded { return try runImplicit(net) }
        guard let net = loaded.layerChain else {
            throw InputError(file: network, expected: "a feedforward network (a chain of layers) or an implicit network",
                             found: "a graph with skip connections or branches (certify's region bounds work layer by layer or on the equilibrium form, not on graphs yet)")
        }
        let method = try Self.choose(method, Certifier.Method.self, default: .standard, kind: "a feedforward network",
                                     accepted: Self.feedforwardMethods, other: Self.implicitMethods, otherKind: "implicit")
        let found = try property(inputs: net.inputSize, outputs: net.outputSize)
        let problem = Certifier.Problem(network: net, region: found.region, label: found.label, others: found.others)
        let searchCenter = found.center
        let search = PreActivationBounds.SlopeSearch(iterations: slopeIterations)
        let outcome = try Certifier.certify(problem, method: method, seed: seed, search: search, timeLimit: timeLimit)
        var certifiedRadius: Double?
        if radiusSearch, let x0 = searchCenter {
            certifiedRadius = try Certifier.largestCertifiedRadius(network: net, center: x0, label: problem.label,
                                                                   others: problem.others, method: method,
                                                                   start: max(outcome.radius, 1e-3), search: search,
                                                                   timeLimit: timeLimit)
        }
        if json {
            print(Self.json(outcome, problem: problem, certifiedRadius: certifiedRadius))
        } else {
            print(Self.describe(outcome, problem: problem, certifiedRadius: certifiedRadius))
        }
    }

    /// The --method value for this kind of network; a method of the other kind is an input error
    /// naming --method and the accepted values.
    static func choose<M: RawRepresentable>(_ word: String?, _ type: M.Type, default standard: M, kind: String, accepted: String,
                                            other: String, otherKind: String) throws -> M where M.RawValue == String {
        guard let word else { return standard }
        guard let m = M(rawValue: word) else {
            throw InputError(file: "--method", expected: "one of \(accepted) for \(kind)",
                             found: "'\(word)' (a method for \(otherKind) networks, which take \(other))")
        }
        return m
    }

    func runImplicit(_ net: ImplicitNetwork) throws {
        let method = try Self.choose(method, ImplicitCertifier.Method.self, default: .standard, kind: "an implicit network",
                                     accepted: Self.implicitMethods, other: Self.feedforwardMethods, otherKind: "feedforward")
        let found = try property(inputs: net.inputSize, outputs: net.outputSize)
        let problem = ImplicitCertifier.Problem(network: net, region: found.region, label: found.label, others: found.others)
        let outcome = try ImplicitCertifier.certify(problem, method: method, seed: seed)
        var certifiedRadius: Double?
        if radiusSearch, let x0 = found.center {
            certifiedRadius = try ImplicitCertifier.largestCertifiedRadius(network: net, center: x0, label: problem.label, others: problem.others,
                                                                           method: method, start: max(outcome.radius, 1e-3))
        }
        print(json ? Self.json(outcome, problem: problem, certifiedRadius: certifiedRadius)
                   : Self.describe(outcome, problem: problem, certifiedRadius: certifiedRadius))
    }

    static func json(_ o: ImplicitCertifier.Outcome, problem: ImplicitCertifier.Problem, certifiedRadius: Double?) -> String {
        func num(_ x: Double) -> Any { x.isFinite ? x : NSNull() }
        var object: [String: Any] = [
            "verdict": o.verdict.rawValue, "method": o.method.rawValue, "radius": o.radius, "network_kind": "implicit",
            "label": problem.label, "others": problem.others,
            "margins": o.margins.map(num), "bounds": o.bounds.map(num), "lower_margins": o.lowerMargins.map(num),
            "box_lower_margins": o.boxMargins.map(num), "lipschitz_lower_margins": o.lipschitzMargins.map(num),
            "sources": o.sources, "unstable_neurons": o.unstableNeurons, "seconds": o.seconds, "certificate": o.method.certificate,
        ]
        if let proof = o.wellPosedBy { object["well_posed_by"] = proof }
        if let width = o.fixedPointBoxWidth { object["fixed_point_box_width"] = width }
        return finish(object, note: o.note, certifiedRadius: certifiedRadius, counterexample: o.counterexample)
    }

    static func describe(_ o: ImplicitCertifier.Outcome, problem: ImplicitCertifier.Problem, certifiedRadius: Double?) -> String {
        var lines = ["certify (\(o.method.rawValue), implicit network): \(o.verdict.rawValue)",
                     "  label \(problem.label), ℓ∞ radius \(o.radius), \(o.unstableNeurons) unstable neurons, \(String(format: "%.3f", o.seconds)) s"]
        if let proof = o.wellPosedBy { lines.append("  well-posed: \(proof)") }
        for (k, j) in problem.others.enumerated() {
            let bound = o.method.usesLipschitz ? ", L \(o.bounds[k])" : ""
            lines.append("  f_\(problem.label) − f_\(j): at center ≥ \(o.margins[k])\(bound), over the box ≥ \(o.lowerMargins[k]) (\(o.sources[k]))")
        }
        if let r = certifiedRadius { lines.append("  largest certified radius: \(r)") }
        if let note = o.note { lines.append("  note: \(note)") }
        if let ce = o.counterexample {
            lines.append("  counterexample: class \(ce.winner) reaches \(ce.outputs[ce.winner]) ≥ \(ce.outputs[problem.label]) (tight forward pass and proven fixed-point enclosure checked)")
        }
        return lines.joined(separator: "\n")
    }

    /// Comma-separated numbers, or the path of a file holding them (commas or whitespace).
    static func numbers(_ argument: String, count: Int) throws -> [Double] {
        var text = argument, source = "--center"
        if FileManager.default.fileExists(atPath: argument) {
            guard let data = FileManager.default.contents(atPath: argument), let s = String(data: data, encoding: .utf8) else {
                throw InputError(file: argument, expected: "a text file of numbers", found: "unreadable or not UTF-8")
            }
            text = s; source = argument
        }
        let words = text.split(whereSeparator: { $0 == "," || $0.isWhitespace })
        var values: [Double] = []
        for (i, w) in words.enumerated() {
            guard let v = Double(w), v.isFinite else {
                throw InputError(file: source, location: "entry \(i)", expected: "a finite number", found: String(w))
            }
            values.append(v)
        }
        guard values.count == count else {
            throw InputError(file: source, expected: "\(count) numbers (one per network input)", found: "\(values.count) numbers")
        }
        return values
    }

    /// The fields both kinds of certifier share at the end of the JSON object, then the text.
    static func finish(_ object: [String: Any], note: String?, certifiedRadius: Double?,
                       counterexample: Certifier.Counterexample?) -> String {
        var object = object
        if let note { object["note"] = note }
        if let r = certifiedRadius { object["certified_radius"] = r }
        if let ce = counterexample {
            object["counterexample"] = ["input": ce.input, "outputs": ce.outputs, "class": ce.winner] as [String: Any]
        }
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    static func json(_ o: Certifier.Outcome, problem: Certifier.Problem, certifiedRadius: Double?) -> String {
        func num(_ x: Double) -> Any { x.isFinite ? x : NSNull() }
        var object: [String: Any] = [
            "verdict": o.verdict.rawValue, "method": o.method.rawValue, "radius": o.radius,
            "label": problem.label, "others": problem.others,
            "margins": o.margins.map(num), "bounds": o.bounds.map(num), "lower_margins": o.lowerMargins.map(num),
            "unstable_neurons": o.unstableNeurons, "seconds": o.seconds, "certificate": o.method.certificate,
        ]
        if o.method == .bab { object["domains"] = o.domains }
        return finish(object, note: o.note, certifiedRadius: certifiedRadius, counterexample: o.counterexample)
    }

    static func describe(_ o: Certifier.Outcome, problem: Certifier.Problem, certifiedRadius: Double?) -> String {
        var lines = ["certify (\(o.method.rawValue)): \(o.verdict.rawValue)",
                     "  label \(problem.label), ℓ∞ radius \(o.radius), \(o.unstableNeurons) unstable neurons, \(String(format: "%.3f", o.seconds)) s"]
        for (k, j) in problem.others.enumerated() {
            let bound = o.method.usesLipschitz ? ", L \(o.bounds[k])" : ""
            lines.append("  f_\(problem.label) − f_\(j): at center ≥ \(o.margins[k])\(bound), over the box ≥ \(o.lowerMargins[k])")
        }
        if let r = certifiedRadius { lines.append("  largest certified radius: \(r)") }
        if let note = o.note { lines.append("  note: \(note)") }
        if let ce = o.counterexample {
            lines.append("  counterexample: class \(ce.winner) reaches \(ce.outputs[ce.winner]) ≥ \(ce.outputs[problem.label]) (forward pass checked)")
        }
        return lines.joined(separator: "\n")
    }
}
