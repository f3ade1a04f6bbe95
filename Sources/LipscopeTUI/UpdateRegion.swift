import Foundation
import LipscopeEngine

/// The region control's actions (bound in `Keymap`): load a center or a .vnnlib property,
/// switch between global and local runs, step the radius.
extension Update {
    static func openRegionBrowser(_ s: inout WorkbenchState) -> [Effect] {
        guard s.network != nil else { error(&s, "no network loaded — o opens one"); return [] }
        return openBrowser(&s, .region)
    }

    static func regionLoaded(_ s: inout WorkbenchState, _ path: String, _ file: RegionFile) {
        if case .browser = s.mode { s.mode = .main }
        s.region.file = file
        s.region.source = Path.name(path)
        s.region.usesBox = file.box != nil
        s.region.active = true
        s.region.label = file.label
        // The radius keys start from the largest step within the box.
        if let box = file.box { s.region.radius = RegionControl.step(box.radius * (1 + 1e-9), up: false) }
        let label = file.label.map { ", label \($0)" } ?? ""
        info(&s, "region: \(s.region.description)\(label) — g switches to global, { } change the radius")
    }

    static func toggleRegion(_ s: inout WorkbenchState) {
        guard s.region.file != nil else {
            error(&s, "no region loaded — l loads a center point (.json, .txt) or a .vnnlib property")
            return
        }
        s.region.active.toggle()
        info(&s, "region: \(s.region.description)")
    }

    static func stepRadius(_ s: inout WorkbenchState, up: Bool) {
        guard s.region.file != nil else {
            error(&s, "no region loaded — l loads a center point (.json, .txt) or a .vnnlib property")
            return
        }
        // From a VNN-LIB box, the first step makes it a ball around the box's center.
        if s.region.usesBox { s.region.usesBox = false } else { s.region.radius = RegionControl.step(s.region.radius, up: up) }
        s.region.active = true
        info(&s, "region: \(s.region.description)")
    }

    /// `L`: the label `v` certifies, through the outputs (a center point file carries none).
    static func cycleLabel(_ s: inout WorkbenchState) {
        guard let net = s.network else { error(&s, "no network loaded — o opens one"); return }
        guard s.region.file != nil else {
            error(&s, "no region loaded — l loads a center point (.json, .txt) or a .vnnlib property")
            return
        }
        let outputs = net.network.outputSize
        guard outputs > 1 else { error(&s, "\(net.summary.name) has one output: there is no other class to certify against"); return }
        s.region.label = s.region.label.map { ($0 + 1) % outputs } ?? 0
        info(&s, "label \(s.region.label!) — v certifies it over the region")
    }

    /// A region loaded for another network does not fit a network of another input size.
    static func keepRegion(_ s: inout WorkbenchState, inputSize: Int) {
        guard let file = s.region.file, file.center.count != inputSize else { return }
        s.region = RegionControl()
    }
}
