import FinchIO
import FinchTensor
import FinchText
import Foundation

extension ModelConfig {
    /// Hugging Face's config.json for this configuration.
    public func huggingFaceJSON(bos: Int?, eos: Int?) -> [String: Any] {
        var j: [String: Any] = [
            "architectures": [architecture == "qwen2" ? "Qwen2ForCausalLM" : "LlamaForCausalLM"], "model_type": architecture,
            "vocab_size": vocab, "hidden_size": dim, "intermediate_size": ffn, "num_hidden_layers": layers,
            "num_attention_heads": heads, "num_key_value_heads": kvHeads, "max_position_embeddings": context,
            "rope_theta": ropeTheta, "rms_norm_eps": Double("\(rmsEps)") ?? Double(rmsEps), "tie_word_embeddings": tiedEmbeddings,
            "hidden_act": "silu", "torch_dtype": "float32", "attention_bias": attentionBias,
        ]
        if let bos { j["bos_token_id"] = bos }
        if let eos { j["eos_token_id"] = eos }
        return j
    }

    /// The configuration in a Hugging Face config.json.
    public init(huggingFace j: [String: Any], source: String) throws {
        func int(_ key: String) throws -> Int {
            guard let v = (j[key] as? NSNumber)?.intValue else { throw ModelError("\(source): config.json has no integer \(key)") }
            return v
        }
        let type = j["model_type"] as? String ?? "llama"
        guard ModelConfig.architectures.contains(type) else {
            throw ModelError("\(source): model_type \"\(type)\" is not supported (supported: \(ModelConfig.architectures.joined(separator: ", ")))")
        }
        if let act = j["hidden_act"] as? String, act != "silu" { throw ModelError("\(source): hidden_act \"\(act)\" is not supported (only silu)") }
        let heads = try int("num_attention_heads")
        self.init(architecture: type, vocab: try int("vocab_size"), dim: try int("hidden_size"), layers: try int("num_hidden_layers"),
                  heads: heads, kvHeads: (j["num_key_value_heads"] as? NSNumber)?.intValue ?? heads, ffn: try int("intermediate_size"),
                  context: (j["max_position_embeddings"] as? NSNumber)?.intValue ?? 2048,
                  ropeTheta: (j["rope_theta"] as? NSNumber)?.doubleValue ?? 10000,
                  rmsEps: (j["rms_norm_eps"] as? NSNumber)?.floatValue ?? 1e-6,
                  tiedEmbeddings: (j["tie_word_embeddings"] as? Bool) ?? false,
                  attentionBias: (j["attention_bias"] as? Bool) ?? (type == "qwen2"))
        try validate(source)
    }
}

extension LanguageModel {
    /// Loads a model from a .gguf file, a Hugging Face directory (config.json, *.safetensors,
    /// tokenizer.json) or a .safetensors file with config.json beside it.
    public static func load(_ path: String) throws -> LanguageModel {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ModelError("\(path): no such file or directory")
        }
        if isDirectory.boolValue { return try LanguageModel(directory: path) }
        if path.hasSuffix(".safetensors") { return try LanguageModel(directory: (path as NSString).deletingLastPathComponent, files: [path]) }
        return try LanguageModel(gguf: path)
    }

    /// A model in the Hugging Face layout: config.json, the weights in safetensors, and tokenizer.json if present.
    public convenience init(directory: String, files: [String]? = nil) throws {
        let configPath = directory + "/config.json"
        guard let data = FileManager.default.contents(atPath: configPath) else {
            throw ModelError("\(directory): no config.json (a Hugging Face model directory needs one)")
        }
        guard let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw ModelError("\(configPath): not a JSON object")
        }
        let config = try ModelConfig(huggingFace: json, source: configPath)
        let weightFiles = try files ?? FileManager.default.contentsOfDirectory(atPath: directory)
            .filter { $0.hasSuffix(".safetensors") && !$0.hasPrefix("adapter") }.sorted().map { directory + "/" + $0 }
        guard !weightFiles.isEmpty else { throw ModelError("\(directory): no .safetensors weights") }
        var tensors: [String: Tensor] = [:]
        let expected = Set(ParameterNames.expected(config).map(\.name))
        for file in weightFiles {
            let st = try SafetensorsFile(path: file)
            for e in st.entries where expected.contains(e.name) { tensors[e.name] = try st.tensor(e) }
        }
        let tokenizerPath = directory + "/tokenizer.json"
        let tokenizer = FileManager.default.fileExists(atPath: tokenizerPath) ? try Tokenizer(jsonFile: tokenizerPath) : nil
        try self.init(config: config, tensors: tensors, tokenizer: tokenizer, source: directory)
    }

    /// Writes the Hugging Face layout into `directory`: config.json, model.safetensors (F32 or F16)
    /// and the tokenizer's files. Each file is written atomically.
    public func save(directory: String, dtype: String = "F32") throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try SafetensorsFile.write(path: directory + "/model.safetensors", tensors: parameters.map { ($0.name, $0.tensor) }, dtype: dtype)
        let json = config.huggingFaceJSON(bos: tokenizer?.bosId, eos: tokenizer?.eosId)
        try AtomicFile.write(try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys, .prettyPrinted]), to: directory + "/config.json")
        try tokenizer?.save(directory: directory)
    }

    /// Writes a GGUF file that llama.cpp and the gguf package read: the metadata, the tokenizer,
    /// and the weights in `type` (F32, F16 or Q8_0; norms stay F32), q and k in llama's pair layout.
    public func saveGGUF(path: String, type: GGUFType = .f32) throws {
        let c = config, a = c.architecture
        let fileType: UInt64 = type == .f32 ? 0 : type == .f16 ? 1 : 7
        var meta: [(String, GGUFValue)] = [
            ("general.architecture", .string(a)), ("general.name", .string(URL(fileURLWithPath: source).deletingPathExtension().lastPathComponent)),
            ("general.file_type", .uint(fileType)),
            ("\(a).vocab_size", .uint(UInt64(c.vocab))), ("\(a).context_length", .uint(UInt64(c.context))),
            ("\(a).embedding_length", .uint(UInt64(c.dim))), ("\(a).block_count", .uint(UInt64(c.layers))),
            ("\(a).feed_forward_length", .uint(UInt64(c.ffn))), ("\(a).attention.head_count", .uint(UInt64(c.heads))),
            ("\(a).attention.head_count_kv", .uint(UInt64(c.kvHeads))), ("\(a).rope.freq_base", .float(c.ropeTheta)),
            ("\(a).rope.dimension_count", .uint(UInt64(c.headDim))),
            ("\(a).attention.layer_norm_rms_epsilon", .float(Double(c.rmsEps))),
        ]
        if let t = tokenizer { meta += t.ggufMetadata }
        var entries: [GGUFWriter.Entry] = []
        for (name, tensor) in parameters {
            var t = tensor
            if a == "llama", name.contains("q_proj") { t = try RotaryLayout.halvesToPairs(tensor, heads: c.heads) }
            if a == "llama", name.contains("k_proj") { t = try RotaryLayout.halvesToPairs(tensor, heads: c.kvHeads) }
            entries.append(GGUFWriter.Entry(name: ParameterNames.gguf(fromHF: name)!, tensor: t, type: type))
        }
        try GGUFWriter.write(path: path, metadata: meta, tensors: entries)
    }
}

extension Tokenizer {
    /// The `tokenizer.ggml.*` metadata that describes this tokenizer in a GGUF file.
    var ggufMetadata: [(String, GGUFValue)] {
        let special = Set(specialIds)
        var meta: [(String, GGUFValue)] = [
            ("tokenizer.ggml.model", .string("gpt2")), ("tokenizer.ggml.pre", .string(preTokenizer.rawValue)),
            ("tokenizer.ggml.tokens", .array(tokens.map { .string($0) })),
            ("tokenizer.ggml.token_type", .array(tokens.indices.map { .int(special.contains($0) ? 3 : 1) })),
            ("tokenizer.ggml.merges", .array(mergeList.map { .string($0) })),
            ("tokenizer.ggml.add_bos_token", .bool(addBOS)), ("tokenizer.ggml.add_eos_token", .bool(addEOS)),
        ]
        for (key, id) in [("bos", bosId), ("eos", eosId), ("unknown", unknownId), ("padding", padId)] {
            if let id { meta.append(("tokenizer.ggml.\(key)_token_id", .uint(UInt64(id)))) }
        }
        if let t = chatTemplate { meta.append(("tokenizer.chat_template", .string(t))) }
        return meta
    }
}
