import Foundation
import LipscopeLinearAlgebra

/// Adam (Kingma & Ba) over a list of parameter matrices, with the usual bias correction.
struct Adam {
    var learningRate: Double
    let beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8
    private var first: [[Double]] = []
    private var second: [[Double]] = []
    private var steps = 0

    init(learningRate: Double) { self.learningRate = learningRate }

    mutating func step(_ parameters: inout [Matrix], _ gradients: [Matrix]) {
        precondition(parameters.count == gradients.count)
        if first.isEmpty {
            first = parameters.map { [Double](repeating: 0, count: $0.storage.count) }
            second = first
        }
        steps += 1
        let c1 = 1 - pow(beta1, Double(steps)), c2 = 1 - pow(beta2, Double(steps))
        let rate = learningRate * c2.squareRoot() / c1
        let epsilonHat = epsilon * c2.squareRoot()
        for t in parameters.indices {
            let g = gradients[t].storage
            parameters[t].storage.withUnsafeMutableBufferPointer { p in
                first[t].withUnsafeMutableBufferPointer { m in
                    second[t].withUnsafeMutableBufferPointer { v in
                        for i in 0..<p.count {
                            m[i] = beta1 * m[i] + (1 - beta1) * g[i]
                            v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
                            p[i] -= rate * m[i] / (v[i].squareRoot() + epsilonHat)
                        }
                    }
                }
            }
        }
    }
}
