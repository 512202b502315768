@testable import FinchModel
import FinchTensor
import Foundation
import Testing

/// SmolLM2's tensors dequantised by Finch against the `gguf` package's dequantize
/// (Fixtures/smollm2_tensors.json: shape, sum, sum of squares, first and last values).
@Suite struct DequantizeTests {
    @Test func tensorsMatchTheGGUFPackage() throws {
        let file = try GGUFFile(path: ModelStore.smolLM2Path)
        let data = try Data(contentsOf: SmolLM2TokenizerTests.fixtures.appendingPathComponent("smollm2_tensors.json"))
        let expected = try JSONSerialization.jsonObject(with: data) as! [String: [String: Any]]
        #expect(expected.count == 5)
        for (name, e) in expected {
            let t = try file.tensor(named: name)
            #expect(t.shape == (e["shape"] as! [Int]), "\(name) (\(e["type"]!)) shape")
            let values = t.scalars
            let sum = values.reduce(0.0) { $0 + Double($1) }, sumsq = values.reduce(0.0) { $0 + Double($1) * Double($1) }
            let refSum = e["sum"] as! Double, refSq = e["sumsq"] as! Double
            #expect(abs(sum - refSum) <= 1e-6 * max(1, abs(refSq)), "\(name) sum \(sum) vs \(refSum)")
            #expect(abs(sumsq - refSq) <= 1e-6 * refSq, "\(name) sum of squares \(sumsq) vs \(refSq)")
            // Float32 values written as decimals: equal to well within a float's precision
            // (Foundation's JSON parser can be off in the last bits of a Double).
            for (got, want) in zip(values.prefix(8), e["first"] as! [Double]) {
                #expect(abs(Double(got) - want) <= 1e-7 * max(1e-3, abs(want)), "\(name) first values: \(got) vs \(want)")
            }
            let last = e["last"] as! Double
            #expect(abs(Double(values.last!) - last) <= 1e-7 * max(1e-3, abs(last)), "\(name) last value")
        }
        #expect(throws: GGUFError.self) { try file.tensor(named: "no.such.tensor") }
    }
}

/// Random blocks of every type Finch reads, against the `gguf` package's dequantize
/// (scripts/reference/quant_fixtures.py).
@Suite struct QuantBlockTests {
    @Test(arguments: ["Q4_0", "Q4_1", "Q8_0", "Q4_K", "Q6_K", "BF16", "F16"])
    func blocksMatchTheGGUFPackage(_ name: String) throws {
        let data = try Data(contentsOf: SmolLM2TokenizerTests.fixtures.appendingPathComponent("quant_blocks.json"))
        let all = try JSONSerialization.jsonObject(with: data) as! [String: [String: Any]]
        let entry = try #require(all[name])
        let hex = entry["hex"] as! String
        var bytes: [UInt8] = []
        var i = hex.startIndex
        while i < hex.endIndex { let j = hex.index(i, offsetBy: 2); bytes.append(UInt8(hex[i..<j], radix: 16)!); i = j }
        let want = entry["values"] as! [Double]
        let type = try #require(GGUFType.allCases.first { $0.name == name })
        var got = [Float](repeating: .nan, count: want.count)
        bytes.withUnsafeBytes { raw in
            got.withUnsafeMutableBufferPointer { out in
                for b in 0..<(want.count / type.blockElements) {
                    Dequantize.block(type, raw.baseAddress! + b * type.blockBytes, out.baseAddress! + b * type.blockElements)
                }
            }
        }
        #expect(bytes.count == type.byteCount(elements: want.count))
        for (k, (g, w)) in zip(got, want).enumerated() where abs(Double(g) - w) > 1e-6 * max(1, abs(w)) {
            Issue.record("\(name) value \(k): \(g), expected \(w)")
            break
        }
    }
}
