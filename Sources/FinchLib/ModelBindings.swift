import FinchLang
import FinchModel
import FinchTensor
import FinchText
import Foundation

/// Models in the language: load_model, model, and the Model type (generate, chat, forward, summary, params).
enum ModelBindings {
    static let type: NativeType = {
        let t = NativeType(name: "Model", doc: "A language model of one of Finch's families (\(Architectures.names.joined(separator: ", "))) in float32. Load one with load_model() or make a fresh one with model().")
        define(t)
        // The training methods (lora, freeze, ...) live with training; added here, inside the one
        // initialisation, because registries made on several threads at once share this type.
        TrainBindings.defineModelMethods(t)
        return t
    }()

    static func wrap(_ m: LanguageModel) -> Value { .object(NativeObject(type: type, value: m)) }

    static func register(in r: Registry) {
        r.section("Models")
        r.register(NativeFunction("load_model", [Param("model", .string, default: .string("smollm2-135m"),
                                                       doc: "\"smollm2-135m\" (downloaded on first use), a .gguf file, or a Hugging Face directory (config.json + safetensors)"),
                                                 Param("tokenizer", .bool, default: .bool(true), doc: "false loads the weights alone, without the file's tokenizer"),
                                                 Param("base", .string, default: .string("f32"), doc: "\"q8_0\" or \"q4_1\" keeps every projection's weight frozen in those blocks as it is read, for LoRA over a quantized base (a quarter or a sixth of the memory); \"f32\" keeps everything float32")],
                                  returns: "Model", doc: "Loads a pretrained model (\(Architectures.names.joined(separator: ", "))) and its tokenizer; quantised weights are dequantised to float32 (unless base keeps the projections in blocks).",
                                  example: "m = load_model(\"smollm2-135m\")") { a in
            let base = try weightFormat(a, "base")
            let path = try ModelStore.resolve(a.string("model"))
            do {
                return wrap(try LanguageModel.load(path, tokenizer: a.bool("tokenizer"), base: base.format))
            } catch let e as TokenizerError {
                throw a.error("\(e) (load_model(\(Value.quote(a.string("model"))), tokenizer: false) loads the weights without it)")
            }
        })
        r.register(NativeFunction("model", [Param("vocab", .int, doc: "vocabulary size (a tokenizer's vocab_size)"),
                                            Param("architecture", .string, default: .string("llama"),
                                                  doc: "the family: \(Architectures.names.joined(separator: ", "))"),
                                            Param("dim", .int, default: .number(64), doc: "width of the residual stream"),
                                            Param("layers", .int, default: .number(2)), Param("heads", .int, default: .number(4)),
                                            Param("kv_heads", .optional(.int), default: .nil, doc: "key/value heads (default: heads)"),
                                            Param("head_dim", .optional(.int), default: .nil, doc: "width of one head (default: dim / heads)"),
                                            Param("ffn", .optional(.int), default: .nil, doc: "MLP width (default: 8/3 × dim rounded up to a multiple of 32 for SwiGLU families, 4 × dim for gpt2 and gpt_neox)"),
                                            Param("context", .int, default: .number(256), doc: "longest sequence"),
                                            Param("rope_theta", .number, default: .number(10000)),
                                            Param("tokenizer", .optional(.object("Tokenizer")), default: .nil, doc: "the tokenizer generate() and chat() use"),
                                            Param("seed", .int, default: .number(0))],
                                  returns: "Model", doc: "A freshly initialised model of one of the families (weights normal with std 0.02), for pretraining from scratch and for tests.",
                                  example: "tiny = model(vocab: 300, dim: 64, layers: 2, heads: 4, context: 128)") { a in
            let dim = a.int("dim"), architecture = a.string("architecture")
            guard let family = Architectures.named(architecture) else {
                throw a.error("architecture \(Value.quote(architecture)) is not supported (supported: \(Architectures.names.joined(separator: ", ")))")
            }
            let config = ModelConfig(architecture: architecture, vocab: a.int("vocab"), dim: dim, layers: a.int("layers"), heads: a.int("heads"),
                                     kvHeads: a.optionalInt("kv_heads"), ffn: a.optionalInt("ffn") ?? family.defaultFFN(dim: dim),
                                     context: a.int("context"), ropeTheta: a.number("rope_theta"), headDim: a.optionalInt("head_dim"))
            do {
                return wrap(try LanguageModel.random(config, seed: UInt64(truncatingIfNeeded: a.int("seed")), tokenizer: a.object("tokenizer", as: Tokenizer.self)))
            } catch let e as ModelError {
                throw a.error(e.description.replacingOccurrences(of: "model: ", with: ""))
            }
        })
        r.register(type)
        TableBindings.register(in: r)
    }

    /// The generation options shared by generate and chat, after their first two parameters.
    static let generationParams: [Param] = [
        Param("max_tokens", .int, default: .number(128), doc: "most new tokens"),
        Param("temperature", .number, default: .number(0), doc: "0 is greedy; higher is more random"),
        Param("top_k", .int, default: .number(0), doc: "sample from the k most likely tokens (0: all)"),
        Param("top_p", .number, default: .number(1), doc: "sample from the most likely tokens covering probability p"),
        Param("repetition_penalty", .number, default: .number(1), doc: "above 1 discourages repeating tokens"),
        Param("stop", .optional(.list), default: .nil, doc: "strings that end the answer (not included)"),
        Param("seed", .optional(.int), default: .nil, doc: "seed for sampling (default: from manual_seed)"),
        Param("stream", .bool, default: .bool(true), doc: "print the text as it is produced"),
        Param("weights", .string, default: .string("q8_0"), doc: "weights of the decoding steps: \"q8_0\" (fast), \"q4_1\" (faster, coarser) or \"f32\" (exact)"),
    ]

    /// A weight format argument: `weights` of generate, chat and serve, `base` of load_model and lora.
    static func weightFormat(_ a: Arguments, _ name: String = "weights") throws -> WeightFormat {
        guard let weights = WeightFormat(rawValue: a.string(name).lowercased()) else {
            throw a.error("\(name) must be \"q8_0\", \"q4_1\" or \"f32\", got \(Value.quote(a.string(name)))")
        }
        return weights
    }

    static func options(_ a: Arguments) throws -> GenerationOptions {
        var o = GenerationOptions()
        o.maxTokens = a.int("max_tokens")
        o.temperature = Float(a.number("temperature"))
        o.topK = a.int("top_k")
        o.topP = Float(a.number("top_p"))
        o.repetitionPenalty = Float(a.number("repetition_penalty"))
        o.stop = try a.list("stop").map { v in
            guard case .string(let s) = v else { throw a.error("stop must be a list of strings, got \(article(v.typeName)) in it") }
            return s
        }
        o.seed = a.optionalInt("seed").map { UInt64(truncatingIfNeeded: $0) }
        o.decodeWeights = try weightFormat(a)
        do { try o.validate() } catch let e as ModelError { throw a.error(e.description) }
        return o
    }

    /// Checks `path` and `type` as save() and fuse() take them, and returns what writes the model
    /// there: a GGUF file in that type, or a Hugging Face directory in f32 or f16.
    static func saveWriter(_ m: LanguageModel, _ a: Arguments) throws -> () throws -> Void {
        let path = a.string("path"), type = a.string("type").lowercased()
        if path.hasSuffix(".gguf") {
            guard let t = [("f32", GGUFType.f32), ("f16", .f16), ("q8_0", .q8_0), ("q4_0", .q4_0), ("q4_k", .q4_K)].first(where: { $0.0 == type })?.1 else {
                throw a.error("type must be \"f32\", \"f16\", \"q8_0\", \"q4_0\" or \"q4_k\" for GGUF, got \(Value.quote(type))")
            }
            return { try m.saveGGUF(path: path, type: t) }
        }
        guard type == "f32" || type == "f16" else { throw a.error("type must be \"f32\" or \"f16\" for safetensors, got \(Value.quote(type))") }
        return { try m.save(directory: path, dtype: type.uppercased()) }
    }

    /// Runs a generation with streaming to the interpreter's output and Ctrl-C stopping it.
    static func run(_ a: Arguments, _ m: LanguageModel, stream: Bool, _ generate: (((String) -> Void)?, () -> Bool) throws -> Generation) throws -> Value {
        // One user of a model at a time: a server running in the background (serve()) shares it.
        m.inUse.lock()
        defer { m.inUse.unlock() }
        let out = a.interpreter.output
        var printed = false
        let g = try generate(stream ? { text in printed = true; out(text) } : nil, { Interrupt.requested })
        if g.finishReason == .interrupted {
            Interrupt.clear()
            out((printed ? " " : "") + "[stopped by Ctrl-C after \(g.ids.count) tokens]\n")
        } else if printed {
            out("\n")
        }
        if stream { a.interpreter.resultShown = true }
        return .string(g.text)
    }

    private static func define(_ t: NativeType) {
        func method(_ name: String, _ params: [Param], returns: String, _ doc: String, _ example: String,
                    _ body: @escaping (LanguageModel, Arguments) throws -> Value) {
            t.method(name, on: LanguageModel.self, params, returns: returns, doc, example, body)
        }
        method("generate", [Param("prompt", .string)] + generationParams, returns: "string",
               "Continues a prompt, printing the text as it comes; stops at end-of-sequence, a stop string, max_tokens or Ctrl-C (keeping what was produced).",
               "m.generate(\"The capital of France is\", max_tokens: 8)") { m, a in
            let options = try options(a)
            return try run(a, m, stream: a.bool("stream")) { onText, stop in
                try m.generate(a.string("prompt"), options: options, onText: onText, shouldStop: stop)
            }
        }
        // The registry's text feeds the lessons' data (finch_docs.jsonl, which lesson 05 trains on):
        // it stays as recorded until the lessons are re-recorded on the machines CI replays them on.
        method("chat", [Param("messages", .oneOf([.string, .list]), doc: "a question, or a list of {role, content} dicts")] + generationParams,
               returns: "string", "The model's reply to a conversation, formatted with its chat template (ChatML for SmolLM2).",
               "m.chat(\"What is the capital of France?\", max_tokens: 20)") { m, a in
            let msgs = try ChatValues.messages(a["messages"], a)
            let options = try options(a)
            return try run(a, m, stream: a.bool("stream")) { onText, stop in
                try m.chat(msgs, options: options, onText: onText, shouldStop: stop)
            }
        }
        method("forward", [Param("ids", .any, doc: "token ids: a list, or a tensor [tokens] or [batch, tokens]")], returns: "Tensor",
               "The logits for every position: [tokens, vocab] or [batch, tokens, vocab]. Records gradients unless inside no_grad.",
               "m.forward(m.tokenizer.encode(\"Hello\"))") { m, a in
            let ids = try Convert.tensor(a["ids"], "ids")
            guard ids.rank == 1 || ids.rank == 2 else { throw a.error("ids must be [tokens] or [batch, tokens], got shape \(ids.shape)") }
            let logits = try m.forward(ids.rank == 1 ? ids.unsqueeze(0) : ids)
            return TensorBindings.wrap(ids.rank == 1 ? try logits.squeeze(0) : logits)
        }
        method("save", [Param("path", .string, doc: "a .gguf file, or a directory for the Hugging Face layout"),
                        Param("type", .string, default: .string("f32"), doc: "\"f32\" or \"f16\"; for GGUF also \"q8_0\", \"q4_0\" and \"q4_k\" (llama.cpp's formats)")],
               returns: "nil", "Writes the model: a GGUF file that llama.cpp reads, or a directory with config.json, model.safetensors and the tokenizer (Hugging Face's layout). Writes are atomic.",
               "m.save(\"my-model.gguf\", type: \"q8_0\")") { m, a in
            try saveWriter(m, a)()
            return .nil
        }
        t.property("tokenizer", doc: "The model's tokenizer, or nil.") { o in
            (o.value as! LanguageModel).tokenizer.map(TextBindings.wrap) ?? .nil
        }
        t.property("config", doc: "The architecture's numbers as a dict.") { o in
            let c = (o.value as! LanguageModel).config
            let pairs: [(String, Value)] = [
                ("architecture", .string(c.architecture)), ("vocab", .number(Double(c.vocab))), ("dim", .number(Double(c.dim))),
                ("layers", .number(Double(c.layers))), ("heads", .number(Double(c.heads))), ("kv_heads", .number(Double(c.kvHeads))),
                ("ffn", .number(Double(c.ffn))), ("context", .number(Double(c.context))), ("rope_theta", .number(c.ropeTheta)),
                ("rms_eps", .number(c.normEpsilon)), ("tied_embeddings", .bool(c.tiedEmbeddings)),
                ("head_dim", .number(Double(c.headDim))), ("rotary_dim", .number(Double(c.rotaryDim))),
                ("sliding_window", c.slidingWindow.map { .number(Double($0)) } ?? .nil), ("attention_bias", .bool(c.attentionBias)),
                ("lora_targets", .list(c.family.linears.map { .string($0.short) })),
            ]
            return .dict(try DictRef(pairs.map { (.string($0), $1) }))
        }
        t.property("parameters", doc: "Number of parameters.") { o in .number(Double((o.value as! LanguageModel).parameterCount)) }
        t.property("trainable", doc: "Number of parameters that train.") { o in .number(Double((o.value as! LanguageModel).trainableCount)) }
        t.property("params", doc: "Every parameter tensor: a table of name, shape, count, whether it trains, and how it is kept (\"f32\", or a frozen projection's \"q8_0\" or \"q4_1\" blocks).") { o in
            let m = o.value as! LanguageModel
            return TableBindings.wrap(Table(columns: ["name", "shape", "count", "trainable", "format"], rows: m.weights.map { p in
                [.string(p.name), .list(p.weight.shape.map { .number(Double($0)) }), .number(Double(p.weight.count)), .bool(p.weight.requiresGrad),
                 .string(p.weight.format?.rawValue ?? "f32")]
            }))
        }
        t.property("summary", doc: "Architecture, layers, parameters (total and trainable) and memory, as text.") { o in
            .string((o.value as! LanguageModel).summary)
        }
        t.describe = { o in
            let m = o.value as! LanguageModel
            let memory = String(format: "%.1f MB", Double(m.weightBytes) / 1e6)
            return "<Model \(m.config.architecture): \(m.config.layers) layers, dim \(m.config.dim), \(LanguageModel.millions(m.parameterCount)) parameters (\(LanguageModel.millions(m.trainableCount)) trainable), \(memory)>"
        }
    }
}
