import FinchTensor
import Foundation

/// GPT-NeoX (Pythia, the course's lab model): LayerNorm with bias, attention and MLP in parallel
/// on the same input by default, rotary embeddings on the leading rotary_pct of each head, a GELU
/// MLP, biases on every projection, q, k and v fused per head ([heads, 3, d] rows).
///   y = x + dense(attention(n₁(x))) + down(gelu(up(n₂(x))))        (parallel residual)
public enum GPTNeoX: Architecture {
    public static let name = "gpt_neox"
    public static let ggufName = "gptneox"
    public static let hfClass = "GPTNeoXForCausalLM"
    public static let blockPrefix = "gpt_neox.layers."
    public static let embeddingName = "gpt_neox.embed_in.weight"
    public static let headName = "embed_out.weight"
    public static let linears: [(short: String, module: String)] = [
        ("qkv", "attention.query_key_value"), ("o", "attention.dense"), ("up", "mlp.dense_h_to_4h"), ("down", "mlp.dense_4h_to_h"),
    ]
    public static let defaultLoRATargets = ["qkv"]
    public static let biasByDefault = true
    public static let groupedQueryAttention = false
    public static func defaultFFN(dim: Int) -> Int { 4 * dim }

    public static func globalTensors(_ c: ModelConfig) -> (before: [TensorSpec], after: [TensorSpec]) {
        var after = TensorSpec.norm("gpt_neox.final_layer_norm", "output_norm", c.dim, bias: true)
        if !c.tiedEmbeddings { after.append(TensorSpec(headName, "output.weight", [c.vocab, c.dim])) }
        return ([TensorSpec(embeddingName, "token_embd.weight", [c.vocab, c.dim])], after)
    }

    public static func blockTensors(_ c: ModelConfig, layer: Int) -> [TensorSpec] {
        var specs = TensorSpec.norm("input_layernorm", "attn_norm", c.dim, bias: true)
        specs += TensorSpec.linear("attention.query_key_value", "attn_qkv", out: 3 * c.dim, in: c.dim, bias: c.attentionBias,
                                   gguf: .stackedQKV(heads: c.heads))
        specs += TensorSpec.linear("attention.dense", "attn_output", out: c.dim, in: c.dim, bias: c.attentionBias)
        specs += TensorSpec.norm("post_attention_layernorm", "ffn_norm", c.dim, bias: true)
        specs += TensorSpec.linear("mlp.dense_h_to_4h", "ffn_up", out: c.ffn, in: c.dim, bias: true)
        specs += TensorSpec.linear("mlp.dense_4h_to_h", "ffn_down", out: c.dim, in: c.ffn, bias: true)
        return specs
    }

    public static func config(huggingFace j: ConfigReader) throws -> ModelConfig {
        if let act = j.string("hidden_act"), act != "gelu" {
            throw ModelError("\(j.source): hidden_act \"\(act)\" is not supported for gpt_neox (only gelu)")
        }
        let heads = try j.int("num_attention_heads"), dim = try j.int("hidden_size")
        let rope = try RopeSettings(j, headDim: dim / Swift.max(heads, 1), thetaKeys: ["rotary_emb_base", "rope_theta"],
                                    fractionKeys: ["rotary_pct", "partial_rotary_factor"])
        guard rope.scaling == nil else { throw ModelError("\(j.source): rope scaling is not supported for gpt_neox") }
        return ModelConfig(architecture: name, vocab: try j.int("vocab_size"), dim: dim, layers: try j.int("num_hidden_layers"),
                           heads: heads, ffn: try j.int("intermediate_size"), context: try j.optionalInt("max_position_embeddings") ?? 2048,
                           ropeTheta: rope.theta, rmsEps: Float(try j.double("layer_norm_eps") ?? 1e-5),
                           tiedEmbeddings: try j.bool("tie_word_embeddings") ?? false, attentionBias: try j.bool("attention_bias") ?? true,
                           rotaryDim: rope.rotaryDim, parallelResidual: try j.bool("use_parallel_residual") ?? true)
    }

    public static func huggingFaceJSON(_ c: ModelConfig) -> [String: Any] {
        ["vocab_size": c.vocab, "hidden_size": c.dim, "intermediate_size": c.ffn, "num_hidden_layers": c.layers,
         "num_attention_heads": c.heads, "max_position_embeddings": c.context, "rotary_emb_base": c.ropeTheta, "rope_theta": c.ropeTheta,
         "rotary_pct": Double(c.rotaryDim) / Double(c.headDim), "partial_rotary_factor": Double(c.rotaryDim) / Double(c.headDim),
         "layer_norm_eps": c.normEpsilon, "tie_word_embeddings": c.tiedEmbeddings,
         "use_parallel_residual": c.parallelResidual, "hidden_act": "gelu", "attention_bias": c.attentionBias]
    }

    public static func config(gguf m: ConfigReader) throws -> ModelConfig {
        var c = try ModelConfig.ggufCommon(m, name, epsilon: "attention.layer_norm_epsilon")
        c.attentionBias = m.tensorNames.contains("blk.0.attn_qkv.bias")
        c.parallelResidual = try m.bool("use_parallel_residual") ?? true
        return c
    }

    public static func ggufMetadata(_ c: ModelConfig) -> [(String, GGUFValue)] {
        [("gptneox.rope.freq_base", .float(c.ropeTheta)), ("gptneox.rope.dimension_count", .uint(UInt64(c.rotaryDim))),
         ("gptneox.attention.layer_norm_epsilon", .float(Double(c.rmsEps))), ("gptneox.use_parallel_residual", .bool(c.parallelResidual))]
    }

    public static func block(_ x: Tensor, _ b: TransformerBlock, _ p: ForwardPass) throws -> Tensor {
        let c = p.config, d = c.headDim
        let h = try x.layerNorm(weight: b["input_layernorm.weight"], bias: b["input_layernorm.bias"], eps: c.rmsEps)
        // Each head's rows are its q, k and v in turn.
        let qkv = try p.heads(p.linear(b.linear("qkv"), h), c.heads)
        let q = try qkv.slice(axis: 3, start: 0, end: d), k = try qkv.slice(axis: 3, start: d, end: 2 * d)
        let v = try qkv.slice(axis: 3, start: 2 * d, end: 3 * d)
        let attention = try p.linear(b.linear("o"), p.attend(layer: b.index, p.rope(q), p.rope(k), v))
        func mlp(_ input: Tensor) throws -> Tensor {
            let m = try input.layerNorm(weight: b["post_attention_layernorm.weight"], bias: b["post_attention_layernorm.bias"], eps: c.rmsEps)
            return try p.linear(b.linear("down"), p.linear(b.linear("up"), m).gelu())
        }
        if c.parallelResidual { return try x.adding(attention).adding(mlp(x)) }
        let r = try x.adding(attention)
        return try r.adding(mlp(r))
    }

    public static func finalNorm(_ x: Tensor, _ p: ForwardPass) throws -> Tensor {
        try x.layerNorm(weight: p.model.globals["gpt_neox.final_layer_norm.weight"]!, bias: p.model.globals["gpt_neox.final_layer_norm.bias"]!,
                        eps: p.config.rmsEps)
    }
}
