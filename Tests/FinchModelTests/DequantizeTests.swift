import FinchModel
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
