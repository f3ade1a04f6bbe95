/// A box of inputs, lower ≤ x ≤ upper per coordinate: the ℓ∞ ball B∞(c, r) is the box
/// [c − r, c + r]. Local Lipschitz constants are taken over such a region; `nil` where a
/// method takes a region means all of Rⁿ (the global constant).
public struct InputRegion: Sendable, Equatable {
    public let lower: [Double]
    public let upper: [Double]

    /// A box; throws when the lists differ in length, hold a non-finite number or cross.
    public init(lower: [Double], upper: [Double]) throws(RegionError) {
        guard lower.count == upper.count else {
            throw RegionError("lower has \(lower.count) entries but upper has \(upper.count)")
        }
        for i in lower.indices {
            guard lower[i].isFinite, upper[i].isFinite else {
                throw RegionError("entry \(i) of the box is not finite (lower \(lower[i]), upper \(upper[i]))")
            }
            guard lower[i] <= upper[i] else {
                throw RegionError("entry \(i): lower \(lower[i]) is above upper \(upper[i])")
            }
        }
        self.lower = lower
        self.upper = upper
    }

    /// The ℓ∞ ball of `radius` around `center`.
    public init(center: [Double], radius: Double) throws(RegionError) {
        guard radius.isFinite, radius >= 0 else { throw RegionError("radius must be a finite number ≥ 0, found \(radius)") }
        try self.init(lower: center.map { $0 - radius }, upper: center.map { $0 + radius })
    }

    public var dimension: Int { lower.count }
    public var center: [Double] { zip(lower, upper).map { ($0 + $1) / 2 } }
    /// Half the widest side: the ℓ∞ radius of the smallest ball around `center` holding the box.
    public var radius: Double { zip(lower, upper).map { ($1 - $0) / 2 }.max() ?? 0 }

    public func contains(_ x: [Double]) -> Bool {
        x.count == dimension && x.indices.allSatisfy { lower[$0] <= x[$0] && x[$0] <= upper[$0] }
    }

    /// The nearest point of the box (coordinate-wise clamp).
    public func clamp(_ x: [Double]) -> [Double] {
        x.indices.map { min(max(x[$0], lower[$0]), upper[$0]) }
    }

    /// max and min of a·x + b over the box, exactly as far as floating point allows
    /// (the caller adds its own rounding margin).
    public func range(of a: [Double], plus b: Double) -> (low: Double, high: Double) {
        var low = b, high = b
        for j in a.indices where a[j] != 0 {
            let p = a[j] * lower[j], q = a[j] * upper[j]
            low += min(p, q); high += max(p, q)
        }
        return (low, high)
    }
}

/// A region description that does not make a box.
public struct RegionError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ message: String) { description = message }
}

extension InputRegion {
    /// The options a method taking a region declares: `center` + `radius` (an ℓ∞ ball) or
    /// `lower` + `upper` (a box); none of them means all of Rⁿ.
    public static let options: [MethodOption] = [
        MethodOption("center", .list, default: nil, help: "center of the ℓ∞ ball of inputs (comma-separated, one number per input); needs radius"),
        MethodOption("radius", .double(min: 0, max: nil, open: false), default: nil, help: "ℓ∞ radius of the ball around center"),
        MethodOption("lower", .list, default: nil, help: "lower corner of the input box (comma-separated, one number per input); needs upper"),
        MethodOption("upper", .list, default: nil, help: "upper corner of the input box; needs lower"),
    ]

    /// The region the parsed options describe, nil when none is set (the global constant).
    /// Errors name the option, what was expected and what was found.
    public static func from(_ options: ParsedOptions, inputSize n: Int) throws -> InputRegion? {
        func numbers(_ key: String) throws -> [Double]? {
            guard let words = options.list(key), options.isSet(key) else { return nil }
            var values: [Double] = []
            for w in words {
                guard let v = Double(w), v.isFinite else {
                    throw OptionError(method: options.method, key: key, expected: "\(n) finite numbers separated by commas", found: w)
                }
                values.append(v)
            }
            guard values.count == n else {
                throw OptionError(method: options.method, key: key, expected: "\(n) numbers (one per network input)",
                                  found: "\(values.count) numbers")
            }
            return values
        }
        let center = try numbers("center"), lower = try numbers("lower"), upper = try numbers("upper")
        let radius = options.isSet("radius") ? options.double("radius") : nil
        func wrap<T>(_ body: () throws(RegionError) -> T) throws -> T {
            do { return try body() } catch {
                throw OptionError(method: options.method, key: "lower/upper", expected: "a box", found: error.description)
            }
        }
        switch (center, radius, lower, upper) {
        case (nil, nil, nil, nil): return nil
        case let (c?, r?, nil, nil): return try wrap { () throws(RegionError) in try InputRegion(center: c, radius: r) }
        case let (nil, nil, l?, u?): return try wrap { () throws(RegionError) in try InputRegion(lower: l, upper: u) }
        default:
            let set = ["center", "radius", "lower", "upper"].filter { options.isSet($0) }.joined(separator: ", ")
            throw OptionError(method: options.method, key: "center/radius/lower/upper",
                              expected: "either center and radius, or lower and upper", found: set)
        }
    }
}
