import FinchTensor
import FinchText

extension ModelConfig {
    /// The configuration a GGUF file's metadata describes (`{arch}.block_count`, ...), read by its family.
    public init(gguf file: GGUFFile) throws { self = try ModelConfig.read(gguf: file) }

    private static func read(gguf file: GGUFFile) throws -> ModelConfig {
        guard let arch = file.metadata["general.architecture"]?.string else {
            throw GGUFError(path: file.path, offset: 0, message: "no general.architecture in the metadata")
        }
        guard let family = Architectures.gguf(arch) else {
            let known = Architectures.all.map { $0.ggufName }.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
            throw GGUFError(path: file.path, offset: 0, message: "architecture \"\(arch)\" is not supported (supported: \(known.joined(separator: ", ")))")
        }
        let embedding = file.tensors.first { $0.name == "token_embd.weight" }
        let vocab = embedding?.dimensions.last ?? file.metadata["tokenizer.ggml.tokens"]?.array?.count ?? 0
        var config: ModelConfig
        do { config = try family.config(gguf: ConfigReader(gguf: file, arch: arch, fallback: ["vocab_size": vocab])) } catch let e as ModelError {
            throw GGUFError(path: file.path, offset: 0, message: e.description.replacingOccurrences(of: "\(file.path): ", with: ""))
        }
        if config.ropeScaling == nil, !family.learnedPositions { config.ropeScaling = try RopeScaling.read(gguf: file, config: config) }
        try config.validate(file.path)
        // Checked before anything is built for it: a corrupt count must not make millions of layers.
        let needed = family.size(config).tensors
        guard needed <= file.tensors.count else {
            throw GGUFError(path: file.path, offset: 0, message: "\(arch).block_count is \(config.layers), but the file holds only \(file.tensors.count) tensors (a \(config.architecture) model of this size has \(needed))")
        }
        return config
    }
}

extension ModelConfig {
    /// The keys every family's GGUF holds alike (`saveGGUF` writes them for all): sizes, heads, rope
    /// base and rotary size, head size, the norm epsilon under the family's `epsilon` key, and
    /// whether an output head is present. A family's reader adds its own keys to this.
    static func ggufCommon(_ m: ConfigReader, _ name: String, epsilon: String) throws -> ModelConfig {
        let heads = try m.int("attention.head_count"), dim = try m.int("embedding_length")
        return ModelConfig(architecture: name, vocab: try m.int("vocab_size"), dim: dim, layers: try m.int("block_count"), heads: heads,
                           kvHeads: try m.optionalInt("attention.head_count_kv") ?? heads, ffn: try m.int("feed_forward_length"),
                           context: try m.int("context_length"), ropeTheta: try m.double("rope.freq_base") ?? 10000,
                           rmsEps: Float(try m.double(epsilon) ?? 1e-5), tiedEmbeddings: !m.tensorNames.contains("output.weight"),
                           headDim: try m.optionalInt("attention.key_length"), rotaryDim: try m.optionalInt("rope.dimension_count"))
    }
}

extension LanguageModel {
    /// Loads a model (and its tokenizer) from a GGUF file, dequantising every tensor to Float32
    /// straight from the mapped file (projections' weights into `base`'s blocks instead, if given).
    public convenience init(gguf path: String, base: QuantFormat? = nil) throws {
        try self.init(gguf: GGUFFile(path: path), base: base)
    }

    /// Loads a model from an opened GGUF file: each tensor its family declares, by its GGUF name.
    /// With `base`, each projection's weight is kept frozen in its blocks as soon as it is read.
    public convenience init(gguf file: GGUFFile, tokenizer readTokenizer: Bool = true, base: QuantFormat? = nil) throws {
        let path = file.path
        let config = try ModelConfig(gguf: file)
        let tokenizer = !readTokenizer || file.metadata["tokenizer.ggml.tokens"] == nil ? nil : try Tokenizer(gguf: file)
        let infos = Dictionary(file.tensors.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var weights: [String: Weight] = [:]
        for spec in config.family.tensors(config) {
            guard let info = infos[spec.gguf] else {
                throw GGUFError(path: path, offset: 0, message: "the tensor \(spec.gguf) that a \(config.architecture) model needs is missing")
            }
            guard Array(info.dimensions.reversed()) == spec.shape else {
                throw GGUFError(path: path, offset: file.dataOffset + info.offset,
                                message: "tensor \(info.name) has dimensions \(info.dimensions), but this configuration needs \(spec.shape.reversed() as [Int])")
            }
            weights[spec.name] = try .loaded(spec.ggufLayout.fromFile(file.tensor(info)), name: spec.name, family: config.family, base: base)
        }
        try self.init(config: config, weights: weights, tokenizer: tokenizer, source: path)
    }
}
