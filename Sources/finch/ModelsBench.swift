import FinchModel
import FinchTensor
import FinchTrain
import Foundation

/// models: every family at one size — SmolLM2-135M's widths (dim 576, 9 heads, 3 key/value heads
/// where the family groups them, MLP 1536, vocabulary 49152) with 8 layers, random weights — so
/// the families compare with each other and with llama, which is SmolLM2's own block; each with
/// its own options (sliding windows, soft caps, partial rotary, ...). For each:
/// loading from a Hugging Face folder and from GGUF (written by Finch first), prefill of 256
/// tokens, decoding 32 tokens (Q8_0 weights, the default), and LoRA training on the family's
/// default targets at 2 × 128 tokens. The families run one after another, each on the same text.
enum ModelsBench {
    static func run(_ out: BenchReporter, _ options: BenchOptions) throws {
        let text = try TokenizerBench.machineText(limit: 64 << 10)
        let smol = try LanguageModel(gguf: ModelStore.resolve("smollm2-135m"))
        let ids = smol.tokenizer!.encode(text, addSpecial: false)
        guard ids.count >= 512 else { throw BenchError("the benchmark text gave only \(ids.count) tokens") }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("finch-bench-models-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        for family in Architectures.all {
            let name = family.name
            // Each family's own options on, as its released models have them (windows of 128, shorter than the prompt).
            let gemma = name.hasPrefix("gemma")
            let config = ModelConfig(architecture: name, vocab: 49152, dim: 576, layers: 8, heads: 9,
                                     kvHeads: family.groupedQueryAttention ? 3 : 9, ffn: 1536, context: 2048,
                                     headDim: name == "qwen3" ? 64 : nil, rotaryDim: name == "gpt_neox" ? 16 : nil,
                                     slidingWindow: ["mistral", "phi3"].contains(name) || gemma ? 128 : nil,
                                     slidingLayers: gemma ? (0..<8).map { ($0 + 1) % (name == "gemma2" ? 2 : 6) != 0 } : nil,
                                     localRopeTheta: name == "gemma3_text" ? 10000 : nil, queryScale: gemma ? 64 : nil,
                                     attentionSoftcap: name == "gemma2" ? 50 : nil, finalSoftcap: name == "gemma2" ? 30 : nil)
            var model = try LanguageModel.random(config, seed: 1, tokenizer: smol.tokenizer)
            try model.save(directory: scratch + "/hf")
            try model.saveGGUF(path: scratch + "/m.gguf")
            let loads = try BenchTiming.interleaved([
                { model = try LanguageModel.load(scratch + "/hf") },
                { model = try LanguageModel.load(scratch + "/m.gguf") },
            ], seconds: 0, minRounds: 3)
            try FileManager.default.removeItem(atPath: scratch)
            out.report("models.\(name).load_hf_s", loads[0], digits: 3)
            out.report("models.\(name).load_gguf_s", loads[1], digits: 3)

            let prompt = try Tensor(ids.prefix(256).map(Float.init), shape: [1, 256])
            var generation = GenerationOptions()
            generation.maxTokens = 32
            var decodeTPS: [Double] = []
            let inference = try BenchTiming.interleaved([
                { _ = try GradMode.noGrad { try model.forward(prompt, cache: KVCache(), lastOnly: true) } },
                { decodeTPS.append(try model.generate(ids: Array(ids.prefix(16)), options: generation).decodeTokensPerSecond) },
            ], seconds: options.seconds * 2, minRounds: 3)
            out.report("models.\(name).prefill_tps", 256 / inference[0], digits: 1)
            out.report("models.\(name).decode_tps", BenchTiming.median(decodeTPS), digits: 1)

            try model.addLoRA(rank: 8, alpha: 16)
            var trainOptions = TrainOptions()
            trainOptions.steps = Int.max; trainOptions.batch = 2; trainOptions.lr = 1e-4
            let data = try TrainBench.windows(ids, length: 128, count: 4, padId: 0)
            let trainer = try Trainer(model: model, data: data, options: trainOptions)
            let step = try BenchTiming.interleaved([{ _ = try trainer.step() }], seconds: options.seconds * 2, minRounds: 3)[0]
            out.report("models.\(name).lora_train_tps", 256 / step, digits: 1)
        }
    }
}
