import FinchData
import FinchLang
import FinchModel
import FinchTensor
import FinchText
import FinchTrain
import Foundation

/// A finished (or stopped) training run: its trainer, kept for the history and for resuming.
final class RunBox {
    let trainer: Trainer
    let modelValue: Value
    /// The process's peak resident memory when the run returned (a peak only grows: of several
    /// runs in one session, each shows the largest so far).
    var peakMB = ProcessMemory.peakMegabytes
    init(_ trainer: Trainer, model: Value) {
        self.trainer = trainer
        self.modelValue = model
    }
}

/// Training in the language: train(), the Run it returns, and the models' LoRA and freezing methods.
enum TrainBindings {
    static let runType: NativeType = {
        let t = NativeType(name: "Run", doc: "The result of train(): the history (a table that plots directly), the best step, a summary, and the model.")
        defineRun(t)
        return t
    }()

    static func register(in r: Registry) {
        r.section("Training")
        r.register(NativeFunction("train", trainParams, returns: "Run", doc: trainDoc,
                                  example: "run = train(m, data, lr: 3e-4, steps: 100, batch: 4)") { a in try train(a) })
        r.register(NativeFunction("estimate", [
            Param("params", .oneOf([.number, .object("Model")]), doc: "a parameter count (134.5e6, 7e9), or a Model for its exact shape"),
            Param("method", .string, default: .string("full"), doc: "\"full\" (AdamW) or \"lora\" (rank 8 on q and v)"),
            Param("batch", .int, default: .number(4)), Param("seq", .int, default: .number(256), doc: "tokens per example"),
            Param("base", .string, default: .string("f32"), doc: "for LoRA, \"q8_0\" or \"q4_1\": the frozen projections kept in those blocks, as lora(base:) keeps them"),
        ], returns: "dict", doc: "The memory (weights, gradients, optimizer state, activations, in MB) and the work (GFLOP) one training step needs in float32, as Finch trains. For a parameter count the model's shape is guessed from llama's proportions; the bigger the model, the more the weights, gradients and optimizer dominate. A Model's weights count as it holds them.",
        example: "estimate(params: 7e9, method: \"lora\", batch: 1, seq: 512)") { a in
            guard let method = TrainingEstimate.Method(rawValue: a.string("method")) else { throw a.error("method must be \"full\" or \"lora\", got \(Value.quote(a.string("method")))") }
            guard a.int("batch") > 0, a.int("seq") > 0 else { throw a.error("batch and seq must be positive") }
            let base = try ModelBindings.weightFormat(a, "base").format
            guard base == nil || method == .lora else { throw a.error("base keeps LoRA's frozen weights in blocks; full finetuning trains them all in float32") }
            let e: TrainingEstimate
            if let m = a.object("params", as: LanguageModel.self) {
                guard base == nil else { throw a.error("a Model's weights count as it holds them: load it with base (load_model(base:)) or give a parameter count") }
                e = .of(m, method: method, batch: a.int("batch"), seq: a.int("seq"))
            } else {
                guard a.number("params") >= 1000, a.number("params") <= 1e15 else { throw a.error("params must be a parameter count from 1000 to 1e15, got \(Value.format(a.number("params")))") }
                e = .of(parameters: Int(a.number("params")), method: method, batch: a.int("batch"), seq: a.int("seq"), base: base)
            }
            func mb(_ b: Double) -> Value { .number((b / 1e6).rounded()) }
            return .dict(try DictRef([(.string("weights_mb"), mb(e.weightsBytes)), (.string("gradients_mb"), mb(e.gradientBytes)),
                                      (.string("optimizer_mb"), mb(e.optimizerBytes)), (.string("activations_mb"), mb(e.activationBytes)),
                                      (.string("total_mb"), mb(e.totalBytes)), (.string("gflops_per_step"), .number((e.flopsPerStep / 1e9).rounded()))]))
        })
        r.register(runType)
    }

    static let trainDoc = "Trains a model on a dataset with next-token prediction: full finetuning, or only the LoRA adapters if the model has them. A Dataset is tokenised with the model's tokenizer and the template of its kind (plain text is packed into max_length windows); a TokenizedDataset is used as it is. Shows progress as it goes; Ctrl-C finishes the current step, saves a checkpoint if save_dir is set, and returns the run so far."

    static let trainParams: [Param] = [
        Param("model", .object("Model")),
        Param("data", .oneOf([.object("Dataset"), .object("TokenizedDataset")]), doc: "the training examples"),
        Param("lr", .number, default: .number(1e-4), doc: "peak learning rate"),
        Param("steps", .optional(.int), default: .nil, doc: "updates to make (default: from epochs, else 100)"),
        Param("epochs", .optional(.number), default: .nil, doc: "passes over the data, instead of steps"),
        Param("batch", .int, default: .number(4), doc: "examples per micro-batch"),
        Param("grad_accum", .int, default: .number(1), doc: "micro-batches per update (the loss is the mean over all their trained tokens)"),
        Param("max_length", .optional(.int), default: .nil, doc: "longest example in tokens when tokenising a Dataset (default: the longest, at most the context; 256 for packed text)"),
        Param("schedule", .string, default: .string("constant"), doc: "\"constant\", \"linear\" or \"cosine\""),
        Param("warmup", .int, default: .number(0), doc: "steps of linear warmup from 0"),
        Param("weight_decay", .number, default: .number(0), doc: "decoupled weight decay"),
        Param("clip", .number, default: .number(1), doc: "largest global gradient norm (0: no clipping)"),
        Param("optimizer", .string, default: .string("adamw"), doc: "\"adamw\", \"sgd\" (with momentum) or \"adafactor\""),
        Param("precision", .string, default: .string("fp32"), doc: "matrix products in \"fp32\", or \"bf16\": bfloat16 inputs with float32 sums, on CPUs with AVX512_BF16 (weights, gradients, optimizer and validation stay float32)"),
        Param("gradient_checkpointing", .bool, default: .bool(false), doc: "keep only each block's input and run the block again in the backward pass: far less activation memory, about a third more time"),
        Param("eval", .optional(.oneOf([.object("Dataset"), .object("TokenizedDataset")])), default: .nil, doc: "a validation set"),
        Param("eval_every", .int, default: .number(0), doc: "steps between validation losses (0: only at the end)"),
        Param("save_dir", .optional(.string), default: .nil, doc: "where checkpoints go (checkpoint-N; best/ with keep_best)"),
        Param("save_every", .int, default: .number(0), doc: "steps between checkpoints (0: at the end only)"),
        Param("keep_best", .bool, default: .bool(false), doc: "keep the checkpoint with the lowest validation loss in save_dir/best"),
        Param("early_stop", .int, default: .number(0), doc: "stop after this many validations without improvement (0: never)"),
        Param("mask_prompt", .bool, default: .bool(true), doc: "take the loss on the answer only (when tokenising a Dataset)"),
        Param("seed", .int, default: .number(0), doc: "seed of the data order"),
        Param("log", .optional(.string), default: .nil, doc: "a .csv or .jsonl file the history is written to as training goes"),
        Param("resume", .optional(.string), default: .nil, doc: "a checkpoint (or save_dir) to continue from"),
        Param("print_every", .optional(.int), default: .nil, doc: "steps between progress lines outside a terminal (default: about 20 lines)"),
        Param("sample_every", .int, default: .number(0), doc: "steps between sample generations (0: none)"),
        Param("sample_prompts", .optional(.list), default: .nil, doc: "prompts to continue (greedy, 40 tokens) every sample_every steps"),
        Param("plot_every", .int, default: .number(0), doc: "steps between redrawing the loss curve (in a terminal, above the progress line; in a notebook, its image); 0: none"),
    ]

    static func tokenized(_ v: Value, _ m: LanguageModel, maxLength: Int?, maskPrompt: Bool, _ a: Arguments, _ what: String) throws -> TokenizedDataset {
        guard case .object(let o) = v else { throw a.error("\(what) must be a Dataset or a TokenizedDataset") }
        if let box = o.value as? TokenizedBox { return box.data }
        guard let ds = o.value as? DatasetBox else { throw a.error("\(what) must be a Dataset or a TokenizedDataset") }
        guard let tok = m.tokenizer else { throw a.error("the model has no tokenizer to tokenise \(what) with; pass a TokenizedDataset") }
        let data = ds.dataset
        guard data.count > 0 else { throw a.error("the \(what == "data" ? "training data" : "validation set") is empty") }
        if data.kind == .text {
            let length = maxLength ?? min(256, m.config.context)
            return try data.tokenized(tok, maxLength: nil, maskPrompt: false).packed(length: length).dataset
        }
        return try data.tokenized(tok, maxLength: maxLength.map { min($0, m.config.context) } ?? m.config.context, maskPrompt: maskPrompt)
    }

    static func options(_ a: Arguments, examples: Int) throws -> TrainOptions {
        var o = TrainOptions()
        o.lr = Float(a.number("lr"))
        o.batch = a.int("batch"); o.gradAccum = a.int("grad_accum")
        if let steps = a.optionalInt("steps") {
            o.steps = steps
        } else if let epochs = a.optionalNumber("epochs") {
            let steps = (Double(examples) * epochs / (Double(max(1, o.batch)) * Double(max(1, o.gradAccum)))).rounded(.up)
            guard epochs > 0, steps <= 1e12 else { throw a.error("epochs must be positive and make at most 1e12 steps, got \(Value.format(epochs))") }
            o.steps = max(1, Int(steps))
        } else {
            o.steps = 100
        }
        guard let schedule = LRSchedule.Shape(rawValue: a.string("schedule")) else { throw a.error("schedule must be \"constant\", \"linear\" or \"cosine\", got \(Value.quote(a.string("schedule")))") }
        o.schedule = schedule
        o.warmup = a.int("warmup"); o.weightDecay = Float(a.number("weight_decay")); o.clip = Float(a.number("clip"))
        guard let opt = TrainOptions.OptimizerKind(rawValue: a.string("optimizer")) else { throw a.error("optimizer must be \"adamw\", \"sgd\" or \"adafactor\", got \(Value.quote(a.string("optimizer")))") }
        o.optimizer = opt
        guard let precision = MatmulPrecision(rawValue: a.string("precision")) else { throw a.error("precision must be \"fp32\" or \"bf16\", got \(Value.quote(a.string("precision")))") }
        o.precision = precision
        o.gradientCheckpointing = a.bool("gradient_checkpointing")
        o.evalEvery = a.int("eval_every")
        if case .string(let s) = a["save_dir"] { o.saveDir = s }
        o.saveEvery = a.int("save_every"); o.keepBest = a.bool("keep_best"); o.earlyStop = a.int("early_stop")
        o.seed = UInt64(truncatingIfNeeded: a.int("seed"))
        if case .string(let s) = a["log"] { o.logPath = s }
        if o.evalEvery > 0 || o.earlyStop > 0, case .nil = a["eval"] { throw a.error("eval_every and early_stop need an eval set") }
        do { try o.validate() } catch let e as ModelError { throw a.error(e.description) }
        return o
    }

    static func train(_ a: Arguments) throws -> Value {
        let m = a.object("model", as: LanguageModel.self)!
        let maxLength = a.optionalInt("max_length")
        if let ml = maxLength {
            guard ml > 0 else { throw a.error("max_length must be positive, got \(ml)") }
            guard ml <= m.config.context else { throw a.error("max_length \(ml) is beyond the model's context of \(m.config.context)") }
        }
        let data = try tokenized(a["data"], m, maxLength: maxLength, maskPrompt: a.bool("mask_prompt"), a, "data")
        guard data.count > 0 else { throw a.error("the training data is empty") }
        let eval: TokenizedDataset? = a["eval"].isNil ? nil : try tokenized(a["eval"], m, maxLength: maxLength, maskPrompt: a.bool("mask_prompt"), a, "eval")
        let o = try options(a, examples: data.count)
        m.trainingProbes = data.examples.prefix(4).map { Array($0.ids.prefix(max(1, $0.promptLength))) }
        let watchers = try TrainWatchers(a, steps: o.steps, model: m)
        let trainer = try Trainer(model: m, data: data, eval: eval, options: o)
        if let path = a.optionalString("resume") { try trainer.resume(from: path) }
        watchers.begin(after: trainer.history)
        let out = a.interpreter.output
        for w in trainer.warnings { out("warning: \(w)\n") }
        let what = m.loraParameters.isEmpty ? "full finetuning" : "LoRA"
        out("training \(LanguageModel.millions(m.trainableCount)) of \(LanguageModel.millions(m.parameterCount)) parameters (\(what)) on \(data.count) examples: \(o.steps) steps of \(o.batch * o.gradAccum * trainer.world.size) examples\(trainer.world.isDistributed ? " (\(o.batch * o.gradAccum) on each of \(trainer.world.size) processes)" : ""), \(o.optimizer.rawValue)\(o.precision.onThisCPU == .bfloat16 ? " in bf16" : ""), lr \(Value.format(HistoryLog.shortest(o.lr))) \(o.schedule.rawValue)\(o.warmup > 0 ? " after \(o.warmup) warmup steps" : "")\(trainer.history.isEmpty ? "" : ", resuming after step \(trainer.history.count)")\n")

        Interrupt.clear()
        // A model served in the background (serve()) waits between tokens until training is done.
        m.inUse.lock()
        defer { m.inUse.unlock() }
        try trainer.train(shouldStop: { Interrupt.requested }) { r in watchers.step(r, history: trainer.history) }
        watchers.finish(trainer)
        switch trainer.stopReason {
        case .interrupted?:
            Interrupt.clear()
            out("stopped by Ctrl-C after step \(trainer.history.count)\(o.saveDir.map { "; checkpoint saved in \($0)/checkpoint-\(trainer.history.count)" } ?? "")\n")
        case .earlyStopped?, .nonFinite?: out((trainer.stopMessage ?? "") + "\n")
        default: break
        }
        return .object(NativeObject(type: runType, value: RunBox(trainer, model: a["model"])))
    }

    static func historyTable(_ t: Trainer) -> Table {
        Table(columns: HistoryLog.columns, rows: t.history.map { r in HistoryLog.values(r).map { $0.map(Value.number) ?? .nil } })
    }

    static func summary(_ t: Trainer) -> String {
        guard let first = t.history.first, let last = t.history.last else { return "no steps yet" }
        let tokens = t.history.reduce(0) { $0 + $1.tokens }
        var lines = ["\(t.history.count) of \(t.options.steps) steps (\(t.stopReason?.rawValue ?? "not run")), \(tokens.formatted()) trained tokens in \(TrainProgress.clock(last.elapsed)) (\(Int(Double(tokens) / max(last.elapsed, 1e-9))) tokens/s)"]
        let tail = t.history.suffix(min(10, t.history.count))
        lines.append(String(format: "loss %.4f at step 1 → %.4f (mean of the last %d steps)", first.loss, tail.map(\.loss).reduce(0, +) / Float(tail.count), tail.count))
        if let b = t.best { lines.append(String(format: "best validation loss %.4f at step %d", b.valLoss, b.step)) }
        let skipped = t.history.filter(\.skipped).count
        if skipped > 0 { lines.append("\(skipped) steps skipped for a non-finite loss or gradient") }
        return lines.joined(separator: "\n")
    }

    private static func defineRun(_ t: NativeType) {
        func box(_ o: NativeObject) -> RunBox { o.value as! RunBox }
        t.property("history", doc: "A table with a row per step: step, loss, val_loss (nil where not measured), lr, grad_norm, tokens_per_s, elapsed.") { o in
            TableBindings.wrap(historyTable(box(o).trainer))
        }
        t.property("best", doc: "The step with the lowest validation loss ({step, val_loss}), or without a validation set the lowest training loss ({step, loss}).") { o in
            let tr = box(o).trainer
            if let b = tr.best { return .dict(try DictRef([(.string("step"), .number(Double(b.step))), (.string("val_loss"), .number(HistoryLog.shortest(b.valLoss)))])) }
            guard let r = tr.history.filter({ !$0.skipped }).min(by: { $0.loss < $1.loss }) else { return .nil }
            return .dict(try DictRef([(.string("step"), .number(Double(r.step))), (.string("loss"), .number(HistoryLog.shortest(r.loss)))]))
        }
        t.property("summary", doc: "Steps, tokens, speed, the loss at the start and end, the best validation loss, as text.") { o in .string(summary(box(o).trainer)) }
        t.property("model", doc: "The model that was trained.") { o in box(o).modelValue }
        t.property("peak_memory_mb", doc: "The process's peak resident memory in MB when train() returned (a peak only grows, so run the lighter method first to compare).") { o in
            .number(box(o).peakMB.rounded())
        }
        t.property("tokens_per_s", doc: "Trained tokens per second over the whole run.") { o in
            let h = box(o).trainer.history
            guard let last = h.last else { return .nil }
            return .number((Double(h.reduce(0) { $0 + $1.tokens }) / max(last.elapsed, 1e-9)).rounded())
        }
        t.property("steps", doc: "Steps done so far.") { o in .number(Double(box(o).trainer.history.count)) }
        t.property("stop_reason", doc: "\"finished\", \"interrupted\" (Ctrl-C), \"early_stopped\" or \"non_finite\".") { o in
            .string(box(o).trainer.stopReason?.rawValue ?? "finished")
        }
        t.property("loss", doc: "The last step's training loss.") { o in box(o).trainer.history.last.map { .number(HistoryLog.shortest($0.loss)) } ?? .nil }
        t.method("evaluate", on: RunBox.self, [Param("data", .optional(.oneOf([.object("Dataset"), .object("TokenizedDataset")])), default: .nil, doc: "default: the run's validation set")],
                 returns: "number", "The mean loss per trained token on a dataset (or the run's validation set), masked as in training.",
                 "run.evaluate()") { run, a in
            let tr = run.trainer
            let set: TokenizedDataset
            if a["data"].isNil {
                guard let e = tr.evalData else { throw a.error("this run has no validation set; pass one") }
                set = e
            } else {
                set = try tokenized(a["data"], tr.model, maxLength: nil, maskPrompt: true, a, "data")
            }
            return .number(Double(try tr.validationLoss(set)))
        }
        t.describe = { o in
            let tr = box(o).trainer
            let last = tr.history.last.map { String(format: ", loss %.4f", $0.loss) } ?? ""
            return "<Run: \(tr.history.count)/\(tr.options.steps) steps\(last)\(tr.best.map { String(format: ", best val %.4f at step %d", $0.valLoss, $0.step) } ?? "")>"
        }
    }

    static func defineModelMethods(_ t: NativeType) {
        func method(_ name: String, _ params: [Param], returns: String, _ doc: String, _ example: String,
                    _ body: @escaping (LanguageModel, Arguments) throws -> Value) {
            t.method(name, on: LanguageModel.self, params, returns: returns, doc, example, body)
        }
        method("lora", [Param("rank", .int, default: .number(8)), Param("alpha", .number, default: .number(16)),
                        Param("dropout", .number, default: .number(0), doc: "probability of dropping an adapter input while training"),
                        Param("targets", .optional(.list), default: .nil, doc: "projections to adapt by the family's short names (llama: q, k, v, o, gate, up, down; gpt2, gpt_neox, phi3: qkv, o, ...) or PEFT's module names (q_proj, ...); m.config.lora_targets lists them (default: the family's, q and v or qkv)"),
                        Param("seed", .int, default: .number(0)),
                        Param("base", .optional(.string), default: .nil, doc: "\"q8_0\" or \"q4_1\" keeps the frozen projections' weights in those blocks (QLoRA's idea: a quarter or a sixth of their memory; products widen one matrix at a time); \"f32\" widens them back; nil leaves them as they are")],
               returns: "Model", "Adds LoRA adapters (y = Wx + (alpha/rank)·B(Ax), B starting at zero) to the chosen projections of every block and freezes everything else; returns the model.",
               "m.lora(rank: 8, alpha: 16, targets: [\"q\", \"v\"], base: \"q8_0\")") { m, a in
            let base = a["base"].isNil ? nil : try ModelBindings.weightFormat(a, "base")
            let targets = a["targets"].isNil ? nil : try a.list("targets").map { v -> String in
                guard case .string(let s) = v else { throw a.error("targets must be a list of strings") }
                return s
            }
            guard a.int("rank") > 0 else { throw a.error("rank must be positive, got \(a.int("rank"))") }
            // Not while a server running in the background (serve()) decodes with the model.
            m.inUse.lock()
            defer { m.inUse.unlock() }
            try m.addLoRA(rank: a.int("rank"), alpha: Float(a.number("alpha")), targets: targets, dropout: Float(a.number("dropout")), seed: UInt64(truncatingIfNeeded: a.int("seed")))
            if let base { try m.keepBase(in: base.format) }
            return a["self"]
        }
        method("merge", [], returns: "Model", "Folds every LoRA adapter into its weight (W + (alpha/rank)·BA); the model then runs as fast as the base.",
               "m.merge()") { m, a in
            guard !m.loraParameters.isEmpty else { throw a.error("the model has no LoRA adapters to merge") }
            m.inUse.lock()
            defer { m.inUse.unlock() }
            try m.mergeLoRA()
            return a["self"]
        }
        method("fuse", [Param("path", .string, doc: "a .gguf file, or a directory for the Hugging Face layout"),
                        Param("type", .string, default: .string("f32"), doc: "as in save: \"f32\", \"f16\"; for GGUF also \"q8_0\", \"q4_0\", \"q4_k\""),
                        Param("check", .bool, default: .bool(true), doc: "compare the merged model with the unmerged one first; refuse to write if they differ"),
                        Param("probes", .optional(.list), default: .nil, doc: "prompts to check on (default: the first prompts of the last train() data; without training, two general prompts)"),
                        Param("tokens", .int, default: .number(16), doc: "greedy tokens compared per probe"),
                        Param("tolerance", .number, default: .number(1e-3), doc: "largest |Δlogit| allowed"),
                        Param("modelfile", .bool, default: .bool(false), doc: "also write an Ollama Modelfile beside a GGUF file")],
               returns: "dict",
               "Writes the model with its LoRA adapters merged, after checking that merging kept what they learned: on probe prompts the merged model's greedy continuations must equal the unmerged model's and its logits stay within the tolerance, or nothing is written and the error says what differs. The model itself keeps its adapters.",
               "m.fuse(\"tuned.gguf\", type: \"q8_0\", modelfile: true)") { m, a in
            let path = a.string("path"), gguf = path.hasSuffix(".gguf")
            guard !m.loraParameters.isEmpty else { throw a.error("the model has no LoRA adapters to fuse (save() writes it as it is)") }
            let write = try ModelBindings.saveWriter(m, a)
            guard a.int("tokens") >= 1, a.number("tolerance") > 0 else { throw a.error("tokens and tolerance must be positive") }
            if a.bool("modelfile"), !gguf { throw a.error("modelfile: true needs a .gguf path (Ollama imports GGUF)") }
            var probes = m.trainingProbes
            if case .list(let list) = a["probes"] {
                guard let tokenizer = m.tokenizer else { throw a.error("probes as text need the model's tokenizer") }
                probes = try list.items.map { v in
                    guard case .string(let s) = v, !s.isEmpty else { throw a.error("probes must be non-empty strings") }
                    return tokenizer.encode(s)
                }
            }
            if probes.isEmpty, let tokenizer = m.tokenizer {
                probes = ["The capital of France is", "Question: What is finetuning?\nAnswer:"].map { tokenizer.encode($0) }
            }
            var check = FuseCheck()
            do {
                if a.bool("check") {
                    check = try m.checkFuse(probes: probes, tokens: a.int("tokens"), tolerance: Float(a.number("tolerance")), whenMerged: write)
                } else {
                    try m.withAdaptersMerged(write)
                }
            } catch let e as ModelError { throw a.error(e.description) }
            if let failure = check.failure { throw a.error("not written: merging the adapters changed the model: \(failure)") }
            var lines = [a.bool("check") ? "checked on \(check.probes) probe prompts: the same \(check.tokens)-token greedy continuations, logits within \(String(format: "%.2g", Double(check.maxLogitDifference)))" : "not checked (check: false)"]
            lines.append("wrote \(path)")
            if a.bool("modelfile") {
                let (modelfile, template) = try OllamaModelfile.write(besides: path, tokenizer: m.tokenizer)
                lines.append("wrote \(modelfile)" + (template ? "" : " (without TEMPLATE: this chat template has no Ollama translation here)"))
            }
            a.interpreter.output(lines.joined(separator: "\n") + "\n")
            return .dict(try DictRef([(.string("path"), .string(path)), (.string("probes"), .number(Double(check.probes))),
                                      (.string("tokens"), .number(Double(check.tokens))),
                                      (.string("max_logit_diff"), .number(Double("\(check.maxLogitDifference)")!))]))  // the Float's shortest digits
        }
        method("save_adapter", [Param("path", .string, doc: "a directory, or a file ending in .gguf")], returns: "nil",
               "Writes the LoRA adapters: into a directory in PEFT's layout (adapter_config.json + adapter_model.safetensors), which Hugging Face's peft reads, or to a .gguf file in llama.cpp's adapter layout (llama-cli -m base.gguf --lora a.gguf).",
               "m.save_adapter(\"my-adapter\")") { m, a in
            try m.saveAdapter(path: a.string("path")); return .nil
        }
        method("load_adapter", [Param("path", .string, doc: "a directory in PEFT's layout, or a GGUF adapter file")], returns: "Model",
               "Reads LoRA adapters saved by save_adapter (or by peft, or llama.cpp's convert_lora_to_gguf.py) onto this model, replacing any it has.",
               "m.load_adapter(\"my-adapter\")") { m, a in
            try m.loadAdapter(path: a.string("path")); return a["self"]
        }
        method("freeze", [Param("pattern", .optional(.string), default: .nil, doc: "a glob over parameter names, e.g. \"model.layers.*\" (default: all)")],
               returns: "number", "Stops training the matching parameters; returns how many tensors matched.",
               "m.freeze(\"model.embed_tokens.*\")") { m, a in
            .number(Double(try m.setTrainable(false, matching: a.optionalString("pattern"))))
        }
        method("unfreeze", [Param("pattern", .optional(.string), default: .nil, doc: "a glob over parameter names (default: all)")],
               returns: "number", "Trains the matching parameters again (partial finetuning: freeze all, then unfreeze some); returns how many matched.",
               "m.freeze(); m.unfreeze(\"model.layers.2?.*\")") { m, a in
            .number(Double(try m.setTrainable(true, matching: a.optionalString("pattern"))))
        }
        t.property("adapters", doc: "Number of LoRA adapter parameters (0 without LoRA).") { o in
            .number(Double((o.value as! LanguageModel).loraParameters.reduce(0) { $0 + $1.tensor.count }))
        }
    }
}
