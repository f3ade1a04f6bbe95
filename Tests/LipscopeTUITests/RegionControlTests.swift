import Foundation
import Testing
@testable import LipscopeEngine
@testable import LipscopeTUI
import LipscopeTestSupport
import LipscopeLinearAlgebra

/// The region control: a loaded center or VNN-LIB box goes, as options, to the runs of the
/// methods that take a region; the radius keys step it; g switches back to global.
@Suite struct RegionControlTests {
    static let methods: [any BoundMethod] = [NaiveBound(), LipSDPBound(.neuron), GlobalOnly()]

    static func startOptions(_ effects: [Effect]) -> [String: String]? {
        for e in effects { if case .start(_, _, let request) = e { return request.options } }
        return nil
    }

    @Test func ballAroundALoadedCenterGoesToMethodsThatTakeARegion() {
        var s = loadedState(methods: Self.methods)
        #expect(s.screenText.contains("region global"))
        // l opens the region browser; the runtime answers with the file's contents.
        let opened = s.press(.char("l"))
        #expect(opened.contains { if case .listDirectory(_, .region) = $0 { true } else { false } })
        s.send(.regionLoaded(path: "/work/x0.json", file: RegionFile(center: [0.5, -0.25])))
        #expect(s.screenText.contains("region ball r=0.03 around x0.json"))
        while s.selectedMethodID != "naive" { s.press(.down) }
        let options = Self.startOptions(s.press(.enter))
        #expect(options?["center"] == "0.5,-0.25" && options?["radius"] == "0.03")
        // The finished run's Compare row says its region.
        let run = try! #require(s.active)
        s.send(.job(run: run.id, .finished(BoundResult(method: "naive", norm: .l2, kind: .upper, value: 1, certified: true,
                                                        status: .optimal, iterations: 1))))
        #expect(s.screenText.contains("Naive product @r=0.03"), "\(s.screenText)")
        // } steps the radius up; g goes global: no region options.
        s.press(.char("}"))
        #expect(s.region.radius == 0.05)
        #expect(Self.startOptions(s.press(.enter))?["radius"] == "0.05")
        s.send(.job(run: s.active!.id, .finished(BoundResult(method: "naive", norm: .l2, kind: .upper, value: 1, certified: true,
                                                             status: .optimal, iterations: 1))))
        s.press(.char("g"))
        #expect(s.screenText.contains("region global"))
        #expect(Self.startOptions(s.press(.enter)) == [:])
    }

    @Test func methodsWithoutRegionOptionsStayGlobal() {
        var s = loadedState(methods: Self.methods)
        s.send(.regionLoaded(path: "/work/x0.json", file: RegionFile(center: [0.5, -0.25])))
        // A method without region options (global only): a loaded region must not reach its request.
        for _ in 0..<Self.methods.count where s.selectedMethodID != "global-only" { s.press(.down) }
        #expect(s.selectedMethodID == "global-only")
        let options = Self.startOptions(s.press(.enter))
        #expect(options != nil && options?["center"] == nil && options?["radius"] == nil)
    }

    @Test func vnnlibBoxIsUsedAsGivenUntilTheRadiusChanges() throws {
        let path = Fixtures.path("vnncomp2021/prop_7_0.03.vnnlib")
        let file = try RegionFile.load(path: path, inputSize: 784, outputSize: 10)
        let property = try VNNLIBFormat.load(path: path)
        #expect(file.box == property.region && file.label == property.label)
        #expect(zip(file.center, zip(property.region.lower, property.region.upper)).allSatisfy { $0 == ($1.0 + $1.1) / 2 })
        var region = RegionControl()
        region.file = file; region.usesBox = true; region.active = true
        let options = region.options(for: NaiveBound())
        #expect(options["lower"]?.split(separator: ",").count == 784 && options["upper"] != nil && options["center"] == nil)
        // The options describe exactly the property's box to the method that parses them.
        let identity = FeedforwardNetwork(name: "id", inputSize: 784,
                                          layers: [Layer(weight: Matrix.identity(784), activation: .identity)])
        let parsed = try NaiveBound().parseOptions(BoundRequest(network: .feedforward(identity), norm: .l2, options: options))
        #expect(try InputRegion.from(parsed, inputSize: 784) == property.region)
        // A property for other sizes is refused with the file named.
        #expect(throws: InputError.self) { try RegionFile.load(path: path, inputSize: 2, outputSize: 10) }
    }

    @Test func centerFilesAsJSONOrPlainNumbersAndTheirErrors() throws {
        let json = Fixtures.temporaryFile("center.json", "[0.25, -1, 3e-1]\n")
        #expect(try RegionFile.load(path: json, inputSize: 3, outputSize: 1).center == [0.25, -1, 0.3])
        let plain = Fixtures.temporaryFile("center.txt", "0.25 -1\n0.3\n")
        #expect(try RegionFile.load(path: plain, inputSize: 3, outputSize: 1).center == [0.25, -1, 0.3])
        do {
            _ = try RegionFile.load(path: json, inputSize: 2, outputSize: 1)
            Issue.record("a center of the wrong dimension was accepted")
        } catch let e as InputError {
            #expect(e.description == "\(json): expected 2 numbers (one per network input), found 3 numbers")
        }
        let bad = Fixtures.temporaryFile("bad.json", "[0.25, x]")
        do {
            _ = try RegionFile.load(path: bad, inputSize: 2, outputSize: 1)
            Issue.record("a non-number was accepted")
        } catch let e as InputError {
            #expect(e.description == "\(bad): entry 1: expected a finite number, found x")
        }
    }

    @Test func aNetworkOfAnotherInputSizeDropsTheRegion() {
        var s = loadedState(methods: Self.methods)
        s.send(.regionLoaded(path: "/work/x0.json", file: RegionFile(center: [0.5, -0.25])))
        s.send(.networkLoaded(path: "/work/m.json", network: multiOutputNetwork(), sha256: nil))
        #expect(s.region.file == nil && !s.region.active)
        #expect(s.press(.char("g")).isEmpty && s.message?.text.contains("no region loaded") == true)
    }

    @Test func radiusSteps() {
        #expect(RegionControl.step(0.03, up: true) == 0.05)
        #expect(RegionControl.step(0.03, up: false) == 0.02)
        #expect(RegionControl.step(0.04, up: false) == 0.03)
        #expect(RegionControl.step(1, up: true) == 1)
        #expect(RegionControl.step(0.0001, up: false) == 0.0001)
    }
}

/// An ℓ2 method declaring no options (every shipped ℓ2 method now takes a region).
struct GlobalOnly: BoundMethod {
    let id = "global-only"
    let label = "Global only"
    let kind = BoundKind.upper
    let norms: [Norm] = [.l2]
    func applicability(_ request: BoundRequest) -> Applicability { .applicable }
    func run(_ request: BoundRequest, context: JobContext) throws -> BoundResult {
        result(request, value: 1, certified: true)
    }
}
