import LipscopeLinearAlgebra

extension Norm {
    /// The induced norm of a linear map in this norm: ‖J‖₂ (largest singular value) or
    /// ‖J‖∞ (largest absolute row sum, i.e. the max over outputs of ‖∇fᵢ‖₁).
    public func induced(_ j: Matrix) throws -> Double {
        switch self {
        case .l2: try LinearAlgebra.spectralNormSmallSide(j)
        case .linf: j.infinityNorm
        }
    }
}
