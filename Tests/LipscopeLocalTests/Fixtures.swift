import Foundation
import LipscopeEngine
import LipscopeTestSupport

extension Fixtures {
    /// A feedforward fixture net (the local-bound code is written for those).
    static func feedforward(_ relative: String) throws -> FeedforwardNetwork {
        guard case .feedforward(let net) = try load(relative) else { fatalError("\(relative) is not feedforward") }
        return net
    }
}
