import Foundation
import LipscopeEngine
import Testing

/// Seeded mutation fuzzing of the binary parsers: every mutated input must either parse or
/// throw an `InputError` (no trap, no other error, no hang). 35,000 inputs per parser
/// (105,000 in all) from small seed files: truncations, bit flips, byte inserts and deletes,
/// overwrites with boundary values, and chunk duplications.
@Suite struct MutationFuzzTests {
    static func mutate(_ seed: [UInt8], _ rng: inout SeededGenerator) -> [UInt8] {
        var b = seed
        let rounds = 1 + rng.below(3)
        for _ in 0..<rounds {
            if b.isEmpty { b = [UInt8(truncatingIfNeeded: rng.next())]; continue }
            switch rng.below(7) {
            case 0: b.removeSubrange(rng.below(b.count)...)                        // truncate
            case 1, 2:                                                            // flip bits
                for _ in 0..<(1 + rng.below(4)) { b[rng.below(b.count)] ^= UInt8(1) << UInt8(rng.below(8)) }
            case 3:                                                               // insert bytes
                let at = rng.below(b.count + 1)
                b.insert(contentsOf: (0..<(1 + rng.below(8))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: at)
            case 4:                                                               // boundary values
                let values: [UInt8] = [0x00, 0xFF, 0x7F, 0x80, 0x01, 0xFE]
                b[rng.below(b.count)] = values[rng.below(values.count)]
            case 5:                                                               // delete bytes
                let at = rng.below(b.count)
                b.removeSubrange(at..<min(b.count, at + 1 + rng.below(16)))
            default:                                                              // duplicate a chunk
                let at = rng.below(b.count), length = min(b.count - at, 1 + rng.below(64))
                b.insert(contentsOf: b[at..<(at + length)], at: rng.below(b.count + 1))
            }
        }
        return b
    }

    /// Runs `count` mutations spread over the seeds; returns (parsed, refused).
    static func fuzz(_ seeds: [String], count: Int, seed: UInt64,
                     _ parse: ([UInt8], String) throws -> Network) -> (Int, Int, [String]) {
        var rng = SeededGenerator(seed: seed)
        let originals = seeds.map { Files.bytes($0) }
        var parsed = 0, refused = 0
        var problems: [String] = []
        for k in 0..<count {
            let s = k % originals.count
            let input = mutate(originals[s], &rng)
            do {
                _ = try parse(input, seeds[s])
                parsed += 1
            } catch let e as InputError {
                refused += 1
                if e.description.isEmpty { problems.append("empty message") }
            } catch {
                problems.append("\(seeds[s]) mutation \(k): \(type(of: error)) \(error)")
            }
        }
        return (parsed, refused, problems)
    }

    @Test func npz() {
        let seeds = ["npz/variants_f64_c.npz", "npz/variants_f32_fortran_deflated.npz", "npz/implicit_abcd.npz", "npz/variants_in_out.npz"]
        for s in seeds { #expect((try? NPZFormat.read(Files.bytes(s), file: s)) != nil) }
        let (parsed, refused, problems) = Self.fuzz(seeds, count: 35_000, seed: 11) { try NPZFormat.read($0, file: $1) }
        #expect(problems.isEmpty, "\(problems.prefix(5))")
        #expect(parsed + refused == 35_000 && refused > 1000)
    }

    @Test func mat() {
        let seeds = ["mat/tiny_weights_compressed.mat", "mat/tiny_weights.mat", "mat/tiny_glipsdp.mat"]
        for s in seeds { #expect((try? MATFormat.read(Files.bytes(s), file: s)) != nil) }
        let (parsed, refused, problems) = Self.fuzz(seeds, count: 35_000, seed: 12) { try MATFormat.read($0, file: $1) }
        #expect(problems.isEmpty, "\(problems.prefix(5))")
        #expect(parsed + refused == 35_000 && refused > 1000)
    }

    @Test func onnx() {
        let seeds = ["onnx/vnncomp21_test_small.onnx", "onnx/marabou_fc_2-2-3.onnx", "onnx/synthetic_layout.onnx",
                     "onnx/synthetic_conv_bn_pool.onnx", "onnx/synthetic_residual.onnx"]
        let (parsed, refused, problems) = Self.fuzz(seeds, count: 35_000, seed: 13) { try ONNXFormat.read($0, file: $1) }
        #expect(problems.isEmpty, "\(problems.prefix(5))")
        #expect(parsed + refused == 35_000 && refused > 1000)
    }
}

extension SeededGenerator {
    /// A draw in 0..<n (0 when n ≤ 0), for picking positions and cases.
    mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(next() % UInt64(n)) }
}
