import FinchTensor
import Foundation

/// Gemma 2: the token embedding scaled by √dim; RMSNorm as x̂·(1 + w); a norm before and after
/// both attention and the MLP; GeGLU (GELU-tanh gate); attention scores scaled by
/// 1/√query_pre_attn_scalar and soft-capped (c·tanh(s/c)), the logits soft-capped too; sliding-window
/// attention on every other layer (the first included).
///   h = x + n₂(o(attention(n₁(x))));  y = h + n₄(down(gelu(gate(n₃(h))) ⊙ up(n₃(h))))
public enum Gemma2: Architecture {
    public static let name = "gemma2"
    public static let hfClass = "Gemma2ForCausalLM"
    public static let linears = LlamaStyle.linears

    public static func globalTensors(_ c: ModelConfig) -> (before: [TensorSpec], after: [TensorSpec]) { GemmaStyle.globals(c) }
    public static func blockTensors(_ c: ModelConfig, layer: Int) -> [TensorSpec] { GemmaStyle.block(c) }

    public static func config(huggingFace j: ConfigReader) throws -> ModelConfig {
        var c = try GemmaStyle.config(j, name, pattern: 2)
        c.attentionSoftcap = try j.double("attn_logit_softcapping")
        c.finalSoftcap = try j.double("final_logit_softcapping")
        return c
    }

    public static func huggingFaceJSON(_ c: ModelConfig) -> [String: Any] {
        var j = GemmaStyle.json(c)
        j["attn_logit_softcapping"] = c.attentionSoftcap.map { $0 as Any } ?? NSNull()
        j["final_logit_softcapping"] = c.finalSoftcap.map { $0 as Any } ?? NSNull()
        return j
    }

    public static func config(gguf m: ConfigReader) throws -> ModelConfig {
        var c = try GemmaStyle.config(gguf: m, name, pattern: 2)
        c.attentionSoftcap = try m.double("attn_logit_softcapping")
        c.finalSoftcap = try m.double("final_logit_softcapping")
        return c
    }

    public static func ggufMetadata(_ c: ModelConfig) -> [(String, GGUFValue)] {
        var meta = GemmaStyle.ggufMetadata(c, ggufName)
        if let s = c.attentionSoftcap { meta.append(("\(ggufName).attn_logit_softcapping", .float(s))) }
        if let s = c.finalSoftcap { meta.append(("\(ggufName).final_logit_softcapping", .float(s))) }
        return meta
    }

    public static func embed(_ ids: Tensor, _ p: ForwardPass) throws -> Tensor { try GemmaStyle.embed(ids, p) }
    public static func block(_ x: Tensor, _ b: TransformerBlock, _ p: ForwardPass) throws -> Tensor { try GemmaStyle.forward(x, b, p) }
    public static func finalNorm(_ x: Tensor, _ p: ForwardPass) throws -> Tensor { try GemmaStyle.finalNorm(x, p) }
}

/// What Gemma 2 and Gemma 3 share: the names, the (1 + w) norms, the sandwich block, the config keys.
enum GemmaStyle {
    /// A Gemma norm: zeros in Hugging Face's files (the scale is 1 + w), 1 + w in llama.cpp's.
    static func norm(_ name: String, _ gguf: String, _ size: Int) -> [TensorSpec] {
        [TensorSpec(name + ".weight", gguf + ".weight", [size], .zeros, gguf: .plusOne)]
    }

    static func globals(_ c: ModelConfig) -> (before: [TensorSpec], after: [TensorSpec]) {
        var after = norm("model.norm", "output_norm", c.dim)
        if !c.tiedEmbeddings { after.append(TensorSpec("lm_head.weight", "output.weight", [c.vocab, c.dim])) }
        return ([TensorSpec("model.embed_tokens.weight", "token_embd.weight", [c.vocab, c.dim])], after)
    }

    static func block(_ c: ModelConfig, qkNorm: Bool = false) -> [TensorSpec] {
        var specs = norm("input_layernorm", "attn_norm", c.dim)
        specs += TensorSpec.linear("self_attn.q_proj", "attn_q", out: c.qDim, in: c.dim, bias: c.attentionBias)
        specs += TensorSpec.linear("self_attn.k_proj", "attn_k", out: c.kvDim, in: c.dim, bias: c.attentionBias)
        specs += TensorSpec.linear("self_attn.v_proj", "attn_v", out: c.kvDim, in: c.dim, bias: c.attentionBias)
        if qkNorm {
            specs += norm("self_attn.q_norm", "attn_q_norm", c.headDim)
            specs += norm("self_attn.k_norm", "attn_k_norm", c.headDim)
        }
        specs += TensorSpec.linear("self_attn.o_proj", "attn_output", out: c.dim, in: c.qDim)
        specs += norm("post_attention_layernorm", "post_attention_norm", c.dim)
        specs += norm("pre_feedforward_layernorm", "ffn_norm", c.dim)
        specs += norm("post_feedforward_layernorm", "post_ffw_norm", c.dim)
        specs += TensorSpec.linear("mlp.gate_proj", "ffn_gate", out: c.ffn, in: c.dim)
        specs += TensorSpec.linear("mlp.up_proj", "ffn_up", out: c.ffn, in: c.dim)
        specs += TensorSpec.linear("mlp.down_proj", "ffn_down", out: c.dim, in: c.ffn)
        return specs
    }

    /// x̂ · (1 + w).
    static func rmsNorm(_ x: Tensor, _ w: Tensor, _ eps: Float) throws -> Tensor {
        try x.rmsNorm(weight: w.adding(.scalar(1)), eps: eps)
    }

    static func embed(_ ids: Tensor, _ p: ForwardPass) throws -> Tensor {
        try p.model.embedding.embedding(ids).multiplying(.scalar(Float(Double(p.config.dim).squareRoot())))
    }

    static func forward(_ x: Tensor, _ b: TransformerBlock, _ p: ForwardPass, qkNorm: Bool = false) throws -> Tensor {
        let c = p.config, eps = c.rmsEps
        let h = try rmsNorm(x, b["input_layernorm.weight"], eps)
        let qkv = try p.linears([b.linear("q"), b.linear("k"), b.linear("v")], h)
        var q = try p.heads(qkv[0], c.heads), k = try p.heads(qkv[1], c.kvHeads)
        if qkNorm {
            q = try rmsNorm(q, b["self_attn.q_norm.weight"], eps)
            k = try rmsNorm(k, b["self_attn.k_norm.weight"], eps)
        }
        let local = c.window(layer: b.index) > 0
        let attended = try p.attend(layer: b.index, p.rope(q, local: local), p.rope(k, local: local), p.heads(qkv[2], c.kvHeads))
        let r = try x.adding(rmsNorm(p.linear(b.linear("o"), attended), b["post_attention_layernorm.weight"], eps))
        let m = try rmsNorm(r, b["pre_feedforward_layernorm.weight"], eps)
        let gateUp = try p.linears([b.linear("gate"), b.linear("up")], m)
        let mlp = try p.linear(b.linear("down"), gateUp[0].geluTanh().multiplying(gateUp[1]))
        return try r.adding(rmsNorm(mlp, b["post_feedforward_layernorm.weight"], eps))
    }

    static func finalNorm(_ x: Tensor, _ p: ForwardPass) throws -> Tensor {
        try rmsNorm(x, p.model.globals["model.norm.weight"]!, p.config.rmsEps)
    }

    /// Which layers slide: config.json's layer_types, else every `pattern`-th layer is global (Gemma 2: 2, Gemma 3: 6).
    static func slidingLayers(_ types: [String]?, layers: Int, pattern: Int, source: String) throws -> [Bool] {
        guard let types else { return (0..<layers).map { ($0 + 1) % pattern != 0 } }
        return try types.map { t in
            switch t {
            case "sliding_attention": return true
            case "full_attention": return false
            default: throw ModelError("\(source): layer type \"\(t)\" is not supported (sliding_attention or full_attention)")
            }
        }
    }

    static func config(_ j: ConfigReader, _ name: String, pattern: Int) throws -> ModelConfig {
        if let act = j.string("hidden_activation", "hidden_act"), act != "gelu_pytorch_tanh", act != "gelu_tanh" {
            throw ModelError("\(j.source): hidden_activation \"\(act)\" is not supported for \(name) (only gelu_pytorch_tanh)")
        }
        let heads = try j.int("num_attention_heads"), dim = try j.int("hidden_size"), layers = try j.int("num_hidden_layers")
        let headDim = try j.optionalInt("head_dim") ?? dim / Swift.max(heads, 1)
        // transformers 5 gives Gemma 3 one set of rope parameters per layer type.
        let perType = j.value("rope_parameters") as? [String: Any]
        let full = perType?["full_attention"] as? [String: Any]
        let rope = try RopeSettings(full.map { ConfigReader(json: ["rope_parameters": $0], source: j.source) } ?? j, headDim: headDim)
        let localTheta = try j.double("rope_local_base_freq") ?? ((perType?["sliding_attention"] as? [String: Any])?["rope_theta"] as? NSNumber)?.doubleValue
        let types = j.value("layer_types") as? [String]
        return ModelConfig(architecture: name, vocab: try j.int("vocab_size"), dim: dim, layers: layers, heads: heads,
                           kvHeads: try j.optionalInt("num_key_value_heads") ?? heads, ffn: try j.int("intermediate_size"),
                           context: try j.optionalInt("max_position_embeddings") ?? 8192, ropeTheta: rope.theta,
                           rmsEps: Float(try j.double("rms_norm_eps") ?? 1e-6), tiedEmbeddings: try j.bool("tie_word_embeddings") ?? true,
                           attentionBias: try j.bool("attention_bias") ?? false, headDim: headDim, rotaryDim: rope.rotaryDim,
                           ropeScaling: rope.scaling, slidingWindow: try j.optionalInt("sliding_window"),
                           slidingLayers: try slidingLayers(types, layers: layers, pattern: try j.optionalInt("sliding_window_pattern") ?? pattern, source: j.source),
                           localRopeTheta: localTheta, queryScale: try j.double("query_pre_attn_scalar") ?? Double(headDim))
    }

    static func json(_ c: ModelConfig) -> [String: Any] {
        var j = LlamaStyle.json(c)
        j["hidden_act"] = nil
        j["hidden_activation"] = "gelu_pytorch_tanh"
        j["sliding_window"] = c.slidingWindow.map { $0 as Any } ?? NSNull()
        let scalar = c.queryScale ?? Double(c.headDim)
        j["query_pre_attn_scalar"] = wholeCount(scalar).map { $0 as Any } ?? scalar  // an int in transformers' config
        j["layer_types"] = (0..<c.layers).map { c.window(layer: $0) > 0 ? "sliding_attention" : "full_attention" }
        if let t = c.localRopeTheta { j["rope_local_base_freq"] = t }
        return j
    }

    /// Gemma's GGUF keys; llama.cpp fixes the sliding layers, the local rope base (10000) and the
    /// query scale (1/√head_dim) by model, so Finch writes its own keys beside them.
    static func config(gguf m: ConfigReader, _ name: String, pattern: Int, localTheta: Double? = nil) throws -> ModelConfig {
        var c = try LlamaStyle.config(gguf: m, name)
        c.attentionBias = false
        let flags = (m.value("finch.sliding_layers") as? [Double])?.map { $0 != 0 }
        c.slidingLayers = flags ?? (0..<c.layers).map { ($0 + 1) % pattern != 0 }
        c.localRopeTheta = try m.double("finch.rope.local_freq_base") ?? localTheta
        c.queryScale = try m.double("finch.query_pre_attn_scalar") ?? Double(c.headDim)
        return c
    }

    static func ggufMetadata(_ c: ModelConfig, _ a: String) -> [(String, GGUFValue)] {
        var meta = LlamaStyle.ggufMetadata(c, a)
        meta.append(("finch.sliding_layers", .array((0..<c.layers).map { .uint(c.window(layer: $0) > 0 ? 1 : 0) })))
        if let s = c.queryScale { meta.append(("finch.query_pre_attn_scalar", .float(s))) }
        if let t = c.localRopeTheta { meta.append(("finch.rope.local_freq_base", .float(t))) }
        return meta
    }
}
