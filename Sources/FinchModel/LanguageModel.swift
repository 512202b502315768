import FinchTensor
import FinchText
import Foundation

/// One transformer block: pre-norm attention and a SwiGLU MLP, each added to the residual.
public final class TransformerBlock {
    public let attentionNorm: Tensor
    public let q: Linear, k: Linear, v: Linear, o: Linear
    public let mlpNorm: Tensor
    public let gate: Linear, up: Linear, down: Linear

    init(_ p: [String: Tensor], _ prefix: String) {
        func linear(_ n: String) -> Linear { Linear(weight: p[prefix + n + ".weight"]!, bias: p[prefix + n + ".bias"]) }
        attentionNorm = p[prefix + "input_layernorm.weight"]!
        q = linear("self_attn.q_proj"); k = linear("self_attn.k_proj"); v = linear("self_attn.v_proj"); o = linear("self_attn.o_proj")
        mlpNorm = p[prefix + "post_attention_layernorm.weight"]!
        gate = linear("mlp.gate_proj"); up = linear("mlp.up_proj"); down = linear("mlp.down_proj")
    }
}

/// A llama-family causal language model (SmolLM2, TinyLlama, Llama, Qwen2-style), in Float32.
public final class LanguageModel {
    public let config: ModelConfig
    /// The tokenizer that came with the weights, if any.
    public var tokenizer: Tokenizer?
    /// Where the weights came from (a path, or "random").
    public var source: String
    /// Whether a trainer is running: LoRA dropout applies only then.
    public var training = false
    /// The generator of LoRA dropout's masks (saved in checkpoints, so a resumed run draws the same).
    public var dropoutRNG = RNG(seed: 0)
    public let embedding: Tensor
    public let blocks: [TransformerBlock]
    public let norm: Tensor
    /// The output head; nil when it is the token embedding (tied).
    public let head: Linear?
    public let rotary: RotaryTable
    /// The tied output head: a linear layer over the embedding tensor itself (no copy).
    private let tiedHead: Linear
    /// Every parameter by its Hugging Face name, in the order of `ParameterNames.expected`.
    public let parameters: [(name: String, tensor: Tensor)]

    /// A model from tensors named as Hugging Face names them; every expected tensor must be present with its shape.
    public init(config: ModelConfig, tensors: [String: Tensor], tokenizer: Tokenizer? = nil, source: String) throws {
        try config.validate(source)
        var ordered: [(String, Tensor)] = []
        for (name, shape) in ParameterNames.expected(config) {
            guard let t = tensors[name] else { throw ModelError("\(source): the tensor \(name) is missing") }
            guard t.shape == shape else {
                throw ModelError("\(source): \(name) has shape \(t.shape), expected \(shape) for this configuration")
            }
            // Every parameter trains unless frozen (as in PyTorch); generation runs without recording.
            t.requiresGrad = true
            ordered.append((name, t))
        }
        if let tokenizer, tokenizer.vocabSize > config.vocab {
            throw ModelError("\(source): the tokenizer has \(tokenizer.vocabSize) tokens but the model only \(config.vocab)")
        }
        self.config = config
        self.tokenizer = tokenizer
        self.source = source
        self.parameters = ordered
        embedding = tensors["model.embed_tokens.weight"]!
        blocks = (0..<config.layers).map { TransformerBlock(tensors, "model.layers.\($0).") }
        norm = tensors["model.norm.weight"]!
        head = config.tiedEmbeddings ? nil : Linear(weight: tensors["lm_head.weight"]!)
        tiedHead = Linear(weight: embedding)
        rotary = RotaryTable(headDim: config.headDim, theta: config.ropeTheta)
    }

    /// A freshly initialised model: weights normal with std 0.02 (as Hugging Face initialises llama), norms one, biases zero.
    public static func random(_ config: ModelConfig, seed: UInt64 = 0, tokenizer: Tokenizer? = nil) throws -> LanguageModel {
        try config.validate("model")
        var rng = RNG(seed: seed)
        var tensors: [String: Tensor] = [:]
        for (name, shape) in ParameterNames.expected(config) {
            if name.hasSuffix("norm.weight") {
                tensors[name] = try Tensor.ones(shape)
            } else if name.hasSuffix(".bias") {
                tensors[name] = try Tensor.zeros(shape)
            } else {
                tensors[name] = try Tensor.normal(shape, std: 0.02, rng: &rng)
            }
        }
        return try LanguageModel(config: config, tensors: tensors, tokenizer: tokenizer, source: "random")
    }

    /// Number of parameters.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.tensor.count } }
    /// Number of parameters that train (those with requiresGrad).
    public var trainableCount: Int { trainableTensors.reduce(0) { $0 + $1.count } }

    /// Logits [batch, tokens, vocab] for ids [batch, tokens] (integer-valued floats). With a cache the
    /// ids follow the cached positions and their keys and values are appended; `lastOnly` computes
    /// the output head for the last position only ([batch, 1, vocab]), all that generation needs.
    ///
    /// `int8Weights` multiplies by Q8_0 copies of the weights (made on first use, remade when a
    /// weight changes): decoding reads every weight once per token, and Q8_0 is a quarter of float32.
    /// It applies to single-token steps without gradients; anything else runs in float32.
    public func forward(_ ids: Tensor, cache: KVCache? = nil, lastOnly: Bool = false, int8Weights: Bool = false) throws -> Tensor {
        let int8 = int8Weights && ids.count == 1 && !GradMode.isEnabled
        let h = try hiddenStates(ids, cache: cache, lastOnly: lastOnly, int8Weights: int8Weights)
        return try int8 ? outputHead.quantizedCall(h) : outputHead(h)
    }

    /// The final hidden states [batch, tokens, dim] (after the last norm) that the output head reads.
    public func hiddenStates(_ ids: Tensor, cache: KVCache? = nil, lastOnly: Bool = false, int8Weights: Bool = false) throws -> Tensor {
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
        var x: Tensor
        do { x = try embedding.embedding(ids) } catch {
            throw ModelError("token ids must be whole numbers in 0..<\(c.vocab): \(error)")
        }
        let int8 = int8Weights && B * T == 1 && !GradMode.isEnabled
        let linear = { (layer: Linear, input: Tensor) throws -> Tensor in int8 ? try layer.quantizedCall(input) : try layer(input) }
        for (l, block) in blocks.enumerated() {
            let h = try x.rmsNorm(weight: block.attentionNorm, eps: c.rmsEps)
            let qkv = int8 ? try Linear.quantizedCall([block.q, block.k, block.v], h) : [try block.q(h), try block.k(h), try block.v(h)]
            let q = try qkv[0].reshape([B, T, c.heads, c.headDim]).rope(rotary, start: start)
            var k = try qkv[1].reshape([B, T, c.kvHeads, c.headDim]).rope(rotary, start: start)
            var v = try qkv[2].reshape([B, T, c.kvHeads, c.headDim])
            if let cache { (k, v) = try cache.append(layer: l, keys: k, values: v) }
            let attended = try Tensor.causalAttention(q, k, v).reshape([B, T, c.dim])
            x = try x.adding(linear(block.o, attended))
            let m = try x.rmsNorm(weight: block.mlpNorm, eps: c.rmsEps)
            let gateUp = int8 ? try Linear.quantizedCall([block.gate, block.up], m) : [try block.gate(m), try block.up(m)]
            x = try x.adding(linear(block.down, gateUp[0].swiglu(gateUp[1])))
        }
        cache?.advance(by: T)
        if lastOnly, T > 1 { x = try x.slice(axis: 1, start: T - 1, end: T) }
        return try x.rmsNorm(weight: norm, eps: c.rmsEps)
    }

    /// Makes (or refreshes) the Q8_0 copies that int8 decoding multiplies by.
    public func prepareInt8Weights() throws {
        for block in blocks {
            for layer in [block.q, block.k, block.v, block.o, block.gate, block.up, block.down] where layer.inFeatures % 32 == 0 {
                _ = try layer.quantized()
            }
        }
        if outputHead.inFeatures % 32 == 0 { _ = try outputHead.quantized() }
    }

    /// The output head as a linear layer: its own, or the token embedding when tied.
    public var outputHead: Linear { head ?? tiedHead }
}

extension LanguageModel {
    /// Bytes of weights one decoding step reads: every matrix once, the output head
    /// included, but only one row of the embedding (unless it is also the head). With
    /// `int8`, matrices count as Q8_0 (an int8 per weight and a float scale per 32).
    public func decodeWeightBytes(int8: Bool = false) -> Int {
        parameters.reduce(0) { sum, p in
            let perWeight = int8 && p.tensor.rank == 2 ? 1.125 : 4
            if p.name == "model.embed_tokens.weight" && !config.tiedEmbeddings { return sum + config.dim * 4 }
            return sum + Int(Double(p.tensor.count) * perWeight)
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
        lines.append("  vocabulary \(c.vocab), context \(c.context), rope theta \(c.ropeTheta == c.ropeTheta.rounded() && c.ropeTheta < 1e15 ? String(Int(c.ropeTheta)) : "\(c.ropeTheta)"), \(c.tiedEmbeddings ? "output head tied to the embedding" : "separate output head")")
        lines.append("  parameters \(total.formatted()) (\(LanguageModel.millions(total))), trainable \(trainable.formatted()) (\(LanguageModel.millions(trainable)))")
        lines.append("  memory \(String(format: "%.1f", Double(total * 4) / 1e6)) MB of float32 weights")
        return lines.joined(separator: "\n")
    }
}
