import FinchTensor
import FinchText

extension ModelConfig {
    /// The configuration a GGUF file's metadata describes (`{arch}.block_count`, ...).
    public init(gguf file: GGUFFile) throws {
        guard let arch = file.metadata["general.architecture"]?.string else {
            throw GGUFError(path: file.path, offset: 0, message: "no general.architecture in the metadata")
        }
        guard ModelConfig.architectures.contains(arch) else {
            throw GGUFError(path: file.path, offset: 0, message: "architecture \"\(arch)\" is not supported (supported: \(ModelConfig.architectures.joined(separator: ", ")))")
        }
        func int(_ key: String) throws -> Int {
            guard let v = try file.require("\(arch).\(key)").int else {
                throw GGUFError(path: file.path, offset: 0, message: "\(arch).\(key) is not an integer")
            }
            return v
        }
        let embedding = file.tensors.first { $0.name == "token_embd.weight" }
        let vocab = file.metadata["\(arch).vocab_size"]?.int ?? embedding?.dimensions.last
            ?? file.metadata["tokenizer.ggml.tokens"]?.array?.count ?? 0
        let heads = try int("attention.head_count")
        self.init(architecture: arch, vocab: vocab, dim: try int("embedding_length"), layers: try int("block_count"),
                  heads: heads, kvHeads: file.metadata["\(arch).attention.head_count_kv"]?.int ?? heads,
                  ffn: try int("feed_forward_length"), context: try int("context_length"),
                  ropeTheta: file.metadata["\(arch).rope.freq_base"]?.double ?? 10000,
                  rmsEps: Float(file.metadata["\(arch).attention.layer_norm_rms_epsilon"]?.double ?? 1e-5),
                  tiedEmbeddings: !file.tensors.contains { $0.name == "output.weight" },
                  attentionBias: file.tensors.contains { $0.name == "blk.0.attn_q.bias" })
        try validate(file.path)
        // Checked before anything is built for it: a corrupt count must not make millions of layers.
        guard layers * 9 + 2 <= file.tensors.count else {
            throw GGUFError(path: file.path, offset: 0, message: "\(arch).block_count is \(layers), but the file holds only \(file.tensors.count) tensors")
        }
    }
}

extension LanguageModel {
    /// Loads a llama-family model (and its tokenizer) from a GGUF file, dequantising every
    /// tensor to Float32 straight from the mapped file.
    public convenience init(gguf path: String) throws {
        try self.init(gguf: GGUFFile(path: path))
    }

    /// Loads a llama-family model from an opened GGUF file.
    public convenience init(gguf file: GGUFFile) throws {
        let path = file.path
        let config = try ModelConfig(gguf: file)
        let shapes = Dictionary(ParameterNames.expected(config).map { ($0.name, $0.shape) }, uniquingKeysWith: { a, _ in a })
        let tokenizer = file.metadata["tokenizer.ggml.tokens"] == nil ? nil : try Tokenizer(gguf: file)
        var tensors: [String: Tensor] = [:]
        let expected = Set(shapes.keys)
        // Only llama's GGUF q and k are stored in rotary pairs; qwen2's are not (llama.cpp rotates its halves).
        let permuted = config.architecture == "llama"
        for info in file.tensors {
            guard let name = ParameterNames.hf(fromGGUF: info.name), expected.contains(name) else { continue }
            guard Array(info.dimensions.reversed()) == shapes[name] else {
                throw GGUFError(path: path, offset: file.dataOffset + info.offset,
                                message: "tensor \(info.name) has dimensions \(info.dimensions), but this configuration needs \(shapes[name]!.reversed() as [Int])")
            }
            var t = try file.tensor(info)
            if permuted, name.hasSuffix("q_proj.weight") || name.hasSuffix("q_proj.bias") {
                t = try RotaryLayout.pairsToHalves(t, heads: config.heads)
            } else if permuted, name.hasSuffix("k_proj.weight") || name.hasSuffix("k_proj.bias") {
                t = try RotaryLayout.pairsToHalves(t, heads: config.kvHeads)
            }
            tensors[name] = t
        }
        for (name, _) in ParameterNames.expected(config) where tensors[name] == nil {
            throw GGUFError(path: path, offset: 0, message: "the tensor \(ParameterNames.gguf(fromHF: name) ?? name) that a \(config.architecture) model needs is missing")
        }
        try self.init(config: config, tensors: tensors, tokenizer: tokenizer, source: path)
    }
}
