import FinchModel
import FinchTensor
import FinchTrain
import Foundation

/// models: for SmolLM2-135M itself, for every family at SmolLM2's widths (dim 576, 9 heads, 3
/// key/value heads where the family groups them, MLP 1536, vocabulary 49152; 8 layers, random
/// weights, each family's own options on: windows, soft caps, partial rotary), and for every
/// family's tiny reference model (Tests/FinchModelTests/Fixtures/families): loading from a
/// Hugging Face folder and from GGUF (both written by Finch first), prefill, decoding (Q8_0
/// weights, the default) and LoRA training on the family's default targets, in tokens/s.
enum ModelsBench {
    /// The sizes of one case's measurements.
    struct Shape {
        let prompt: Int, decode: Int, batch: Int, length: Int
    }

    static func run(_ out: BenchReporter, _ options: BenchOptions) throws {
        let text = try TokenizerBench.machineText(limit: 64 << 10)
        let smol = try LanguageModel(gguf: ModelStore.resolve("smollm2-135m"))
        let ids = smol.tokenizer!.encode(text, addSpecial: false)
        guard ids.count >= 512 else { throw BenchError("the benchmark text gave only \(ids.count) tokens") }
        let wide = Shape(prompt: 256, decode: 32, batch: 2, length: 128)
        try measure(out, "smollm2", smol, ids: ids, shape: wide, seconds: options.seconds)
        for family in Architectures.all {
            try measure(out, family.name, LanguageModel.random(smolWidths(family), seed: 1, tokenizer: smol.tokenizer), ids: ids,
                        shape: wide, seconds: options.seconds)
        }
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Tests/FinchModelTests/Fixtures/families").path
        for family in Architectures.all {
            let path = fixtures + "/" + family.name
            guard FileManager.default.fileExists(atPath: path) else { throw BenchError("no tiny reference model at \(path)") }
            let tiny = try LanguageModel.load(path)
            try measure(out, "tiny.\(family.name)", tiny, ids: ids.map { $0 % tiny.config.vocab },
                        shape: Shape(prompt: 48, decode: 15, batch: 2, length: 32), seconds: options.seconds)
        }
    }

    /// A family at SmolLM2's widths with 8 layers and the options its released models have on.
    static func smolWidths(_ family: any Architecture.Type) -> ModelConfig {
        let name = family.name, gemma = name.hasPrefix("gemma")
        return ModelConfig(architecture: name, vocab: 49152, dim: 576, layers: 8, heads: 9,
                           kvHeads: family.groupedQueryAttention ? 3 : 9, ffn: 1536, context: 2048,
                           headDim: name == "qwen3" ? 64 : nil, rotaryDim: name == "gpt_neox" ? 16 : nil,
                           slidingWindow: ["mistral", "phi3"].contains(name) || gemma ? 128 : nil,
                           slidingLayers: gemma ? (0..<8).map { ($0 + 1) % (name == "gemma2" ? 2 : 6) != 0 } : nil,
                           localRopeTheta: name == "gemma3_text" ? 10000 : nil, queryScale: gemma ? 64 : nil,
                           attentionSoftcap: name == "gemma2" ? 50 : nil, finalSoftcap: name == "gemma2" ? 30 : nil)
    }

    /// Saves `model` both ways and loads each back, then prefills, decodes and trains LoRA on it.
    static func measure(_ out: BenchReporter, _ key: String, _ model: LanguageModel, ids: [Int], shape: Shape, seconds: Double) throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("finch-bench-models-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var model = model
        try model.save(directory: scratch + "/hf")
        try model.saveGGUF(path: scratch + "/m.gguf")
        let loads = try BenchTiming.interleaved([
            { model = try LanguageModel.load(scratch + "/hf") },
            { model = try LanguageModel.load(scratch + "/m.gguf") },
        ], seconds: 0, minRounds: 3)
        out.report("models.\(key).load_hf_ms", loads[0] * 1000, digits: 1)
        out.report("models.\(key).load_gguf_ms", loads[1] * 1000, digits: 1)

        let prompt = try Tensor(ids.prefix(shape.prompt).map(Float.init), shape: [1, shape.prompt])
        var generation = GenerationOptions()
        generation.maxTokens = shape.decode
        model.tokenizer = nil  // no end-of-text stop: every run decodes the full count
        var decodeTPS: [Double] = []
        let prefill = try BenchTiming.interleaved([
            { _ = try GradMode.noGrad { try model.forward(prompt, cache: KVCache(), lastOnly: true) } },
            { decodeTPS.append(try model.generate(ids: Array(ids.prefix(16)), options: generation).decodeTokensPerSecond) },
        ], seconds: seconds * 2, minRounds: 3)[0]
        out.report("models.\(key).prefill_tps", Double(shape.prompt) / prefill, digits: 1)
        out.report("models.\(key).decode_tps", BenchTiming.median(decodeTPS), digits: 1)

        try model.addLoRA(rank: 8, alpha: 16)
        var train = TrainOptions()
        train.steps = Int.max; train.batch = shape.batch; train.lr = 1e-4
        let data = try TrainBench.windows(ids, length: shape.length, count: 2 * shape.batch, padId: 0)
        let trainer = try Trainer(model: model, data: data, options: train)
        let step = try BenchTiming.interleaved([{ _ = try trainer.step() }], seconds: seconds * 2, minRounds: 3)[0]
        out.report("models.\(key).lora_train_tps", Double(shape.batch * shape.length) / step, digits: 1)
    }
}
