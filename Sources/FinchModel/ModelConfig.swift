import FinchTensor

/// The shape of a transformer: the numbers every family has, and the options some families switch on.
/// Which family it is (`architecture`) decides the tensors and the forward; see `Architectures`.
public struct ModelConfig: Sendable, Equatable {
    /// The family, by Hugging Face's model_type: "llama", "mistral", "qwen2", "qwen3", "phi3", "gpt_neox", "gpt2".
    public var architecture: String
    public var vocab: Int
    public var dim: Int
    public var layers: Int
    public var heads: Int
    public var kvHeads: Int
    /// Width of one attention head (dim / heads unless the config says otherwise, as Qwen3's does).
    public var headDim: Int
    public var ffn: Int
    /// The longest sequence the model was trained for.
    public var context: Int
    public var ropeTheta: Double
    /// Epsilon of the norms (RMSNorm or LayerNorm, as the family has).
    public var rmsEps: Float
    /// Whether the output head is the token embedding (no separate lm_head).
    public var tiedEmbeddings: Bool
    /// Biases on the attention projections (Qwen2's q, k and v; every projection of GPT-2 and GPT-NeoX).
    public var attentionBias: Bool
    /// Leading dimensions of each head that rotary embeddings turn (GPT-NeoX's rotary_pct); the rest pass through.
    public var rotaryDim: Int
    /// Llama 3's rope scaling (factor, low and high frequency factors, original context), if the config sets it.
    public var ropeScaling: RopeScaling?
    /// Each query sees only the last `slidingWindow` positions (itself included), where the family and config set it.
    public var slidingWindow: Int?
    /// GPT-NeoX: attention and MLP read the same input and both add to the residual.
    public var parallelResidual: Bool
    /// Which layers use the sliding window (Gemma alternates); nil: every layer, when a window is set.
    public var slidingLayers: [Bool]?
    /// Rotary base of the sliding-window layers where it differs from the others' (Gemma 3's local layers).
    public var localRopeTheta: Double?
    /// Attention scores are scaled by 1/√queryScale instead of 1/√headDim (Gemma's query_pre_attn_scalar).
    public var queryScale: Double?
    /// Soft caps c·tanh(x/c) on the attention scores and on the output logits (Gemma 2).
    public var attentionSoftcap: Double?
    public var finalSoftcap: Double?

    /// The norm epsilon as the decimal it was written as (1e-05, not 9.99999974738e-06), for config.json and m.config.
    public var normEpsilon: Double { Double("\(rmsEps)") ?? Double(rmsEps) }

    /// The registered families' names.
    public static var architectures: [String] { Architectures.names }

    public init(architecture: String = "llama", vocab: Int, dim: Int, layers: Int, heads: Int, kvHeads: Int? = nil, ffn: Int,
                context: Int, ropeTheta: Double = 10000, rmsEps: Float = 1e-5, tiedEmbeddings: Bool = true, attentionBias: Bool? = nil,
                headDim: Int? = nil, rotaryDim: Int? = nil, ropeScaling: RopeScaling? = nil, slidingWindow: Int? = nil,
                parallelResidual: Bool = true, slidingLayers: [Bool]? = nil, localRopeTheta: Double? = nil, queryScale: Double? = nil,
                attentionSoftcap: Double? = nil, finalSoftcap: Double? = nil) {
        self.architecture = architecture
        self.vocab = vocab
        self.dim = dim
        self.layers = layers
        self.heads = heads
        self.kvHeads = kvHeads ?? heads
        self.headDim = headDim ?? dim / Swift.max(heads, 1)
        self.ffn = ffn
        self.context = context
        self.ropeTheta = ropeTheta
        self.rmsEps = rmsEps
        self.tiedEmbeddings = tiedEmbeddings
        self.attentionBias = attentionBias ?? Architectures.named(architecture)?.biasByDefault ?? false
        self.rotaryDim = rotaryDim ?? self.headDim
        self.ropeScaling = ropeScaling
        self.slidingWindow = slidingWindow
        self.parallelResidual = parallelResidual
        self.slidingLayers = slidingLayers
        self.localRopeTheta = localRopeTheta
        self.queryScale = queryScale
        self.attentionSoftcap = attentionSoftcap
        self.finalSoftcap = finalSoftcap
    }

    /// The rotary frequencies θ^(−2i/rotaryDim) before any rope scaling (`theta` for another base, Gemma 3's local one).
    public func baseFrequencies(theta: Double? = nil) -> [Double] { RotaryTable.frequencies(headDim: rotaryDim, theta: theta ?? ropeTheta) }

    /// The sliding window of a layer, or 0 when the layer attends to every earlier position.
    public func window(layer: Int) -> Int {
        guard let w = slidingWindow else { return 0 }
        return slidingLayers.map { layer < $0.count && $0[layer] } ?? true ? w : 0
    }

    /// Width of the query projection's output: heads × head size.
    public var qDim: Int { heads * headDim }
    public var kvDim: Int { kvHeads * headDim }

    /// The family's declaration.
    public var family: any Architecture.Type { Architectures.named(architecture) ?? Llama.self }

    /// Checks that the numbers describe a model that can be built; `source` names where they came from.
    public func validate(_ source: String) throws {
        func fail(_ m: String) -> ModelError { ModelError("\(source): \(m)") }
        guard Architectures.named(architecture) != nil else {
            throw fail("architecture \"\(architecture)\" is not supported (supported: \(Architectures.names.joined(separator: ", ")))")
        }
        for (name, v) in [("vocab", vocab), ("dim", dim), ("layers", layers), ("heads", heads), ("kv_heads", kvHeads), ("ffn", ffn),
                          ("context", context), ("head_dim", headDim)] {
            guard v > 0, v <= 1 << 24 else { throw fail("\(name) is \(v), which is not a usable size") }
        }
        guard dim % heads == 0 || headDim != dim / heads else {
            throw fail("dim \(dim) is not a multiple of heads \(heads) (or give head_dim, the width of one head)")
        }
        guard heads % kvHeads == 0 else { throw fail("heads \(heads) is not a multiple of kv_heads \(kvHeads)") }
        guard qDim <= 1 << 24 else { throw fail("heads × head size \(heads) × \(headDim) is not a usable size") }
        if !family.groupedQueryAttention {
            guard kvHeads == heads else { throw fail("a \(architecture) model has as many key/value heads as heads (\(heads), not \(kvHeads))") }
            guard dim == qDim else { throw fail("a \(architecture) model's heads span dim: heads × head size must be \(dim), not \(heads) × \(headDim)") }
        }
        if !family.learnedPositions {
            guard rotaryDim % 2 == 0, rotaryDim > 0, rotaryDim <= headDim else {
                throw fail("the rotary size \(rotaryDim) must be even and at most the head size \(headDim)")
            }
        }
        if let w = slidingWindow { guard w > 0 else { throw fail("sliding_window is \(w), which is not a usable size") } }
        if let s = slidingLayers, s.count != layers { throw fail("layer_types has \(s.count) entries for \(layers) layers") }
        for (name, v) in [("local rope theta", localRopeTheta), ("query_pre_attn_scalar", queryScale),
                          ("attn_logit_softcapping", attentionSoftcap), ("final_logit_softcapping", finalSoftcap)] {
            if let v { guard v > 0, v.isFinite else { throw fail("\(name) is \(v); it must be positive and finite") } }
        }
        guard ropeTheta > 0, rmsEps > 0, ropeTheta.isFinite, rmsEps.isFinite else { throw fail("rope theta and rms epsilon must be positive and finite") }
        if let s = ropeScaling { try s.validate(source) }
        // Checked before any list of tensors is made for it: a corrupt count must not make millions of layers.
        guard layers <= 4096 else { throw fail("layers is \(layers); Finch builds models of at most 4096 layers") }
        let total = family.size(self).parameters
        guard total <= 1e13 else { throw fail("these sizes make \(String(format: "%.3g", total)) parameters, more than any model Finch can hold") }
    }

    /// Number of parameters.
    public var parameterCount: Int { Int(family.size(self).parameters) }
}

/// Llama 3's rope scaling: wavelengths longer than the original context's low-frequency bound are
/// stretched by `factor`, shorter than the high-frequency bound kept, and those between blended.
public struct RopeScaling: Sendable, Equatable {
    public var factor: Double
    public var lowFrequencyFactor: Double
    public var highFrequencyFactor: Double
    public var originalContext: Int

    public init(factor: Double, lowFrequencyFactor: Double, highFrequencyFactor: Double, originalContext: Int) {
        self.factor = factor
        self.lowFrequencyFactor = lowFrequencyFactor
        self.highFrequencyFactor = highFrequencyFactor
        self.originalContext = originalContext
    }

    func validate(_ source: String) throws {
        guard factor > 0, lowFrequencyFactor > 0, highFrequencyFactor > lowFrequencyFactor, originalContext > 0,
              factor.isFinite, highFrequencyFactor.isFinite else {
            throw ModelError("\(source): rope_scaling needs factor > 0, 0 < low_freq_factor < high_freq_factor and original_max_position_embeddings > 0")
        }
    }

    /// The inverse frequencies θ^(−2i/d), i < d/2, rescaled as Llama 3 does.
    public func scale(_ inverse: [Double]) -> [Double] {
        let lowWavelength = Double(originalContext) / lowFrequencyFactor
        let highWavelength = Double(originalContext) / highFrequencyFactor
        return inverse.map { f in
            let wavelength = 2 * Double.pi / f
            if wavelength < highWavelength { return f }
            if wavelength > lowWavelength { return f / factor }
            let smooth = (Double(originalContext) / wavelength - lowFrequencyFactor) / (highFrequencyFactor - lowFrequencyFactor)
            return (1 - smooth) * f / factor + smooth * f
        }
    }
}

/// A count read from a file as a floating-point number (Llama 3's original context), or nil when it is
/// not a whole number a size can be (NaN, 1e300, 2.5).
func wholeCount(_ x: Double) -> Int? {
    x == x.rounded() && x >= 0 && x < 1e15 ? Int(x) : nil
}

/// A model that cannot be loaded, built or run, with the reason.
public struct ModelError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
