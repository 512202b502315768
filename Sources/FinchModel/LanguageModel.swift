import FinchTensor
import FinchText
import Foundation

/// A causal language model of one of the registered families (`Architectures`), in Float32.
public final class LanguageModel {
    public let config: ModelConfig
    /// The tokenizer that came with the weights, if any.
    public var tokenizer: Tokenizer?
    /// Where the weights came from (a path, or "random").
    public var source: String
    /// Held by whoever runs the model — a server's decoding step, the REPL's generate or train — so
    /// that a model served in the background is never changed mid-token.
    public let inUse = NSRecursiveLock()
    /// The prompts of the last training run's first examples (token ids): what `fuse` checks
    /// the merged model on unless given other probes.
    public var trainingProbes: [[Int]] = []
    /// Whether a trainer is running: LoRA dropout applies only then.
    public var training = false
    /// The generator of LoRA dropout's masks (saved in checkpoints, so a resumed run draws the same).
    public var dropoutRNG = RNG(seed: 0)
    /// While training, keep only each block's input and run the block again in the backward pass
    /// (gradient checkpointing): activation memory of one block instead of all, about a third more time.
    public var gradientCheckpointing = false
    /// The family's declaration: tensors, projections and forward.
    public let family: any Architecture.Type
    public let embedding: Tensor
    public let blocks: [TransformerBlock]
    /// Tensors outside the blocks (embedding, norms, position table, head) by Hugging Face name.
    public let globals: [String: Tensor]
    /// The output head; nil when it is the token embedding (tied).
    public let head: Linear?
    public let rotary: RotaryTable
    /// The sliding-window layers' own table (Gemma 3's local rope base), if they have one.
    public let localRotary: RotaryTable?
    /// The tied output head: a linear layer over the embedding tensor itself (no copy).
    private let tiedHead: Linear
    /// Every parameter in the order the family declares them: a tensor of the model's own, or a
    /// projection's weight, which its layer holds (float32, or frozen in blocks).
    private let entries: [(name: String, holder: ParameterHolder)]
    /// The family's declaration of each parameter (names, shapes, file layouts), in the same order.
    let specs: [TensorSpec]

    /// A model from float32 tensors named as Hugging Face names them; every expected tensor must be present with its shape.
    public convenience init(config: ModelConfig, tensors: [String: Tensor], tokenizer: Tokenizer? = nil, source: String) throws {
        try self.init(config: config, weights: tensors.mapValues { .dense($0) }, tokenizer: tokenizer, source: source)
    }

    /// A model from weights named as Hugging Face names them, where projections' weights may be
    /// frozen in blocks (`LanguageModel.load(_:base:)`) and every other tensor is float32.
    public init(config: ModelConfig, weights: [String: Weight], tokenizer: Tokenizer? = nil, source: String) throws {
        try config.validate(source)
        let family = config.family
        let specs = family.tensors(config)
        for spec in specs {
            guard let w = weights[spec.name] else { throw ModelError("\(source): the tensor \(spec.name) is missing") }
            guard w.shape == spec.shape else {
                throw ModelError("\(source): \(spec.name) has shape \(w.shape), expected \(spec.shape) for this configuration")
            }
            switch w {
            // Every parameter trains unless frozen (as in PyTorch); generation runs without recording.
            case .dense(let t): t.requiresGrad = true
            case .frozen where family.projection(ofWeight: spec.name) == nil:
                throw ModelError("\(source): \(spec.name) is not a projection's weight, and only those can be kept in blocks")
            case .frozen: break
            }
        }
        if let tokenizer, tokenizer.vocabSize > config.vocab {
            throw ModelError("\(source): the tokenizer has \(tokenizer.vocabSize) tokens but the model only \(config.vocab)")
        }
        self.config = config
        self.family = family
        self.tokenizer = tokenizer
        self.source = source
        self.specs = specs
        let dense = weights.compactMapValues(\.tensor)
        embedding = dense[family.embeddingName]!
        blocks = (0..<config.layers).map { TransformerBlock(index: $0, family: family, weights: weights) }
        var layers: [String: Linear] = [:]
        for block in blocks {
            for (short, layer) in block.linears { layers["\(family.blockPrefix)\(block.index).\(family.module(short)!).weight"] = layer }
        }
        entries = specs.map { spec in (spec.name, layers[spec.name].map { .layer($0) } ?? .tensor(dense[spec.name]!)) }
        let blockPrefix = family.blockPrefix
        globals = Dictionary(uniqueKeysWithValues: specs.filter { !$0.name.hasPrefix(blockPrefix) }.map { ($0.name, dense[$0.name]!) })
        head = config.tiedEmbeddings ? nil : Linear(weight: dense[family.headName]!)
        tiedHead = Linear(weight: embedding)
        let base = config.baseFrequencies()
        rotary = RotaryTable(frequencies: config.ropeScaling?.scale(base) ?? base)
        localRotary = config.localRopeTheta.map { RotaryTable(frequencies: config.baseFrequencies(theta: $0)) }
    }

    /// Every parameter by its Hugging Face name, in the family's order: float32, or frozen in blocks.
    public var weights: [(name: String, weight: Weight)] { entries.map { ($0.name, $0.holder.weight) } }

    /// The float32 parameters by Hugging Face name, in the family's order: all of them, unless
    /// projections' weights are kept frozen in blocks (`weights` has those too).
    public var parameters: [(name: String, tensor: Tensor)] {
        entries.compactMap { e in e.holder.weight.tensor.map { (e.name, $0) } }
    }

    /// A freshly initialised model: weights normal with std 0.02 (as Hugging Face initialises llama), norms one, biases zero.
    public static func random(_ config: ModelConfig, seed: UInt64 = 0, tokenizer: Tokenizer? = nil) throws -> LanguageModel {
        try config.validate("model")
        var rng = RNG(seed: seed)
        var tensors: [String: Tensor] = [:]
        for spec in config.family.tensors(config) {
            switch spec.initial {
            case .ones: tensors[spec.name] = try Tensor.ones(spec.shape)
            case .zeros: tensors[spec.name] = try Tensor.zeros(spec.shape)
            case .normal: tensors[spec.name] = try Tensor.normal(spec.shape, std: 0.02, rng: &rng)
            }
        }
        return try LanguageModel(config: config, tensors: tensors, tokenizer: tokenizer, source: "random")
    }

    /// Number of parameters.
    public var parameterCount: Int { weights.reduce(0) { $0 + $1.weight.count } }
    /// Bytes the weights take: 4 per float32 parameter, a frozen projection's blocks.
    public var weightBytes: Int { weights.reduce(0) { $0 + $1.weight.bytes } }
    /// Number of parameters that train (those with requiresGrad).
    public var trainableCount: Int { trainableTensors.reduce(0) { $0 + $1.count } }

    /// Logits [batch, tokens, vocab] for ids [batch, tokens] (integer-valued floats). With a cache the
    /// ids follow the cached positions and their keys and values are appended; `lastOnly` computes
    /// the output head for the last position only ([batch, 1, vocab]), all that generation needs.
    ///
    /// `quantized` multiplies by Q8_0 or Q4_1 copies of the weights (made on first use, remade when a
    /// weight changes): decoding reads every weight once per token, and Q8_0 is a quarter of float32,
    /// Q4_1 about a sixth. It applies to single-token steps without gradients; anything else runs in float32.
    public func forward(_ ids: Tensor, cache: KVCache? = nil, lastOnly: Bool = false, quantized: QuantFormat? = nil) throws -> Tensor {
        let format = Self.decoding(quantized, rows: ids.count)
        let h = try hiddenStates(ids, cache: cache, lastOnly: lastOnly, quantized: format)
        return try logits(h, quantized: format)
    }

    /// The output head on final hidden states, and Gemma 2's soft cap c·tanh(x/c) where the config sets one.
    func logits(_ h: Tensor, quantized: QuantFormat? = nil) throws -> Tensor {
        let x = try Self.headFormat(quantized).map { try outputHead.quantizedCall(h, format: $0) } ?? outputHead(h)
        guard let cap = config.finalSoftcap.map(Float.init) else { return x }
        return try x.multiplying(.scalar(1 / cap)).tanh().multiplying(.scalar(cap))
    }

    /// The final hidden states [batch, tokens, dim] (after the last norm) that the output head reads.
    public func hiddenStates(_ ids: Tensor, cache: KVCache? = nil, lastOnly: Bool = false, quantized: QuantFormat? = nil) throws -> Tensor {
        guard ids.rank == 2, ids.shape[1] > 0 else {
            throw ModelError("forward needs token ids of shape [batch, tokens], got \(ids.shape)")
        }
        let (B, T) = (ids.shape[0], ids.shape[1])
        let c = config
        let start = cache?.length ?? 0
        guard start + T <= c.context else {
            throw ModelError("\(start + T) tokens are more than this model's context of \(c.context)")
        }
        if let cache { try cache.reserve(batch: B, tokens: T, for: c) }
        let pass = ForwardPass(model: self, config: c, batch: B, tokens: T, start: start, cache: cache,
                               quantized: Self.decoding(quantized, rows: B * T))
        var x: Tensor
        do { x = try family.embed(ids, pass) } catch let e as TensorError {
            throw ModelError("token ids must be whole numbers in 0..<\(c.vocab): \(e)")
        }
        for block in blocks {
            guard gradientCheckpointing, training, GradMode.isEnabled else { x = try family.block(x, block, pass); continue }
            // The backward pass runs the block again; its LoRA dropout must draw the same masks.
            let rng = dropoutRNG, family = family
            var again = false
            x = try Tensor.checkpoint(x, parameters: block.trainables) { input in
                guard again else { again = true; return try family.block(input, block, pass) }
                let now = self.dropoutRNG
                self.dropoutRNG = rng
                defer { self.dropoutRNG = now }
                return try family.block(input, block, pass)
            }
        }
        cache?.advance(by: T)
        if lastOnly, T > 1 { x = try x.slice(axis: 1, start: T - 1, end: T) }
        return try family.finalNorm(x, pass)
    }

    /// The next token's logits [rows, 1, vocab] for several sequences at once: `ids[i]` continues
    /// the sequence cached in `caches[i]`, at that cache's own position (the caches advance by one).
    /// Every row computes what a single-row pass computes, but the projections read each weight once.
    public func decode(_ ids: [Int], caches: [KVCache], quantized: QuantFormat?) throws -> Tensor {
        guard !ids.isEmpty, ids.count == caches.count, Set(caches.map(ObjectIdentifier.init)).count == caches.count else {
            throw ModelError("decode needs one token and one cache of its own per sequence, got \(ids.count) tokens and \(caches.count) caches")
        }
        let c = config
        for cache in caches {
            guard cache.length + 1 <= c.context else { throw ModelError("\(cache.length + 1) tokens are more than this model's context of \(c.context)") }
            try cache.reserve(batch: 1, tokens: 1, for: c)
        }
        let format = Self.decoding(quantized, rows: 1)
        var pass = ForwardPass(model: self, config: c, batch: ids.count, tokens: 1, start: 0, cache: nil, quantized: format)
        pass.rows = caches
        var x: Tensor
        do { x = try family.embed(Tensor(ids.map(Float.init), shape: [ids.count, 1]), pass) } catch let e as TensorError {
            throw ModelError("token ids must be whole numbers in 0..<\(c.vocab): \(e)")
        }
        for block in blocks { x = try family.block(x, block, pass) }
        for cache in caches { cache.advance(by: 1) }
        return try logits(family.finalNorm(x, pass), quantized: format)
    }

    /// Makes (or refreshes) the copies in `format` that quantized decoding multiplies by.
    public func prepareQuantizedWeights(_ format: QuantFormat) throws {
        for block in blocks {
            for (_, layer) in block.linears where layer.inFeatures % 32 == 0 { _ = try layer.quantized(format) }
        }
        if outputHead.inFeatures % 32 == 0, let head = Self.headFormat(format) { _ = try outputHead.quantized(head) }
    }

    /// The block format a pass multiplies by: `quantized` for a decoding step (`rows`, the tokens a
    /// sequence adds, is 1) without gradients; float32 (nil) for prompts and training.
    static func decoding(_ quantized: QuantFormat?, rows: Int) -> QuantFormat? {
        rows == 1 && !GradMode.isEnabled ? quantized : nil
    }

    /// The output head's format when decoding with `format`: Q4_1 decoding keeps the head in Q8_0, as
    /// llama.cpp's Q4 files keep it (SmolLM2's Q4_1 file holds its tied embedding in Q8_0).
    static func headFormat(_ format: QuantFormat?) -> QuantFormat? { format == .q4_1 ? .q8_0 : format }

    /// The output head as a linear layer: its own, or the token embedding when tied.
    public var outputHead: Linear { head ?? tiedHead }
}

extension LanguageModel {
    /// Bytes of weights one decoding step reads: every matrix once, the output head
    /// included, but only one row of the embedding (unless it is also the head). With a
    /// block format, matrices count at its bytes per weight (Q8_0: an int8 per weight and a
    /// float scale per 32; Q4_1: four bits and two float16 per 32).
    public func decodeWeightBytes(_ format: QuantFormat? = nil) -> Int {
        weights.reduce(0) { sum, p in
            if p.name == family.embeddingName && !config.tiedEmbeddings { return sum + config.dim * 4 }
            let isHead = p.name == (config.tiedEmbeddings ? family.embeddingName : family.headName)
            // A frozen weight decodes from its own blocks unless another format is asked for.
            let blocks = isHead ? Self.headFormat(format) : format ?? p.weight.format
            return sum + Int(Double(p.weight.count) * (p.weight.shape.count == 2 ? blocks?.bytesPerWeight ?? 4 : 4))
        }
    }
}

/// Where a parameter lives: a tensor of the model's own, or a projection's weight, which its layer holds.
enum ParameterHolder {
    case tensor(Tensor)
    case layer(Linear)

    var weight: Weight {
        switch self {
        case .tensor(let t): .dense(t)
        case .layer(let l): l.stored
        }
    }
}

extension LanguageModel {
    /// A count for people: 134.5M, 12.3K.
    public static func millions(_ n: Int) -> String {
        n >= 1_000_000 ? String(format: "%.1fM", Double(n) / 1e6) : n >= 1000 ? String(format: "%.1fK", Double(n) / 1e3) : "\(n)"
    }

    /// Architecture, sizes, parameters and memory, for people.
    public var summary: String {
        let c = config
        let total = parameterCount, trainable = trainableCount
        var lines = ["\(c.architecture) model from \(source)"]
        lines.append("  layers \(c.layers), dim \(c.dim), heads \(c.heads) (key/value heads \(c.kvHeads), head size \(c.headDim)), MLP \(c.ffn)")
        lines.append("  vocabulary \(c.vocab), context \(c.context), rope theta \(Self.number(c.ropeTheta)), \(c.tiedEmbeddings ? "output head tied to the embedding" : "separate output head")")
        if !familyOptions.isEmpty { lines.append("  " + familyOptions.joined(separator: ", ")) }
        lines.append("  parameters \(total.formatted()) (\(LanguageModel.millions(total))), trainable \(trainable.formatted()) (\(LanguageModel.millions(trainable)))")
        let frozen = Set(weights.compactMap(\.weight.format)).map { $0.rawValue.uppercased() }.sorted()
        lines.append("  memory \(String(format: "%.1f", Double(weightBytes) / 1e6)) MB of " + (frozen.isEmpty ? "float32 weights" : "weights (frozen projections in \(frozen.joined(separator: " and ")), the rest float32)"))
        return lines.joined(separator: "\n")
    }

    /// A number for people: 10000, not 10000.0.
    static func number(_ x: Double) -> String { wholeCount(Swift.abs(x)) != nil ? String(Int(x)) : "\(x)" }

    /// The family's options that are switched on, for the summary.
    var familyOptions: [String] {
        let c = config, number = Self.number
        var out: [String] = []
        if c.attentionBias { out.append("attention biases") }
        if c.rotaryDim != c.headDim, !family.learnedPositions { out.append("rotary on \(c.rotaryDim) of \(c.headDim) dimensions per head") }
        if let s = c.ropeScaling { out.append("Llama 3 rope scaling ×\(number(s.factor)) from \(s.originalContext) positions") }
        if let w = c.slidingWindow {
            let windowed = (0..<c.layers).filter { c.window(layer: $0) > 0 }.count
            out.append("sliding window \(w)" + (windowed < c.layers ? " on \(windowed) of \(c.layers) layers" : ""))
        }
        if let t = c.localRopeTheta { out.append("local rope theta \(number(t))") }
        if let a = c.attentionSoftcap { out.append("attention soft cap \(number(a))") }
        if let f = c.finalSoftcap { out.append("logit soft cap \(number(f))") }
        return out
    }
}
