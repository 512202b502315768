@testable import FinchModel
import FinchTensor
import Testing

/// Sampling and streaming on a tiny random model and on hand-made logits.
@Suite struct GenerationTests {
    func sample(_ logits: [Float], _ configure: (inout GenerationOptions) -> Void, draws: Int = 2000) -> [Int: Int] {
        var options = GenerationOptions()
        options.temperature = 1
        options.seed = 7
        configure(&options)
        var sampler = Sampler(options, prompt: [])
        var counts: [Int: Int] = [:]
        for _ in 0..<draws {
            var copy = logits
            let id = copy.withUnsafeMutableBufferPointer { sampler.next($0) }
            counts[id, default: 0] += 1
        }
        return counts
    }

    @Test func samplingFollowsTheDistribution() {
        // probabilities 0.5, 0.25, 0.125, 0.125
        let logits: [Float] = [3, 2.306853, 1.613706, 1.613706].map { $0 + 0 }
        let counts = sample(logits) { _ in }
        #expect(abs(Double(counts[0, default: 0]) / 2000 - 0.5) < 0.05)
        #expect(abs(Double(counts[1, default: 0]) / 2000 - 0.25) < 0.04)
    }

    @Test func topKAndTopPLimitTheCandidates() {
        let logits: [Float] = [3, 2.306853, 1.613706, 1.613706]
        #expect(Set(sample(logits) { $0.topK = 2 }.keys) == [0, 1])
        #expect(Set(sample(logits) { $0.topP = 0.45 }.keys) == [0])
        #expect(Set(sample(logits) { $0.topP = 0.7 }.keys) == [0, 1])
        #expect(Set(sample(logits) { $0.temperature = 0 }.keys) == [0])
    }

    @Test func repetitionPenaltyDividesPositiveAndMultipliesNegativeLogits() {
        var options = GenerationOptions()
        options.repetitionPenalty = 2
        var sampler = Sampler(options, prompt: [0, 2])
        var logits: [Float] = [3, 2, -1, -1.5]
        let id = logits.withUnsafeMutableBufferPointer { sampler.next($0) }
        #expect(logits == [1.5, 2, -2, -1.5] && id == 1)
    }

    @Test func sameSeedSameSample() throws {
        let m = try LanguageModel.random(ModelConfig(vocab: 50, dim: 16, layers: 2, heads: 4, kvHeads: 2, ffn: 32, context: 64), seed: 3)
        var options = GenerationOptions()
        options.temperature = 1
        options.seed = 42
        options.maxTokens = 20
        let a = try m.generate(ids: [1, 2, 3], options: options), b = try m.generate(ids: [1, 2, 3], options: options)
        #expect(a.ids == b.ids && a.ids.count == 20 && a.finishReason == .length)
        options.seed = 43
        #expect(try m.generate(ids: [1, 2, 3], options: options).ids != a.ids)
    }

    @Test func stopsWhenAskedAndAtTheContext() throws {
        let m = try LanguageModel.random(ModelConfig(vocab: 50, dim: 16, layers: 1, heads: 2, ffn: 32, context: 10), seed: 3)
        var options = GenerationOptions()
        options.maxTokens = 100
        var asked = 0
        let interrupted = try m.generate(ids: [1], options: options, shouldStop: { asked += 1; return asked > 3 })
        #expect(interrupted.finishReason == .interrupted && interrupted.ids.count == 3)
        let full = try m.generate(ids: [1, 2], options: options)
        #expect(full.finishReason == .context && full.ids.count == 8)
        #expect(throws: ModelError.self) { try m.generate(ids: Array(repeating: 1, count: 10), options: options) }
        #expect(throws: ModelError.self) { try m.generate(ids: [50], options: options) }
        options.topP = 0
        #expect(throws: ModelError.self) { try m.generate(ids: [1], options: options) }
    }

    @Test func streamingHoldsBackPartialCharactersAndStopStrings() {
        var s = StreamingText(stop: ["###", "END"])
        var out = ""
        let chunks: [[UInt8]] = [Array(Array("Hé".utf8).dropLast(1)), [0xA9], Array(" #".utf8), Array("#x".utf8), Array(" E".utf8), Array("N".utf8), Array("D tail".utf8)]
        for chunk in chunks { out += s.append(chunk) }
        out += s.flush()
        #expect(out == "Hé ##x " && s.text == "Hé ##x " && s.stopAt == 8)
        var plain = StreamingText(stop: [])
        let euro = Array("€".utf8)
        #expect(plain.append([euro[0]]) == "")
        #expect(plain.append(Array(euro[1...])) == "€")
    }
}

/// The Q8_0 copy a linear layer keeps for decoding follows its weight.
@Suite struct QuantizedLinearTests {
    @Test func requantisesWhenTheWeightChanges() throws {
        var rng = RNG(seed: 4)
        let layer = Linear(weight: try Tensor.normal([64, 32], rng: &rng))
        let x = try Tensor.normal([1, 32], rng: &rng)
        let first = try layer.quantized()
        #expect(try layer.quantized() === first, "an unchanged weight keeps its copy")
        try layer.weight.assign(layer.weight.multiplying(.scalar(2)))
        let second = try layer.quantized()
        #expect(second !== first)
        let expected = try x.matmul(layer.weight.transpose()).scalars
        // Q8_0 moves each weight and each x by at most half a step (max / 254 per block of 32).
        let xs = x.scalars.map(abs), ws = try layer.weight.scalars.map(abs)
        let bound = (xs.reduce(0, +) * ws.max()! + 32 * ws.max()! * xs.max()!) / 254 * 1.01
        for (a, b) in zip(try layer.quantizedCall(x).scalars, expected) { #expect(abs(a - b) <= bound) }
        layer.stored = .dense(try Tensor.zeros([64, 32]))
        #expect(try layer.quantizedCall(x).scalars.allSatisfy { $0 == 0 }, "a replaced weight is quantised afresh")
        let odd = Linear(weight: try Tensor.normal([8, 30], rng: &rng))
        let y = try odd.quantizedCall(try Tensor.ones([1, 30]))
        #expect(y.scalars == (try odd(try Tensor.ones([1, 30]))).scalars, "rows that are not whole blocks stay in float32")
    }
}
