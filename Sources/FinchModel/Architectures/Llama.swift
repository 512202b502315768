import FinchTensor
import Foundation

/// Llama (Llama 2, Llama 3.x with its rope scaling, SmolLM, TinyLlama): pre-norm blocks of
/// RMSNorm, grouped-query attention with rotary embeddings, and a SwiGLU MLP.
///   h = x + o(attention(rope(q(n₁(x))), rope(k(n₁(x))), v(n₁(x))))
///   y = h + down(silu(gate(n₂(h))) ⊙ up(n₂(h)))
public enum Llama: LlamaLike {
    public static let name = "llama"
    public static let hfClass = "LlamaForCausalLM"

    public static func blockTensors(_ c: ModelConfig, layer: Int) -> [TensorSpec] {
        // llama.cpp turns llama's q and k in adjacent pairs, so its files hold their rows reordered.
        LlamaStyle.block(c, qk: .rotaryPairs(heads: c.heads), .rotaryPairs(heads: c.kvHeads))
    }
}

/// The llama-like families (Llama, Mistral, Qwen2, Qwen3, Phi-3): each declaration defaults to
/// the llama block's, and a family's file states only where it differs.
public protocol LlamaLike: Architecture {}

extension LlamaLike {
    public static var linears: [(short: String, module: String)] { LlamaStyle.linears }
    public static func globalTensors(_ c: ModelConfig) -> (before: [TensorSpec], after: [TensorSpec]) { LlamaStyle.globals(c) }
    public static func blockTensors(_ c: ModelConfig, layer: Int) -> [TensorSpec] { LlamaStyle.block(c) }
    public static func config(huggingFace j: ConfigReader) throws -> ModelConfig { try LlamaStyle.config(j, name) }
    public static func huggingFaceJSON(_ c: ModelConfig) -> [String: Any] { LlamaStyle.json(c) }
    public static func config(gguf m: ConfigReader) throws -> ModelConfig { try LlamaStyle.config(gguf: m, name) }
    public static func ggufMetadata(_ c: ModelConfig) -> [(String, GGUFValue)] { LlamaStyle.ggufMetadata(c, ggufName) }
    public static func block(_ x: Tensor, _ b: TransformerBlock, _ pass: ForwardPass) throws -> Tensor { try LlamaStyle.forward(x, b, pass) }
    public static func finalNorm(_ x: Tensor, _ pass: ForwardPass) throws -> Tensor { try LlamaStyle.finalNorm(x, pass) }
}

/// The pieces the llama-like families (Llama, Mistral, Qwen2, Qwen3, Phi-3) share: names, config keys, the block.
enum LlamaStyle {
    static let linears: [(short: String, module: String)] = [
        ("q", "self_attn.q_proj"), ("k", "self_attn.k_proj"), ("v", "self_attn.v_proj"), ("o", "self_attn.o_proj"),
        ("gate", "mlp.gate_proj"), ("up", "mlp.up_proj"), ("down", "mlp.down_proj"),
    ]

    static func globals(_ c: ModelConfig) -> (before: [TensorSpec], after: [TensorSpec]) {
        var after = TensorSpec.norm("model.norm", "output_norm", c.dim)
        if !c.tiedEmbeddings { after.append(TensorSpec("lm_head.weight", "output.weight", [c.vocab, c.dim])) }
        return ([TensorSpec("model.embed_tokens.weight", "token_embd.weight", [c.vocab, c.dim])], after)
    }

    /// A block's tensors; `q` and `k` say how GGUF lays out those projections.
    static func block(_ c: ModelConfig, qk q: FileLayout = .same, _ k: FileLayout = .same, qkNorm: Bool = false) -> [TensorSpec] {
        var specs = TensorSpec.norm("input_layernorm", "attn_norm", c.dim)
        specs += TensorSpec.linear("self_attn.q_proj", "attn_q", out: c.qDim, in: c.dim, bias: c.attentionBias, gguf: q)
        specs += TensorSpec.linear("self_attn.k_proj", "attn_k", out: c.kvDim, in: c.dim, bias: c.attentionBias, gguf: k)
        specs += TensorSpec.linear("self_attn.v_proj", "attn_v", out: c.kvDim, in: c.dim, bias: c.attentionBias)
        if qkNorm {
            specs += TensorSpec.norm("self_attn.q_norm", "attn_q_norm", c.headDim)
            specs += TensorSpec.norm("self_attn.k_norm", "attn_k_norm", c.headDim)
        }
        specs += TensorSpec.linear("self_attn.o_proj", "attn_output", out: c.dim, in: c.qDim)
        specs += TensorSpec.norm("post_attention_layernorm", "ffn_norm", c.dim)
        specs += TensorSpec.linear("mlp.gate_proj", "ffn_gate", out: c.ffn, in: c.dim)
        specs += TensorSpec.linear("mlp.up_proj", "ffn_up", out: c.ffn, in: c.dim)
        specs += TensorSpec.linear("mlp.down_proj", "ffn_down", out: c.dim, in: c.ffn)
        return specs
    }

    /// The llama block; Qwen3 normalises each head of q and k before the rotation.
    static func forward(_ x: Tensor, _ b: TransformerBlock, _ p: ForwardPass, qkNorm: Bool = false) throws -> Tensor {
        let c = p.config
        let h = try x.rmsNorm(weight: b["input_layernorm.weight"], eps: c.rmsEps)
        let qkv = try p.linears([b.linear("q"), b.linear("k"), b.linear("v")], h)
        var q = try p.heads(qkv[0], c.heads), k = try p.heads(qkv[1], c.kvHeads)
        if qkNorm {
            q = try q.rmsNorm(weight: b["self_attn.q_norm.weight"], eps: c.rmsEps)
            k = try k.rmsNorm(weight: b["self_attn.k_norm.weight"], eps: c.rmsEps)
        }
        let attended = try p.attend(layer: b.index, p.rope(q), p.rope(k), p.heads(qkv[2], c.kvHeads))
        let r = try x.adding(p.linear(b.linear("o"), attended))
        let m = try r.rmsNorm(weight: b["post_attention_layernorm.weight"], eps: c.rmsEps)
        let gateUp = try p.linears([b.linear("gate"), b.linear("up")], m)
        return try r.adding(p.linear(b.linear("down"), gateUp[0].swiglu(gateUp[1])))
    }

    static func finalNorm(_ x: Tensor, _ p: ForwardPass) throws -> Tensor {
        try x.rmsNorm(weight: p.model.globals["model.norm.weight"]!, eps: p.config.rmsEps)
    }

    /// The configuration in a llama-like config.json (the keys Llama, Mistral, Qwen and Phi-3 share).
    static func config(_ j: ConfigReader, _ name: String, window: Bool = false) throws -> ModelConfig {
        if let act = j.string("hidden_act"), act != "silu" {
            throw ModelError("\(j.source): hidden_act \"\(act)\" is not supported for \(name) (only silu)")
        }
        if try j.bool("mlp_bias") == true { throw ModelError("\(j.source): mlp_bias is true, which Finch does not support for \(name)") }
        let heads = try j.int("num_attention_heads"), dim = try j.int("hidden_size")
        let headDim = try j.optionalInt("head_dim") ?? dim / Swift.max(heads, 1)
        let rope = try RopeSettings(j, headDim: headDim)
        return ModelConfig(architecture: name, vocab: try j.int("vocab_size"), dim: dim, layers: try j.int("num_hidden_layers"),
                           heads: heads, kvHeads: try j.optionalInt("num_key_value_heads") ?? heads, ffn: try j.int("intermediate_size"),
                           context: try j.optionalInt("max_position_embeddings") ?? 2048, ropeTheta: rope.theta,
                           rmsEps: Float(try j.double("rms_norm_eps") ?? 1e-6), tiedEmbeddings: try j.bool("tie_word_embeddings") ?? false,
                           attentionBias: try j.bool("attention_bias"), headDim: headDim, rotaryDim: rope.rotaryDim,
                           ropeScaling: rope.scaling, slidingWindow: window ? try j.optionalInt("sliding_window") : nil)
    }

    /// config.json's llama-like keys.
    static func json(_ c: ModelConfig) -> [String: Any] {
        var j: [String: Any] = [
            "vocab_size": c.vocab, "hidden_size": c.dim, "intermediate_size": c.ffn, "num_hidden_layers": c.layers,
            "num_attention_heads": c.heads, "num_key_value_heads": c.kvHeads, "head_dim": c.headDim, "max_position_embeddings": c.context,
            "rope_theta": c.ropeTheta, "rms_norm_eps": c.normEpsilon, "tie_word_embeddings": c.tiedEmbeddings,
            "hidden_act": "silu", "attention_bias": c.attentionBias,
        ]
        if let s = c.ropeScaling {
            j["rope_scaling"] = ["rope_type": "llama3", "factor": s.factor, "low_freq_factor": s.lowFrequencyFactor,
                                 "high_freq_factor": s.highFrequencyFactor, "original_max_position_embeddings": s.originalContext]
        }
        if c.rotaryDim != c.headDim { j["partial_rotary_factor"] = Double(c.rotaryDim) / Double(c.headDim) }
        return j
    }

    /// The configuration in a llama-like GGUF's metadata.
    static func config(gguf m: ConfigReader, _ name: String) throws -> ModelConfig {
        var c = try ModelConfig.ggufCommon(m, name, epsilon: "attention.layer_norm_rms_epsilon")
        c.attentionBias = m.tensorNames.contains("blk.0.attn_q.bias")
        c.slidingWindow = try m.optionalInt("attention.sliding_window")
        return c
    }

    static func ggufMetadata(_ c: ModelConfig, _ a: String) -> [(String, GGUFValue)] {
        var meta: [(String, GGUFValue)] = [
            ("\(a).rope.freq_base", .float(c.ropeTheta)), ("\(a).rope.dimension_count", .uint(UInt64(c.rotaryDim))),
            ("\(a).attention.key_length", .uint(UInt64(c.headDim))), ("\(a).attention.value_length", .uint(UInt64(c.headDim))),
            ("\(a).attention.layer_norm_rms_epsilon", .float(Double(c.rmsEps))),
        ]
        if let w = c.slidingWindow { meta.append(("\(a).attention.sliding_window", .uint(UInt64(w)))) }
        return meta
    }
}

/// Rotary settings as config.json gives them: top-level rope_theta / rope_scaling / partial_rotary_factor
/// (the files on the Hub), or transformers 5's rope_parameters.
struct RopeSettings {
    var theta: Double
    var rotaryDim: Int
    var scaling: RopeScaling?

    init(_ j: ConfigReader, headDim: Int, thetaKeys: [String] = ["rope_theta"], fractionKeys: [String] = ["partial_rotary_factor"]) throws {
        let parameters = j.value("rope_parameters") as? [String: Any]
        let scaling = parameters ?? j.value("rope_scaling") as? [String: Any]
        func number(_ key: String) -> Double? { (parameters?[key] as? NSNumber)?.doubleValue }
        theta = number("rope_theta") ?? 10000
        for key in thetaKeys { if let t = try j.double(key) { theta = t; break } }
        var fraction = number("partial_rotary_factor") ?? 1
        for key in fractionKeys { if let f = try j.double(key) { fraction = f; break } }
        guard fraction > 0, fraction <= 1 else { throw ModelError("\(j.source): the partial rotary factor is \(fraction); it must be in (0, 1]") }
        rotaryDim = Int(Double(headDim) * fraction)
        let type = scaling?["rope_type"] as? String ?? scaling?["type"] as? String ?? "default"
        switch type {
        case "default": self.scaling = nil
        case "llama3":
            func need(_ key: String) throws -> Double {
                guard let v = (scaling?[key] as? NSNumber)?.doubleValue else {
                    throw ModelError("\(j.source): rope scaling \"llama3\" needs \(key)")
                }
                return v
            }
            guard let original = wholeCount(try need("original_max_position_embeddings")) else {
                throw ModelError("\(j.source): rope scaling's original_max_position_embeddings must be a whole number")
            }
            self.scaling = RopeScaling(factor: try need("factor"), lowFrequencyFactor: try need("low_freq_factor"),
                                       highFrequencyFactor: try need("high_freq_factor"), originalContext: original)
        default:
            throw ModelError("\(j.source): rope scaling \"\(type)\" is not supported (supported: default, llama3)")
        }
    }
}
