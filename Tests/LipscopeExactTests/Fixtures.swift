import LipscopeTestSupport

extension Fixtures {
    /// The piecewise linear tiny nets of the reference suite.
    static let tinyNets = ["tiny_relu_1", "tiny_relu_2", "tiny_relu_3", "tiny_relu_4", "tiny_relu_5", "tiny_relu_6",
                           "tiny_relu_deep", "tiny_leaky"]
}
