import FinchIO
import FinchTensor
import FinchText
import Foundation

extension ModelConfig {
    /// The configuration a Hugging Face config.json describes, read by the family its model_type names.
    public init(huggingFace j: [String: Any], source: String) throws {
        let reader = ConfigReader(json: j, source: source)
        let type = reader.string("model_type") ?? "llama"
        guard let family = Architectures.named(type) else {
            throw ModelError("\(source): model_type \"\(type)\" is not supported (supported: \(Architectures.names.joined(separator: ", ")))")
        }
        self = try family.config(huggingFace: reader)
        try validate(source)
    }

    /// Hugging Face's config.json for this configuration: the family's keys and the common ones.
    public func huggingFaceJSON(bos: Int?, eos: Int?, pad: Int? = nil) -> [String: Any] {
        var j = family.huggingFaceJSON(self)
        j["architectures"] = [family.hfClass]
        j["model_type"] = family.name
        j["torch_dtype"] = "float32"
        // Written even when there is none: classes otherwise assume their own (GPT-2's 50256,
        // Phi-3's padding 32000), beyond a small vocabulary.
        for (key, id) in [("bos_token_id", bos), ("eos_token_id", eos), ("pad_token_id", pad)] { j[key] = id.map { $0 as Any } ?? NSNull() }
        return j
    }
}

extension ModelConfig {
    /// config.json's text, with whole-valued floats written as 5.0 rather than 5: transformers
    /// checks its float fields strictly (Gemma 2's soft caps), as Python's json writes them.
    static func jsonData(_ j: [String: Any]) throws -> Data {
        let marker = "__finch_float__"
        func mark(_ v: Any) -> Any {
            if let d = v as? Double, d.isFinite, d == d.rounded(), Swift.abs(d) < 1e15 { return marker + String(format: "%.1f", d) }
            if let dict = v as? [String: Any] { return dict.mapValues(mark) }
            if let list = v as? [Any] { return list.map(mark) }
            return v
        }
        let data = try JSONSerialization.data(withJSONObject: mark(j), options: [.sortedKeys, .prettyPrinted])
        let text = String(decoding: data, as: UTF8.self)
            .replacingOccurrences(of: "\"\(marker)([-0-9.]+)\"", with: "$1", options: .regularExpression)
        return Data(text.utf8)
    }
}

extension LanguageModel {
    /// Loads a model from a .gguf file, a Hugging Face directory (config.json, *.safetensors,
    /// tokenizer.json) or a .safetensors file with config.json beside it. `tokenizer: false`
    /// leaves the tokenizer out (one Finch cannot read yet need not keep the weights out). `base`
    /// keeps every projection's weight frozen in that block format, from the moment it is read (LoRA over a quantized base).
    public static func load(_ path: String, tokenizer: Bool = true, base: QuantFormat? = nil) throws -> LanguageModel {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ModelError("\(path): no such file or directory")
        }
        if isDirectory.boolValue { return try LanguageModel(directory: path, tokenizer: tokenizer, base: base) }
        if path.hasSuffix(".safetensors") {
            return try LanguageModel(directory: (path as NSString).deletingLastPathComponent, files: [path], tokenizer: tokenizer, base: base)
        }
        return try LanguageModel(gguf: GGUFFile(path: path), tokenizer: tokenizer, base: base)
    }

    /// A model in the Hugging Face layout: config.json, the weights in one or several (sharded)
    /// safetensors files, and tokenizer.json if present.
    public convenience init(directory: String, files: [String]? = nil, tokenizer readTokenizer: Bool = true, base: QuantFormat? = nil) throws {
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
        var entries: [String: (file: SafetensorsFile, entry: SafetensorsFile.Entry)] = [:]
        for path in weightFiles {
            let file = try SafetensorsFile(path: path)
            for e in file.entries { entries[e.name] = (file, e) }
        }
        var weights: [String: Weight] = [:]
        for spec in config.family.tensors(config) {
            // A base checkpoint (GPT2Model rather than GPT2LMHeadModel) names its tensors without the first part.
            let bare = spec.name.split(separator: ".", maxSplits: 1).last.map(String.init) ?? spec.name
            guard let (file, e) = entries[spec.name] ?? entries[bare] else { continue }
            let expected = spec.hfLayout.fileShape(spec.shape)
            guard e.shape == expected else {
                throw ModelError("\(file.path): \(e.name) has shape \(e.shape), expected \(expected) for this configuration")
            }
            weights[spec.name] = try .loaded(spec.hfLayout.fromFile(file.tensor(e)), name: spec.name, family: config.family, base: base)
        }
        let tokenizerPath = directory + "/tokenizer.json"
        let tokenizer = readTokenizer && FileManager.default.fileExists(atPath: tokenizerPath) ? try Tokenizer(jsonFile: tokenizerPath) : nil
        try self.init(config: config, weights: weights, tokenizer: tokenizer, source: directory)
    }

    /// Writes the Hugging Face layout into `directory`: config.json, model.safetensors (F32 or F16)
    /// and the tokenizer's files. Each file is written atomically.
    public func save(directory: String, dtype: String = "F32") throws {
        try AtomicFile.makeDirectory(directory)
        let tensors = fileTensors(\.hfLayout).map { ($0.spec.name, $0.tensor) }
        try SafetensorsFile.write(path: directory + "/model.safetensors", tensors: tensors, dtype: dtype)
        let json = config.huggingFaceJSON(bos: tokenizer?.bosId, eos: tokenizer?.eosId, pad: tokenizer?.padId)
        try AtomicFile.write(try ModelConfig.jsonData(json), to: directory + "/config.json")
        try tokenizer?.save(directory: directory)
    }

    /// Writes a GGUF file that llama.cpp and the gguf package read: the metadata, the tokenizer,
    /// and the weights in `type` (F32, F16, Q8_0, Q4_0 or Q4_K; norms stay F32), each in the layout llama.cpp expects.
    public func saveGGUF(path: String, type: GGUFType = .f32) throws {
        let c = config, a = family.ggufName
        // llama.cpp's llama_ftype: ALL_F32, MOSTLY_F16, MOSTLY_Q4_0, MOSTLY_Q8_0, MOSTLY_Q4_K_S.
        let fileType: UInt64 = [GGUFType.f32: 0, .f16: 1, .q4_0: 2, .q8_0: 7, .q4_K: 14][type] ?? 0
        var meta: [(String, GGUFValue)] = [
            ("general.architecture", .string(a)), ("general.name", .string(URL(fileURLWithPath: source).deletingPathExtension().lastPathComponent)),
            ("general.file_type", .uint(fileType)),
            ("\(a).vocab_size", .uint(UInt64(c.vocab))), ("\(a).context_length", .uint(UInt64(c.context))),
            ("\(a).embedding_length", .uint(UInt64(c.dim))), ("\(a).block_count", .uint(UInt64(c.layers))),
            ("\(a).feed_forward_length", .uint(UInt64(c.ffn))), ("\(a).attention.head_count", .uint(UInt64(c.heads))),
            ("\(a).attention.head_count_kv", .uint(UInt64(c.kvHeads))),
        ]
        meta += family.ggufMetadata(c)
        if let t = tokenizer { meta += try t.ggufMetadata() }
        var entries = fileTensors(\.ggufLayout).map { GGUFWriter.Entry(name: $0.spec.gguf, tensor: $0.tensor, type: type) }
        if let scaling = c.ropeScaling {
            let (key, tensor) = try scaling.gguf(c)
            meta.append(key)
            entries.append(GGUFWriter.Entry(name: tensor.0, tensor: tensor.1, type: .f32))
        }
        try GGUFWriter.write(path: path, metadata: meta, tensors: entries)
    }

    /// Every weight in the file layout `layout` picks from its spec, widened and laid out only
    /// when a writer reaches it.
    private func fileTensors(_ layout: @escaping (TensorSpec) -> FileLayout) -> [(spec: TensorSpec, tensor: DeferredTensor)] {
        zip(specs, weights).map { spec, p in
            (spec, DeferredTensor(shape: layout(spec).fileShape(p.weight.shape)) { try layout(spec).toFile(p.weight.floats()) })
        }
    }
}

extension Tokenizer {
    /// The `tokenizer.ggml.*` metadata that describes this tokenizer in a GGUF file: byte-level BPE as
    /// "gpt2" with llama.cpp's name for its pre-tokenizer, SentencePiece-style BPE as "llama" with scores.
    func ggufMetadata() throws -> [(String, GGUFValue)] {
        var meta: [(String, GGUFValue)] = [("tokenizer.ggml.tokens", .array(tokens.map { .string($0) })),
                                           ("tokenizer.ggml.token_type", .array(tokenTypes.map { .int(Int64($0)) }))]
        if preTokenizer.isByteLevel {
            guard let pre = preTokenizer.ggufName, normalizer == nil else {
                throw TokenizerError("this tokenizer's pipeline (\(preTokenizer.summary)) has no GGUF pre-tokenizer name llama.cpp knows; save it as a Hugging Face folder")
            }
            meta += [("tokenizer.ggml.model", .string("gpt2")), ("tokenizer.ggml.pre", .string(pre)),
                     ("tokenizer.ggml.merges", .array(mergeList.map { .string($0) }))]
        } else {
            guard options.byteFallback else {
                throw TokenizerError("this tokenizer is neither byte-level nor SentencePiece-style with byte fallback; save it as a Hugging Face folder")
            }
            meta += [("tokenizer.ggml.model", .string("llama")), ("tokenizer.ggml.scores", .array(sentencePieceScores.map { .float(Double($0)) })),
                     ("tokenizer.ggml.add_space_prefix", .bool(addsSpacePrefix))]
        }
        meta += [("tokenizer.ggml.add_bos_token", .bool(addBOS)), ("tokenizer.ggml.add_eos_token", .bool(addEOS))]
        for (key, id) in [("bos", bosId), ("eos", eosId), ("unknown", unknownId), ("padding", padId)] {
            if let id { meta.append(("tokenizer.ggml.\(key)_token_id", .uint(UInt64(id)))) }
        }
        if let t = chatTemplate { meta.append(("tokenizer.chat_template", .string(t))) }
        return meta
    }
}
