/// Floating-point safety for closed-form upper bounds: a value computed by n floating-point
/// operations (sums, SVD, products) is within (1 + c·n·ε) of the exact one, so inflating by
/// that factor turns a computed value into a proven upper bound on the exact one.
enum RoundingMargin {
    static let unit = Double.ulpOfOne

    /// Relative inflation for a quantity built from `operations` roundings of non-negative terms.
    static func factor(operations: Int) -> Double {
        1 + 4 * Double(max(operations, 1)) * unit
    }

    static func inflate(_ value: Double, operations: Int) -> Double {
        value * factor(operations: operations)
    }
}
