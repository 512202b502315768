/// The shape of a llama-family transformer.
public struct ModelConfig: Sendable, Equatable {
    /// "llama" (SmolLM2, TinyLlama, Llama) or "qwen2" (biases on q, k and v).
    public var architecture: String
    public var vocab: Int
    public var dim: Int
    public var layers: Int
    public var heads: Int
    public var kvHeads: Int
    public var ffn: Int
    /// The longest sequence the model was trained for.
    public var context: Int
    public var ropeTheta: Double
    public var rmsEps: Float
    /// Whether the output head is the token embedding (no separate lm_head).
    public var tiedEmbeddings: Bool
    public var attentionBias: Bool

    public static let architectures = ["llama", "qwen2"]

    public init(architecture: String = "llama", vocab: Int, dim: Int, layers: Int, heads: Int, kvHeads: Int? = nil, ffn: Int,
                context: Int, ropeTheta: Double = 10000, rmsEps: Float = 1e-5, tiedEmbeddings: Bool = true, attentionBias: Bool? = nil) {
        self.architecture = architecture
        self.vocab = vocab
        self.dim = dim
        self.layers = layers
        self.heads = heads
        self.kvHeads = kvHeads ?? heads
        self.ffn = ffn
        self.context = context
        self.ropeTheta = ropeTheta
        self.rmsEps = rmsEps
        self.tiedEmbeddings = tiedEmbeddings
        self.attentionBias = attentionBias ?? (architecture == "qwen2")
    }

    public var headDim: Int { dim / Swift.max(heads, 1) }
    public var kvDim: Int { kvHeads * headDim }

    /// Checks that the numbers describe a model that can be built; `source` names where they came from.
    public func validate(_ source: String) throws {
        func fail(_ m: String) -> ModelError { ModelError("\(source): \(m)") }
        guard ModelConfig.architectures.contains(architecture) else {
            throw fail("architecture \"\(architecture)\" is not supported (supported: \(ModelConfig.architectures.joined(separator: ", ")))")
        }
        for (name, v) in [("vocab", vocab), ("dim", dim), ("layers", layers), ("heads", heads), ("kv_heads", kvHeads), ("ffn", ffn), ("context", context)] {
            guard v > 0, v <= 1 << 24 else { throw fail("\(name) is \(v), which is not a usable size") }
        }
        guard dim % heads == 0 else { throw fail("dim \(dim) is not a multiple of heads \(heads)") }
        guard heads % kvHeads == 0 else { throw fail("heads \(heads) is not a multiple of kv_heads \(kvHeads)") }
        guard headDim % 2 == 0 else { throw fail("the head size \(headDim) (dim / heads) must be even for rotary embeddings") }
        guard ropeTheta > 0, rmsEps > 0, ropeTheta.isFinite, rmsEps.isFinite else { throw fail("rope theta and rms epsilon must be positive and finite") }
    }

    /// Number of parameters.
    public var parameterCount: Int {
        let attention = dim * dim * 2 + dim * kvDim * 2 + (attentionBias ? dim + 2 * kvDim : 0)
        let perLayer = attention + 3 * dim * ffn + 2 * dim
        return vocab * dim * (tiedEmbeddings ? 1 : 2) + layers * perLayer + dim
    }
}

/// A model that cannot be loaded, built or run, with the reason.
public struct ModelError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
