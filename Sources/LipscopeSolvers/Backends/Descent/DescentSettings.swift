/// Tunables of the quasi-Newton descent on ρ*(λ) (`RhoDescent`).
struct DescentSettings {
    /// The run stops when the best ρ* fell by less than this (relative) over `window` steps.
    var tolerance = 1e-7
    var window = 4
    /// Evaluations of ρ*(λ) (one Cholesky of the neuron block each) before the run stops.
    var maxEvaluations = 5000
    /// Trial steps of one line search (bisections and doublings) before it gives up.
    var lineSearchSteps = 40
    /// Weak Wolfe constants: sufficient decrease c₁ and curvature c₂ (Lewis & Overton 2013).
    var armijo = 1e-4
    var curvature = 0.9
    /// Largest first step in log λ (a factor e⁴ on a multiplier): the first direction is the bare gradient.
    var firstStep = 4.0
    /// BFGS phases in all, each from a fresh matrix (`RhoDescent.solve`); none follows a phase
    /// that ends with ‖∇ log ρ*‖∞ (over log λ) at most `stationarity`.
    var maxPhases = 20
    var stationarity = 1e-4
}
