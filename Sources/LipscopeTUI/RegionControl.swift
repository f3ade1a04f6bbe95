import Foundation
import LipscopeEngine

/// The workbench's input region: global (all of Rⁿ), or a region loaded from a file — the ℓ∞
/// ball of `radius` around a center, or a VNN-LIB property's own box until the radius is
/// changed. Runs of methods that take a region (they declare `center`/`radius`) get it as
/// options, so the session log records it with the run; other methods stay global and their
/// rows say so.
public struct RegionControl: Sendable, Equatable {
    /// What was loaded (nil: nothing yet, only global is possible).
    public var file: RegionFile?
    /// The file's name, for the settings line.
    public var source: String?
    /// The ball's radius (ignored while the VNN-LIB box is used).
    public var radius: Double = 0.03
    /// Use the VNN-LIB box as given (true right after loading a property).
    public var usesBox = false
    /// Whether runs are local (a region is loaded and switched on).
    public var active = false
    /// The class `v` certifies: the VNN-LIB property's label, or the one chosen with `L`.
    public var label: Int?

    public init() {}

    /// The files the region browser lists: center points and VNN-LIB properties.
    public static let fileExtensions = ["vnnlib", "json", "txt", "csv"]

    /// The radii `{` and `}` step through.
    public static let radii: [Double] = [0.0001, 0.0003, 0.001, 0.002, 0.005, 0.01, 0.015, 0.02, 0.03, 0.05, 0.1, 0.2, 0.3, 0.5, 1]

    /// The next radius down or up from the current one.
    public static func step(_ r: Double, up: Bool) -> Double {
        if up { return radii.first { $0 > r * (1 + 1e-9) } ?? radii.last! }
        return radii.last { $0 < r * (1 - 1e-9) } ?? radii.first!
    }

    /// The region's options for a method that declares them; empty for global runs.
    public func options(for method: any BoundMethod) -> [String: String] {
        guard active, let file, method.option("center") != nil else { return [:] }
        func list(_ v: [Double]) -> String { v.map { "\($0)" }.joined(separator: ",") }
        if usesBox, let box = file.box {
            return ["lower": list(box.lower), "upper": list(box.upper)]
        }
        return ["center": list(file.center), "radius": "\(radius)"]
    }

    /// "global", "ball r=0.03 around x.json", "box of prop_2.vnnlib (r ≤ 0.03)".
    public var description: String {
        guard active, let file else { return "global" }
        let name = source ?? "the loaded point"
        if usesBox, let box = file.box { return "box of \(name) (r ≤ \(Format.number(box.radius)))" }
        return "ball r=\(Format.number(radius)) around \(name)"
    }

    /// The classes that must stay below `label`: the property's own when the label is its
    /// label, else every other output.
    public func others(outputs: Int) -> [Int] {
        guard let label else { return [] }
        if let file, file.label == label, let others = file.others { return others }
        return (0..<outputs).filter { $0 != label }
    }

    /// The region as the certifier takes it, and as the session log records it.
    public func certifyRegion() throws -> (region: InputRegion, record: CertifyRecord.Region)? {
        guard active, let file else { return nil }
        if usesBox, let box = file.box {
            return (box, CertifyRecord.Region(lower: box.lower, upper: box.upper, source: source))
        }
        return (try InputRegion(center: file.center, radius: radius),
                CertifyRecord.Region(center: file.center, radius: radius, source: source))
    }

    /// How a finished run's options describe its region (for the Compare rows).
    public static func tag(_ options: [String: String]) -> String? {
        if let r = options["radius"], options["center"] != nil { return "r=\(r)" }
        if options["lower"] != nil { return "box" }
        return nil
    }
}
