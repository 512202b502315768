import FinchTensor
import Foundation

/// Phi-3 (and Phi-3.5, Phi-4-mini): the llama block with q, k and v fused into one projection
/// (qkv_proj, rows q then k then v) and gate and up fused into another (gate_up_proj, gate first);
/// sliding-window attention where the config sets it.
public enum Phi3: LlamaLike {
    public static let name = "phi3"
    public static let hfClass = "Phi3ForCausalLM"
    public static let linears: [(short: String, module: String)] = [
        ("qkv", "self_attn.qkv_proj"), ("o", "self_attn.o_proj"), ("gate_up", "mlp.gate_up_proj"), ("down", "mlp.down_proj"),
    ]
    public static let defaultLoRATargets = ["qkv"]

    public static func blockTensors(_ c: ModelConfig, layer: Int) -> [TensorSpec] {
        var specs = TensorSpec.norm("input_layernorm", "attn_norm", c.dim)
        specs += TensorSpec.linear("self_attn.qkv_proj", "attn_qkv", out: c.qDim + 2 * c.kvDim, in: c.dim)
        specs += TensorSpec.linear("self_attn.o_proj", "attn_output", out: c.dim, in: c.qDim)
        specs += TensorSpec.norm("post_attention_layernorm", "ffn_norm", c.dim)
        specs += TensorSpec.linear("mlp.gate_up_proj", "ffn_up", out: 2 * c.ffn, in: c.dim)
        specs += TensorSpec.linear("mlp.down_proj", "ffn_down", out: c.dim, in: c.ffn)
        return specs
    }

    public static func config(huggingFace j: ConfigReader) throws -> ModelConfig {
        var c = try LlamaStyle.config(j, name, window: true)
        c.attentionBias = false
        return c
    }

    public static func huggingFaceJSON(_ c: ModelConfig) -> [String: Any] {
        var j = LlamaStyle.json(c)
        j["sliding_window"] = c.slidingWindow.map { $0 as Any } ?? NSNull()
        j["original_max_position_embeddings"] = c.context
        return j
    }

    public static func block(_ x: Tensor, _ b: TransformerBlock, _ p: ForwardPass) throws -> Tensor {
        let c = p.config
        let h = try x.rmsNorm(weight: b["input_layernorm.weight"], eps: c.rmsEps)
        let qkv = try p.linear(b.linear("qkv"), h)
        let q = try qkv.slice(axis: 2, start: 0, end: c.qDim)
        let k = try qkv.slice(axis: 2, start: c.qDim, end: c.qDim + c.kvDim)
        let v = try qkv.slice(axis: 2, start: c.qDim + c.kvDim, end: c.qDim + 2 * c.kvDim)
        let r = try x.adding(p.linear(b.linear("o"), p.selfAttention(layer: b.index, q, k, v)))
        let m = try r.rmsNorm(weight: b["post_attention_layernorm.weight"], eps: c.rmsEps)
        let gateUp = try p.linear(b.linear("gate_up"), m)
        let mixed = try gateUp.slice(axis: 2, start: 0, end: c.ffn).swiglu(gateUp.slice(axis: 2, start: c.ffn, end: 2 * c.ffn))
        return try r.adding(p.linear(b.linear("down"), mixed))
    }
}
