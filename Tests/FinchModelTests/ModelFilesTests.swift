import FinchModel
import FinchTensor
import FinchText
import Foundation
import Testing

/// Saving and loading models: Hugging Face directories (config.json + safetensors) and GGUF,
/// round trips that must keep the logits, and the rotary layout conversion both ways.
@Suite struct ModelFilesTests {
    static func tempDir(_ name: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("finch-model-\(name)-\(UUID().uuidString)").path
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static func tinyTokenizer() throws -> Tokenizer {
        try BPETrainer.train(texts: Array(repeating: "the cat sat on the mat, the dog ate the cat's food", count: 20), vocabSize: 280, special: ["<|end|>"])
    }

    static func logits(_ m: LanguageModel, _ ids: [Float]) throws -> [Float] {
        try GradMode.noGrad { try m.forward(Tensor(ids, shape: [1, ids.count])).scalars }
    }

    static func maxDiff(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).map { abs($0 - $1) }.max() ?? .infinity }

    @Test(arguments: ["llama", "qwen2"])
    func tinyModelRoundTrips(_ architecture: String) throws {
        let config = ModelConfig(architecture: architecture, vocab: 280, dim: 64, layers: 2, heads: 4, kvHeads: 2, ffn: 96, context: 64,
                                 ropeTheta: 500, tiedEmbeddings: architecture == "llama")
        let m = try LanguageModel.random(config, seed: 5, tokenizer: Self.tinyTokenizer())
        // Biases start at zero; give them values so a lost or misplaced bias shows.
        var rng = RNG(seed: 77)
        for p in m.parameters where p.name.hasSuffix(".bias") { try p.tensor.assign(Tensor.normal(p.tensor.shape, std: 0.5, rng: &rng)) }
        let ids: [Float] = [5, 17, 200, 3, 99, 42, 7]
        let reference = try Self.logits(m, ids)
        let dir = try Self.tempDir(architecture)
        defer { try? FileManager.default.removeItem(atPath: dir) }

        try m.save(directory: dir + "/hf")
        let hf = try LanguageModel.load(dir + "/hf")
        #expect(hf.config == m.config)
        #expect(try Self.logits(hf, ids) == reference, "safetensors round trip")
        #expect(hf.tokenizer?.encode("the cat") == m.tokenizer?.encode("the cat"))

        try hf.saveGGUF(path: dir + "/m.gguf")
        let gguf = try LanguageModel.load(dir + "/m.gguf")
        #expect(gguf.config == m.config)
        #expect(try Self.logits(gguf, ids) == reference, "safetensors -> GGUF round trip")
        #expect(gguf.tokenizer?.encode("the dog ate") == m.tokenizer?.encode("the dog ate"))

        // A GGUF file's missing folders are made, as a folder layout's are.
        try m.saveGGUF(path: dir + "/runs/new/m16.gguf", type: .f16)
        #expect(Self.maxDiff(try Self.logits(LanguageModel.load(dir + "/runs/new/m16.gguf"), ids), reference) < 1e-3, "F16")
        try m.saveGGUF(path: dir + "/m8.gguf", type: .q8_0)
        #expect(Self.maxDiff(try Self.logits(LanguageModel.load(dir + "/m8.gguf"), ids), reference) < 2e-2, "Q8_0")
        try m.save(directory: dir + "/hf16", dtype: "F16")
        #expect(Self.maxDiff(try Self.logits(LanguageModel.load(dir + "/hf16"), ids), reference) < 1e-3, "F16 safetensors")
    }

    @Test func unsupportedArchitecturesAreNamed() throws {
        let dir = try Self.tempDir("arch")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = #"{"model_type": "mamba", "vocab_size": 10, "hidden_size": 8, "intermediate_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2}"#
        try config.write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
        #expect(throws: ModelError.self) { try LanguageModel.load(dir) }
        do { _ = try LanguageModel.load(dir) } catch {
            #expect("\(error)".contains("model_type \"mamba\" is not supported (supported: llama, mistral, qwen2, qwen3, gemma2, gemma3_text, phi3, gpt_neox, gpt2)"))
        }
        #expect(throws: ModelError.self) { try LanguageModel.load(dir + "/missing") }
    }

    @Test func rotaryLayoutConversionsAreInverse() throws {
        let w = try Tensor.arange(0, 48).reshape([12, 4])
        let pairs = try RotaryLayout.halvesToPairs(w, heads: 2)
        // Head 0 has rows 0..5: halves order 0 1 2 | 3 4 5 becomes pairs order 0 3 1 4 2 5.
        #expect(try pairs.slice(axis: 0, start: 0, end: 6).select(axis: 1, 0).scalars == [0, 12, 4, 16, 8, 20])
        #expect(try RotaryLayout.pairsToHalves(pairs, heads: 2).scalars == w.scalars)
        #expect(throws: ModelError.self) { try RotaryLayout.pairsToHalves(w, heads: 5) }
    }

    @Test func smolLM2SurvivesGGUFToSafetensorsToGGUF() throws {
        let original = try LanguageModel(gguf: ModelStore.resolve("smollm2-135m"))
        let ids: [Float] = [504, 3575, 282, 4649, 314]
        let reference = try Self.logits(original, ids)
        let dir = try Self.tempDir("smollm2")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try original.save(directory: dir + "/hf")
        let hf = try LanguageModel.load(dir + "/hf")
        #expect(try Self.logits(hf, ids) == reference)
        try hf.saveGGUF(path: dir + "/back.gguf")
        let back = try LanguageModel.load(dir + "/back.gguf")
        #expect(try Self.logits(back, ids) == reference)
        #expect(back.tokenizer?.encode("Hello, world! 123") == original.tokenizer?.encode("Hello, world! 123"))
        #expect(back.tokenizer?.chatTemplate == original.tokenizer?.chatTemplate)
    }
}
