import FinchLang
import FinchLib
import FinchTensor
import Foundation
import Testing

/// Training from the language: train() on a Dataset, the Run it returns, resuming, LoRA and
/// freezing methods, and the errors a person meets first.
@Suite struct TrainBindingTests {
    static let setup = """
    tok = bpe_train(["### Question:\\nwhat is finch?\\n\\n### Answer:a lab. what is lora? adapters. what is loss? a number."] * 20, vocab: 300, special: ["<|end|>"])
    rows = [{"question": "what is finch?", "answer": "a lab."}, {"question": "what is lora?", "answer": "adapters."},
            {"question": "what is loss?", "answer": "a number."}, {"question": "is finch a lab?", "answer": "yes."}]
    ds = dataset(rows)
    m = model(vocab: tok.vocab_size, dim: 32, layers: 2, heads: 4, context: 64, tokenizer: tok, seed: 1)
    """

    func error(_ code: String) -> String {
        do { _ = try runFinch(Self.setup + "\n" + code); return "no error" } catch { return String(describing: error) }
    }

    @Test func trainReturnsARunWithHistoryAndResumes() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("finch-lib-train-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (out, _) = try runFinch(Self.setup + """

        run = train(m, ds, lr: 1e-2, steps: 12, batch: 2, schedule: "cosine", warmup: 2, eval: ds, eval_every: 4, save_dir: "\(dir)", log: "\(dir)/log.csv")
        print(run.steps, run.stop_reason, len(run.history), run.history.columns)
        losses = run.history["loss"]
        print(losses[-1] < losses[0] * 0.7, run.best["step"] <= 12, run.history[3]["val_loss"] != nil, run.history[0]["val_loss"])
        print(run.summary)
        m2 = model(vocab: tok.vocab_size, dim: 32, layers: 2, heads: 4, context: 64, tokenizer: tok, seed: 1)
        half = train(m2, ds, lr: 1e-2, steps: 12, batch: 2, schedule: "cosine", warmup: 2, eval: ds, eval_every: 4, save_dir: "\(dir)/half", sample_every: 0)
        print(half.history["loss"] == losses)
        """)
        let lines = out.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("warning: 4 of the 4 validation examples") })
        #expect(lines.contains { $0.hasPrefix("training 3") && $0.contains("(full finetuning) on 4 examples: 12 steps of 2 examples, adamw, lr 0.01 cosine after 2 warmup steps") }, "\(lines)")
        #expect(lines.contains("12 finished 12 [\"step\", \"loss\", \"val_loss\", \"lr\", \"grad_norm\", \"tokens_per_s\", \"elapsed\"]"), "\(lines)")
        #expect(lines.contains("true true true nil"), "\(lines)")
        #expect(lines.contains { $0.hasPrefix("12 of 12 steps (finished)") })
        #expect(lines.last == "true", "the same settings give the same losses")
        let log = try String(contentsOfFile: dir + "/log.csv", encoding: .utf8)
        #expect(log.split(separator: "\n").count == 13)
        #expect(FileManager.default.fileExists(atPath: dir + "/checkpoint-12/trainer.json"))

        // Resume: 6 steps, then 6 more from the checkpoint, equal the 12 straight.
        let (resumed, _) = try runFinch(Self.setup + """

        m3 = model(vocab: tok.vocab_size, dim: 32, layers: 2, heads: 4, context: 64, tokenizer: tok, seed: 1)
        a = train(m3, ds, lr: 1e-2, steps: 12, batch: 2, schedule: "cosine", warmup: 2, save_dir: "\(dir)/r", save_every: 6)
        m4 = model(vocab: tok.vocab_size, dim: 32, layers: 2, heads: 4, context: 64, tokenizer: tok, seed: 9)
        b = train(m4, ds, lr: 1e-2, steps: 12, batch: 2, schedule: "cosine", warmup: 2, resume: "\(dir)/r/checkpoint-6")
        print(b.history["loss"] == a.history["loss"], b.steps)
        """)
        #expect(resumed.contains("resuming after step 6"))
        #expect(resumed.split(separator: "\n").last == "true 12", "\(resumed)")
    }

    @Test func loraAndFreezingFromTheLanguage() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("finch-lib-lora-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (out, _) = try runFinch(Self.setup + """

        m.lora(rank: 4, alpha: 8, dropout: 0.1, targets: ["q_proj", "v"])
        print(m.trainable, m.adapters)
        run = train(m, ds, lr: 2e-2, steps: 8, batch: 4)
        m.save_adapter("\(dir)")
        before = m.forward(tok.encode("what is finch?"))
        m.merge()
        print(m.adapters, (m.forward(tok.encode("what is finch?")) - before).abs().max().item() < 1e-4)
        print(m.freeze(), m.trainable, m.unfreeze("model.layers.1.*"), m.trainable > 0)
        """)
        let lines = out.split(separator: "\n").map(String.init)
        // q: A 4·32 + B 32·4, v: A 4·32 + B 32·4 (kv_heads = heads): 512 per layer, two layers.
        #expect(lines[0] == "1024 1024", "\(lines)")
        #expect(lines.contains("0 true"), "\(lines)")
        #expect(lines.last == "20 0 9 true", "\(lines)")
        #expect(FileManager.default.fileExists(atPath: dir + "/adapter_config.json"))
    }

    /// gradient_checkpointing from the language (and through finetune): the same run, step for step.
    @Test func gradientCheckpointingFromTheLanguage() throws {
        let (out, _) = try runFinch(Self.setup + """

        m.lora(rank: 4, alpha: 8, dropout: 0.1)
        m2 = model(vocab: tok.vocab_size, dim: 32, layers: 2, heads: 4, context: 64, tokenizer: tok, seed: 1)
        m2.lora(rank: 4, alpha: 8, dropout: 0.1)
        a = train(m, ds, lr: 2e-2, steps: 4, batch: 2, seed: 3).history["loss"]
        b = train(m2, ds, lr: 2e-2, steps: 4, batch: 2, seed: 3, gradient_checkpointing: true).history["loss"]
        same = 0
        for i in range(0, 4) { if abs(a[i] - b[i]) < 1e-5 * a[i] { same = same + 1 } }
        print(len(b), same)
        f = finetune(model(vocab: tok.vocab_size, dim: 32, layers: 2, heads: 4, context: 64, tokenizer: tok, seed: 2), ds, steps: 2, batch: 2, gradient_checkpointing: true)
        """)
        let lines = out.split(separator: "\n").map(String.init)
        #expect(lines.contains("4 4"), "\(lines)")
        #expect(lines.contains { $0.hasPrefix("finetune: ") && $0.contains("; gradient checkpointing") }, "\(lines)")
    }

    /// LoRA over a quantized base from the language: lora(base:), load_model(base:), finetune(base:),
    /// the params table's format column, and the errors a person meets.
    @Test func quantizedBaseFromTheLanguage() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("finch-lib-qbase-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (out, _) = try runFinch(Self.setup + """

        m.lora(rank: 4, alpha: 8, base: "q8_0")
        formats = m.params["format"]
        print(len(formats.filter(fn(f) { f == "q8_0" })), len(formats))
        run = train(m, ds, lr: 2e-2, steps: 6, batch: 4)
        print(run.history["loss"][5] < run.history["loss"][0])
        m.save("\(dir)")
        m3 = load_model("\(dir)", base: "q4_1")
        print(len(m3.params["format"].filter(fn(f) { f == "q4_1" })), m3.trainable)
        train(m3, ds, steps: 1, batch: 2)
        f = finetune(m3, ds, steps: 2, batch: 2, base: "q4_1")
        print("estimate", estimate(params: 1.7e9, method: "lora", base: "q4_1")["weights_mb"] * 3 < estimate(params: 1.7e9, method: "lora")["weights_mb"])
        """)
        let lines = out.split(separator: "\n").map(String.init)
        #expect(lines.contains("14 20"), "two blocks of seven projections kept in blocks: \(lines)")
        #expect(lines.contains("true"), "the loss falls: \(lines)")
        #expect(lines.contains("estimate true"), "a 1.7B model's frozen weights in Q4_1 blocks take under a third: \(lines)")
        #expect(out.contains("kept frozen in Q4_1 blocks and do not train: add LoRA adapters (m.lora)"), "\(out)")
        #expect(lines.contains { $0.hasPrefix("14 ") && $0 != "14 20" }, "loaded straight into Q4_1, everything else trains: \(lines)")
        #expect(lines.contains { $0.hasPrefix("finetune: LoRA rank 8, alpha 16, targets [\"q\", \"v\"], base in q4_1;") }, "\(lines)")
        #expect(error("m.lora(base: \"int8\")").contains("base must be \"q8_0\", \"q4_1\" or \"f32\", got \"int8\""))
        #expect(error("load_model(\"\(dir)\", base: \"q4\")").contains("base must be"))
        #expect(error("m.lora(base: \"q8_0\")\nm.unfreeze()").contains("is kept in Q8_0 blocks (LoRA over a quantized base) and cannot train"))
        #expect(error("finetune(m, ds, method: \"full\", base: \"q8_0\")").contains("full finetuning trains them all in float32"))
        #expect(error("estimate(params: 1e9, base: \"q8_0\")").contains("full finetuning trains them all in float32"))
        #expect(error("estimate(params: m, method: \"lora\", base: \"q8_0\")").contains("load it with base"))

    }

    @Test func badArgumentsAreErrorsBeforeAnyWork() {
        #expect(error("train(m, ds, lr: -1)").contains("lr must be a positive number"))
        #expect(error("train(m, ds, steps: 0)").contains("steps must be positive"))
        #expect(error("train(m, ds, batch: 0)").contains("batch must be positive"))
        #expect(error("train(m, ds, max_length: 100)").contains("max_length 100 is beyond the model's context of 64"))
        #expect(error("train(m, ds, eval_every: 5)").contains("need an eval set"))
        #expect(error("train(m, ds, schedule: \"step\")").contains("schedule must be"))
        #expect(error("train(m, ds, optimiser: \"sgd\")").contains("optimizer"), "did-you-mean for a misspelt argument")
        #expect(error("train(m, ds.filter(fn(r) { false }))").contains("empty"))
        #expect(error("train(m, ds, resume: \"/nonexistent/run\")").contains("/nonexistent/run"))
        // Numbers that no run could use: refused before any step, never a trap or a hang (issue [10]).
        #expect(error("train(m, ds, batch: 1e7)").contains("a step of batch 10000000 × 32 tokens needs about"))
        #expect(error("train(m, ds, batch: 1e9, grad_accum: 1e9)").contains("batch and grad_accum must be at most 16777216"))
        #expect(error("train(m, ds, epochs: 1e300)").contains("epochs must be positive and make at most 1e12 steps"))
        #expect(error("train(m, ds, weight_decay: 1e400)").contains("weight_decay must be a finite number ≥ 0, got inf"))
        #expect(error("train(m, ds, print_every: 0)").contains("print_every must be positive, got 0"))
        #expect(error("train(m, ds, sample_every: -1)").contains("sample_every must be 0 or more"))
        #expect(error("estimate(params: 1e400)").contains("params must be a parameter count from 1000 to 1e15, got inf"))
        #expect(error("ds.histogram(tok, bins: 1e15)").contains("bins must be between 1 and 1000, got 1000000000000000"))
        #expect(error("elo([[\"a\", \"b\", 1]], k: 1e400)").contains("k must be a finite positive number, got inf"))
        let targets = error("m.lora(targets: [\"query\"])")
        #expect(targets.contains("[\"query\"] match no layer") && targets.contains("q (self_attn.q_proj)"), "\(targets)")
        #expect(error("m.freeze(\"decoder.*\")").contains("no parameter name matches decoder.*"))
        #expect(error("m.merge()").contains("no LoRA adapters"))
    }

    @Test func finetuneInOneCallPrintsItsDefaults() throws {
        let data = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Notebooks/data/finch_docs.jsonl").path
        let (out, _) = try runFinch("""
        tok = tokenizer("smollm2-135m")
        tiny = model(vocab: tok.vocab_size, dim: 32, layers: 1, heads: 2, context: 512, tokenizer: tok)
        run = finetune(tiny, "\(data)", steps: 2, batch: 2)
        print(run.steps, run.model.adapters > 0, run.best["val_loss"] > 0)
        """)
        #expect(out.contains("finetune: LoRA rank 8, alpha 16, targets [\"q\", \"v\"];") && out.contains("rows of kind question_answer")
                && out.contains("rows for validation (split with seed 123); 2 steps of batch 2; lr 0.0003, cosine after 1 warmup steps; max_length 512"), "\(out)")
        #expect(out.split(separator: "\n").last == "2 true true", "\(out)")
    }

    @Test func pretrainingOnPlainTextPacksTheStream() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("finch-lib-text-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let lines = (0..<40).map { "the cat number \($0 % 7) sat on the mat and looked at the dog." }
        try lines.joined(separator: "\n").write(toFile: dir + "/corpus.txt", atomically: true, encoding: .utf8)
        let (out, _) = try runFinch(Self.setup + """

        text = load_dataset("\(dir)/corpus.txt")
        fresh = model(vocab: tok.vocab_size, dim: 32, layers: 2, heads: 4, context: 64, tokenizer: tok, seed: 2)
        run = train(fresh, text, lr: 1e-2, steps: 25, batch: 4, max_length: 32)
        losses = run.history["loss"]
        print(text.kind, losses[-1] < losses[0] * 0.6)
        """)
        #expect(out.split(separator: "\n").last == "text true", "\(out)")
    }

    /// Lesson 05's LoRA run, its first 20 steps, in float32 and in bfloat16: the curves agree
    /// within 2% at every validation and every logged loss (issue [16]'s bound; measured
    /// ≤ 0.3%). Where the CPU lacks AVX512_BF16 the second run says so and is float32.
    @Test func bf16TrainingFollowsFloat32OnLesson05() throws {
        let data = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Notebooks/data/finch_docs.jsonl").path
        let (out, _) = try runFinch("""
        parts = load_dataset("\(data)").split(test: 0.1, seed: 123)
        fn run(precision) {
            m = load_model()
            m.lora(rank: 16, alpha: 32, targets: ["q", "k", "v", "o", "gate", "up", "down"])
            train(m, parts["train"], lr: 1e-3, steps: 20, batch: 8, max_length: 128, schedule: "cosine", warmup: 5,
                  eval: parts["test"], eval_every: 10, print_every: 100, precision: precision)
        }
        a = run("fp32").history
        b = run("bf16").history
        worst = 0
        validations = 0
        for i in range(20) {
            worst = max(worst, abs(b["loss"][i] / a["loss"][i] - 1))
            if a["val_loss"][i] != nil {
                worst = max(worst, abs(b["val_loss"][i] / a["val_loss"][i] - 1))
                validations = validations + 1
            }
        }
        print("validations", validations)
        print("worst", worst)
        """)
        let line = out.split(separator: "\n").last { $0.hasPrefix("worst ") }
        let worst = line.flatMap { Double($0.dropFirst(6)) }
        #expect(worst.map { $0 < 0.02 } == true && out.contains("validations 2\n"), "\(out)")
        #expect(out.contains(MatmulPrecision.bfloat16Supported ? "adamw in bf16, lr" : "precision \"bf16\" trains in float32"), "\(out)")
        #expect(error("train(m, ds, precision: \"fp16\")").contains("precision must be \"fp32\" or \"bf16\", got \"fp16\""))
    }

    /// A run reports its speed and the process's peak memory, for comparing methods side by side.
    @Test func aRunReportsItsSpeedAndPeakMemory() throws {
        let (out, _) = try runFinch(Self.setup + """

        r = train(m, ds, lr: 1e-2, steps: 2, batch: 2, print_every: 100)
        print(r.tokens_per_s > 0, r.peak_memory_mb > 10)
        """)
        #expect(out.hasSuffix("true true\n"), "\(out)")
    }
}
