import CLapack

extension LinearAlgebra {
    /// Whether the symmetric band matrix given by its lower band is numerically positive
    /// definite: LAPACK dpbtrf runs to completion. Returns the factor L (same band storage) or nil. `band` is column-major LAPACK lower band
    /// storage, (bandwidth + 1) × n: band[(i − j) + j·(bandwidth + 1)] = A[i, j] for
    /// 0 ≤ i − j ≤ bandwidth. Costs n·bandwidth² instead of n³/3.
    public static func bandedCholesky(n: Int, bandwidth: Int, band: [Double]) -> [Double]? {
        precondition(band.count == (bandwidth + 1) * n)
        if n == 0 { return band }
        var work = band
        let info = LAPACKE_dpbtrf(LAPACK_COL_MAJOR, CChar(UInt8(ascii: "L")), Int32(n), Int32(bandwidth),
                                  &work, Int32(bandwidth + 1))
        return info == 0 ? work : nil
    }
}
