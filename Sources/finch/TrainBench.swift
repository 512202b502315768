import FinchData
import FinchIO
import FinchModel
import FinchTensor
import FinchText
import FinchTrain
import Foundation

/// train: SmolLM2-135M at batch 4 × 256 tokens — full finetuning (AdamW) and LoRA (rank 8 on q
/// and v) against a 1024×576×1536 GEMM measured in the same run, interleaved; the peak memory of
/// each, measured in a process of its own (a process's peak only grows); and a tiny model
/// (2 layers, dim 128, vocabulary 4096) trained from scratch.
enum TrainBench {
    static let batch = 4, sequence = 256

    /// The memory figures, each measured in a process of its own.
    static let memoryParts = ["full-memory", "lora-memory", "lora-varied-memory", "full-checkpointed-memory", "lora-checkpointed-memory",
                              "q8-lora-memory", "q8-lora-checkpointed-memory"]

    static func run(_ out: BenchReporter, _ options: BenchOptions) throws {
        if options.part == "tiny" { return try tiny(out, seconds: options.seconds) }
        if options.part == "lora-varied-memory" { return try variedMemory(out) }
        if options.part == "full" { return try fullAlone(out, seconds: options.seconds, precision: .float32) }
        if options.part == "full-bf16" { return try fullAlone(out, seconds: options.seconds, precision: .bfloat16) }
        if options.part == "q8-steps" { return try q8Steps(out, seconds: options.seconds) }
        if let part = options.part, part != "steps" {
            return try memory(out, lora: part.contains("lora"), checkpointed: part.contains("checkpointed"), base: part.hasPrefix("q8") ? .q8_0 : nil)
        }
        let (model, data) = try smolLM2()
        let loraModel = try LanguageModel(gguf: ModelStore.resolve("smollm2-135m"))
        try loraModel.addLoRA(rank: 8, alpha: 16, targets: ["q", "v"])
        let q8Model = try q8LoRAModel()
        let full = try Trainer(model: model, data: data, options: trainOptions())
        let lora = try Trainer(model: loraModel, data: data, options: trainOptions())
        let q8Lora = try Trainer(model: q8Model, data: data, options: trainOptions())
        var checkpointing = trainOptions()
        checkpointing.gradientCheckpointing = true
        let loraCheckpointed = try Trainer(model: loraModel, data: data, options: checkpointing)
        // Mixed precision trains the same models (each trainer its own optimiser state): only
        // the time of a step is compared, and a step's work does not depend on the weights' values.
        // Made only where they run: each AdamW holds a model's worth of state.
        let bf16 = MatmulPrecision.bfloat16Supported
        let full16 = bf16 ? try Trainer(model: model, data: data, options: trainOptions(precision: .bfloat16)) : nil
        let lora16 = bf16 ? try Trainer(model: loraModel, data: data, options: trainOptions(precision: .bfloat16)) : nil
        var checkpointing16 = trainOptions(precision: .bfloat16)
        checkpointing16.gradientCheckpointing = true
        let lora16Checkpointed = bf16 ? try Trainer(model: loraModel, data: data, options: checkpointing16) : nil
        let q8Lora16 = bf16 ? try Trainer(model: q8Model, data: data, options: trainOptions(precision: .bfloat16)) : nil
        // Everything that saves memory at once, with the bf16 products that pay for it.
        let q8Lora16Checkpointed = bf16 ? try Trainer(model: q8Model, data: data, options: checkpointing16) : nil
        let a = try Tensor.randn([1024, 576]), w = try Tensor.randn([1536, 576]).transpose()
        var sides: [() throws -> Void] = [
            { _ = try full.step() },
            { _ = try lora.step() },
            { for _ in 0..<20 { _ = try a.matmul(w) } },
            { _ = try loraCheckpointed.step() },
            { _ = try q8Lora.step() },
        ]
        if let full16, let lora16, let lora16Checkpointed, let q8Lora16, let q8Lora16Checkpointed {
            sides += [{ _ = try full16.step() }, { _ = try lora16.step() }, { _ = try lora16Checkpointed.step() }, { _ = try q8Lora16.step() },
                      { _ = try q8Lora16Checkpointed.step() }]
        }
        let times = try BenchTiming.interleaved(sides, seconds: options.seconds * 40, minRounds: 3)
        let tokens = Double(batch * sequence)
        let gemm = 20 * 2 * 1024 * 576 * 1536 / times[2] / 1e9
        let fullTPS = tokens / times[0], loraTPS = tokens / times[1]
        out.report("train.full_tps", fullTPS, digits: 1)
        out.report("train.lora_tps", loraTPS, digits: 1)
        out.report("train.lora_vs_full", loraTPS / fullTPS, digits: 2)
        out.report("train.gemm_gflops", gemm, digits: 1)
        out.report("train.full_mfu", fullTPS * 6 * Double(model.parameterCount) / (gemm * 1e9), digits: 3)
        // Gradient checkpointing runs each block's forward pass twice.
        out.report("train.lora_checkpointed_tps", tokens / times[3], digits: 1)
        out.report("train.lora_checkpointed_vs_lora", times[1] / times[3], digits: 2)
        // LoRA over the same model with its frozen projections in Q8_0 blocks, widened per product.
        out.report("train.q8_lora_tps", tokens / times[4], digits: 1)
        out.report("train.q8_lora_vs_lora", times[1] / times[4], digits: 2)
        if bf16 {
            let full16TPS = tokens / times[5], lora16TPS = tokens / times[6]
            out.report("train.bf16_full_tps", full16TPS, digits: 1)
            out.report("train.bf16_lora_tps", lora16TPS, digits: 1)
            out.report("train.bf16_speedup", full16TPS / fullTPS, digits: 2)
            out.report("train.bf16_lora_speedup", lora16TPS / loraTPS, digits: 2)
            // Against float32 LoRA without checkpointing: what the memory costs in speed, with bf16 products.
            out.report("train.bf16_lora_checkpointed_tps", tokens / times[7], digits: 1)
            out.report("train.bf16_lora_checkpointed_vs_lora", times[1] / times[7], digits: 2)
            out.report("train.bf16_q8_lora_tps", tokens / times[8], digits: 1)
            out.report("train.bf16_q8_lora_vs_lora", times[1] / times[8], digits: 2)
            out.report("train.bf16_q8_lora_checkpointed_tps", tokens / times[9], digits: 1)
            out.report("train.bf16_q8_lora_checkpointed_vs_lora", times[1] / times[9], digits: 2)
        } else {
            print("train.bf16_*: not measured, this CPU has no AVX512_BF16")
        }
        if options.part == "steps" { return }  // the step figures alone, for runs alternated with PyTorch's

        try tiny(out, seconds: options.seconds)

        // Memory, each method in a fresh process of its own.
        for part in memoryParts {
            let status = try Spawn.run("/proc/self/exe", ["bench", "train", "--part", part])
            guard status == 0 else { throw BenchError("the \(part) measurement failed (exit status \(status))") }
        }
    }

    /// Full finetuning steps alone (`--part full`, `--part full-bf16`), for profiling a step without the other cases.
    static func fullAlone(_ out: BenchReporter, seconds: Double, precision: MatmulPrecision) throws {
        let (model, data) = try smolLM2()
        let full = try Trainer(model: model, data: data, options: trainOptions(precision: precision))
        let time = try BenchTiming.interleaved([{ _ = try full.step() }], seconds: seconds * 10, minRounds: 3)[0]
        out.report(precision == .bfloat16 ? "train.bf16_full_tps" : "train.full_tps", Double(batch * sequence) / time, digits: 1)
    }

    /// The tiny model alone (`--part tiny`).
    static func tiny(_ out: BenchReporter, seconds: Double) throws {
        let tokens = Double(batch * sequence)
        // The tiny model of pretraining from scratch has a tokenizer of its own for a small corpus:
        // vocabulary 4096 (the same text's ids folded into it; speed does not depend on which ids).
        let tinyVocab = 4096
        let tiny = try LanguageModel.random(ModelConfig(vocab: tinyVocab, dim: 128, layers: 2, heads: 4, kvHeads: 4, ffn: 352, context: 512), seed: 1)
        let tinyData = TokenizedDataset(examples: try smolLM2Data().examples.map { e in
            let ids = e.ids.map { $0 % tinyVocab }
            return TokenizedExample(ids: ids, labels: ids, promptLength: 0, truncated: false)
        }, padId: 0, source: "bench")
        let tinyTrainer = try Trainer(model: tiny, data: tinyData, options: trainOptions(lr: 1e-3))
        let tinyTime = try BenchTiming.interleaved([{ _ = try tinyTrainer.step() }], seconds: seconds * 4, minRounds: 5)[0]
        out.report("train.tiny_tps", tokens / tinyTime, digits: 0)
    }

    /// Peak resident memory of two training steps, weights included (the second reuses the first's
    /// buffers); with `base`, the model is loaded straight into those blocks, as `load_model(base:)` does.
    static func memory(_ out: BenchReporter, lora: Bool, checkpointed: Bool, base: QuantFormat? = nil) throws {
        let model = try base.map { _ in try q8LoRAModel() } ?? LanguageModel(gguf: ModelStore.resolve("smollm2-135m"))
        let data = try smolLM2Data(model.tokenizer!)
        if lora, base == nil { try model.addLoRA(rank: 8, alpha: 16, targets: ["q", "v"]) }
        var options = trainOptions()
        options.gradientCheckpointing = checkpointed
        let trainer = try Trainer(model: model, data: data, options: options)
        for _ in 0..<2 { try trainer.step() }
        let name = (base.map { "\($0 == .q8_0 ? "q8" : "q4")_" } ?? "") + (lora ? "lora" : "full") + (checkpointed ? "_checkpointed" : "")
        out.report("train.\(name)_peak_rss_mb", ProcessMemory.peakMegabytes, digits: 0)
    }

    /// SmolLM2 loaded with its projections straight into Q8_0 blocks, with the bench's LoRA (rank 8 on q and v).
    static func q8LoRAModel() throws -> LanguageModel {
        let model = try LanguageModel(gguf: ModelStore.resolve("smollm2-135m"), base: .q8_0)
        try model.addLoRA(rank: 8, alpha: 16, targets: ["q", "v"])
        return model
    }

    /// LoRA steps on float32 weights and on Q8_0 blocks alone, alternated (`--part q8-steps`).
    static func q8Steps(_ out: BenchReporter, seconds: Double) throws {
        let (model, data) = try smolLM2()
        try model.addLoRA(rank: 8, alpha: 16, targets: ["q", "v"])
        let lora = try Trainer(model: model, data: data, options: trainOptions())
        let q8Lora = try Trainer(model: q8LoRAModel(), data: data, options: trainOptions())
        let times = try BenchTiming.interleaved([{ _ = try lora.step() }, { _ = try q8Lora.step() }], seconds: seconds * 20, minRounds: 3)
        out.report("train.lora_tps", Double(batch * sequence) / times[0], digits: 1)
        out.report("train.q8_lora_tps", Double(batch * sequence) / times[1], digits: 1)
        out.report("train.q8_lora_vs_lora", times[0] / times[1], digits: 2)
    }

    /// Peak resident memory of LoRA over examples of every length from 16 to 256 tokens, as real
    /// question/answer data has: each batch width is new, so a cache of freed buffers that kept
    /// every width would grow step after step.
    static func variedMemory(_ out: BenchReporter) throws {
        let (model, windows) = try smolLM2()
        try model.addLoRA(rank: 8, alpha: 16, targets: ["q", "v"])
        var rng = RNG(seed: 7)
        let examples = windows.examples.map { e in
            let n = 16 + Int(rng.next() % UInt64(sequence - 15))
            let ids = Array(e.ids.prefix(n))
            return TokenizedExample(ids: ids, labels: ids, promptLength: 0, truncated: false)
        }
        let data = TokenizedDataset(examples: examples, padId: windows.padId, source: "bench")
        let trainer = try Trainer(model: model, data: data, options: trainOptions())
        for _ in 0..<16 { try trainer.step() }
        out.report("train.lora_varied_peak_rss_mb", ProcessMemory.peakMegabytes, digits: 0)
    }

    static func smolLM2() throws -> (LanguageModel, TokenizedDataset) {
        let model = try LanguageModel(gguf: ModelStore.resolve("smollm2-135m"))
        return (model, try smolLM2Data(model.tokenizer!))
    }

    /// 64 windows of 256 tokens of the machine's text, as SmolLM2's tokenizer reads it.
    static func smolLM2Data(_ tok: Tokenizer? = nil) throws -> TokenizedDataset {
        let tok = try tok ?? Tokenizer(gguf: GGUFFile(path: ModelStore.resolve("smollm2-135m")))
        let text = try TokenizerBench.machineText(limit: 1 << 20)
        return try windows(tok.encode(text, addSpecial: false), length: sequence, count: 64, padId: tok.eosId ?? 0)
    }

    static func trainOptions(lr: Float = 1e-5, precision: MatmulPrecision = .float32) -> TrainOptions {
        var o = TrainOptions()
        o.steps = Int.max; o.batch = batch; o.lr = lr; o.precision = precision
        return o
    }

    /// Consecutive windows of `length` tokens, each trained on every position.
    static func windows(_ ids: [Int], length: Int, count: Int, padId: Int) throws -> TokenizedDataset {
        guard ids.count >= length * count else { throw BenchError("the benchmark text gave only \(ids.count) tokens") }
        let examples = (0..<count).map { i in
            let w = Array(ids[i * length ..< (i + 1) * length])
            return TokenizedExample(ids: w, labels: w, promptLength: 0, truncated: false)
        }
        return TokenizedDataset(examples: examples, padId: padId, source: "bench")
    }
}
