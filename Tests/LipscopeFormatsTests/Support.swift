import Foundation
import LipscopeEngine
import LipscopeLinearAlgebra
import LipscopeTestSupport

/// The network files of Tests/Fixtures/networks (copies of ../shared files, plus generated ones
/// made by generate.py there), so these tests pass without ../shared.
enum Files {
    static let root = Fixtures.root.appendingPathComponent("networks")

    static func path(_ relative: String) -> String { Fixtures.path("networks/\(relative)") }
    static func load(_ relative: String) throws -> Network { try Fixtures.load("networks/\(relative)") }
    static func bytes(_ relative: String) -> [UInt8] { [UInt8](FileManager.default.contents(atPath: path(relative))!) }
    static func json(_ relative: String) -> Any {
        try! JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path(relative))))
    }

    /// ../shared/data/networks when present (the acceptance sweep over every shared file).
    static let shared: String? = {
        let candidates = [Fixtures.repository.appendingPathComponent("../shared/data/networks").standardized.path,
                          "/work/shared/data/networks"]
        return candidates.first { FileManager.default.fileExists(atPath: $0) }
    }()
}

enum Run {
    static func bound(_ network: Network, _ method: String, norm: Norm = .l2, output: Int? = nil) -> BoundResult {
        let m = MethodRegistry.method(named: method)!
        return Job.run(m, BoundRequest(network: network, norm: norm, output: output, seed: 1))
    }
}

func feedforward(_ n: Network) -> FeedforwardNetwork {
    guard case .feedforward(let f) = n else { fatalError("expected a feedforward network") }
    return f
}

func implicit(_ n: Network) -> ImplicitNetwork {
    guard case .implicit(let f) = n else { fatalError("expected an implicit network") }
    return f
}

func relativeGap(_ a: [Double], _ b: [Double]) -> Double {
    precondition(a.count == b.count)
    let scale = max(1, b.map(abs).max() ?? 0)
    return zip(a, b).map { abs($0 - $1) }.max()! / scale
}

/// Loading must either succeed or throw InputError; anything else fails the test.
func loadOrInputError(_ path: String) -> Result<Network, InputError>? {
    do { return .success(try NetworkLoader.load(path: path)) }
    catch let e as InputError { return .failure(e) }
    catch { return nil }
}
