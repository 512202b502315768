import FinchTensor
import Foundation

/// GPT-2: learned position embeddings, pre-norm LayerNorm blocks, q, k and v fused (c_attn, rows
/// q then k then v), a GELU (tanh) MLP of 4·dim, biases everywhere, the head tied to the token
/// embedding. Hugging Face stores its projections as Conv1D weights, [in, out]; Finch holds them
/// [out, in] like every other projection and transposes at the file.
///   h = x + c_proj(attention(c_attn(ln_1(x))));  y = h + mlp.c_proj(gelu(c_fc(ln_2(h))))
public enum GPT2: Architecture {
    public static let name = "gpt2"
    public static let hfClass = "GPT2LMHeadModel"
    public static let blockPrefix = "transformer.h."
    public static let embeddingName = "transformer.wte.weight"
    public static let linears: [(short: String, module: String)] = [
        ("qkv", "attn.c_attn"), ("o", "attn.c_proj"), ("up", "mlp.c_fc"), ("down", "mlp.c_proj"),
    ]
    public static let defaultLoRATargets = ["qkv"]
    public static let biasByDefault = true
    public static let groupedQueryAttention = false
    public static func defaultFFN(dim: Int) -> Int { 4 * dim }
    public static let learnedPositions = true

    public static func globalTensors(_ c: ModelConfig) -> (before: [TensorSpec], after: [TensorSpec]) {
        var after = TensorSpec.norm("transformer.ln_f", "output_norm", c.dim, bias: true)
        if !c.tiedEmbeddings { after.append(TensorSpec(headName, "output.weight", [c.vocab, c.dim])) }
        return ([TensorSpec(embeddingName, "token_embd.weight", [c.vocab, c.dim]),
                 TensorSpec("transformer.wpe.weight", "position_embd.weight", [c.context, c.dim])], after)
    }

    public static func blockTensors(_ c: ModelConfig, layer: Int) -> [TensorSpec] {
        var specs = TensorSpec.norm("ln_1", "attn_norm", c.dim, bias: true)
        specs += TensorSpec.linear("attn.c_attn", "attn_qkv", out: 3 * c.dim, in: c.dim, bias: true, hf: .transposed)
        specs += TensorSpec.linear("attn.c_proj", "attn_output", out: c.dim, in: c.dim, bias: true, hf: .transposed)
        specs += TensorSpec.norm("ln_2", "ffn_norm", c.dim, bias: true)
        specs += TensorSpec.linear("mlp.c_fc", "ffn_up", out: c.ffn, in: c.dim, bias: true, hf: .transposed)
        specs += TensorSpec.linear("mlp.c_proj", "ffn_down", out: c.dim, in: c.ffn, bias: true, hf: .transposed)
        return specs
    }

    public static func config(huggingFace j: ConfigReader) throws -> ModelConfig {
        if let act = j.string("activation_function"), act != "gelu_new", act != "gelu_pytorch_tanh" {
            throw ModelError("\(j.source): activation_function \"\(act)\" is not supported for gpt2 (only gelu_new)")
        }
        if try j.bool("scale_attn_by_inverse_layer_idx") == true || j.bool("reorder_and_upcast_attn") == true {
            throw ModelError("\(j.source): scale_attn_by_inverse_layer_idx and reorder_and_upcast_attn are not supported")
        }
        let dim = try j.int("n_embd", "hidden_size")
        return ModelConfig(architecture: name, vocab: try j.int("vocab_size"), dim: dim, layers: try j.int("n_layer", "num_hidden_layers"),
                           heads: try j.int("n_head", "num_attention_heads"), ffn: try j.optionalInt("n_inner") ?? 4 * dim,
                           context: try j.int("n_positions", "max_position_embeddings"),
                           rmsEps: Float(try j.double("layer_norm_epsilon") ?? 1e-5), tiedEmbeddings: try j.bool("tie_word_embeddings") ?? true,
                           attentionBias: true)
    }

    public static func huggingFaceJSON(_ c: ModelConfig) -> [String: Any] {
        ["vocab_size": c.vocab, "n_embd": c.dim, "n_inner": c.ffn, "n_layer": c.layers, "n_head": c.heads, "n_positions": c.context,
         "layer_norm_epsilon": c.normEpsilon, "tie_word_embeddings": c.tiedEmbeddings,
         "activation_function": "gelu_new", "scale_attn_weights": true]
    }

    public static func config(gguf m: ConfigReader) throws -> ModelConfig {
        try ModelConfig.ggufCommon(m, name, epsilon: "attention.layer_norm_epsilon")
    }

    public static func ggufMetadata(_ c: ModelConfig) -> [(String, GGUFValue)] {
        [("gpt2.attention.layer_norm_epsilon", .float(Double(c.rmsEps)))]
    }

    public static func embed(_ ids: Tensor, _ p: ForwardPass) throws -> Tensor {
        let positions = try Tensor((0..<(p.batch * p.tokens)).map { Float(p.start(row: $0 / p.tokens) + $0 % p.tokens) }, shape: [p.batch, p.tokens])
        return try p.model.embedding.embedding(ids).adding(p.model.globals["transformer.wpe.weight"]!.embedding(positions))
    }

    public static func block(_ x: Tensor, _ b: TransformerBlock, _ p: ForwardPass) throws -> Tensor {
        let c = p.config
        let h = try x.layerNorm(weight: b["ln_1.weight"], bias: b["ln_1.bias"], eps: c.rmsEps)
        let qkv = try p.linear(b.linear("qkv"), h)
        let q = try p.heads(qkv.slice(axis: 2, start: 0, end: c.dim), c.heads)
        let k = try p.heads(qkv.slice(axis: 2, start: c.dim, end: 2 * c.dim), c.heads)
        let v = try p.heads(qkv.slice(axis: 2, start: 2 * c.dim, end: 3 * c.dim), c.heads)
        let r = try x.adding(p.linear(b.linear("o"), p.attend(layer: b.index, q, k, v)))
        let m = try r.layerNorm(weight: b["ln_2.weight"], bias: b["ln_2.bias"], eps: c.rmsEps)
        return try r.adding(p.linear(b.linear("down"), p.linear(b.linear("up"), m).geluTanh()))
    }

    public static func finalNorm(_ x: Tensor, _ p: ForwardPass) throws -> Tensor {
        try x.layerNorm(weight: p.model.globals["transformer.ln_f.weight"]!, bias: p.model.globals["transformer.ln_f.bias"]!, eps: p.config.rmsEps)
    }
}
