/// The names of a llama-family model's tensors in the Hugging Face layout (what Finch
/// uses, and safetensors and PEFT adapters hold) and in GGUF, from one table.
public enum ParameterNames {
    /// (Hugging Face suffix after `model.layers.N.`, GGUF suffix after `blk.N.`).
    static let layerTable: [(hf: String, gguf: String)] = [
        ("input_layernorm.weight", "attn_norm.weight"),
        ("self_attn.q_proj.weight", "attn_q.weight"), ("self_attn.q_proj.bias", "attn_q.bias"),
        ("self_attn.k_proj.weight", "attn_k.weight"), ("self_attn.k_proj.bias", "attn_k.bias"),
        ("self_attn.v_proj.weight", "attn_v.weight"), ("self_attn.v_proj.bias", "attn_v.bias"),
        ("self_attn.o_proj.weight", "attn_output.weight"),
        ("post_attention_layernorm.weight", "ffn_norm.weight"),
        ("mlp.gate_proj.weight", "ffn_gate.weight"),
        ("mlp.up_proj.weight", "ffn_up.weight"),
        ("mlp.down_proj.weight", "ffn_down.weight"),
    ]
    static let globalTable: [(hf: String, gguf: String)] = [
        ("model.embed_tokens.weight", "token_embd.weight"),
        ("model.norm.weight", "output_norm.weight"),
        ("lm_head.weight", "output.weight"),
    ]

    /// The GGUF name of a Hugging Face tensor name, if it has one.
    public static func gguf(fromHF name: String) -> String? {
        if let g = globalTable.first(where: { $0.hf == name }) { return g.gguf }
        guard let (layer, suffix) = split(name, prefix: "model.layers."),
              let row = layerTable.first(where: { $0.hf == suffix }) else { return nil }
        return "blk.\(layer).\(row.gguf)"
    }

    /// The Hugging Face name of a GGUF tensor name, if it has one.
    public static func hf(fromGGUF name: String) -> String? {
        if let g = globalTable.first(where: { $0.gguf == name }) { return g.hf }
        guard let (layer, suffix) = split(name, prefix: "blk."),
              let row = layerTable.first(where: { $0.gguf == suffix }) else { return nil }
        return "model.layers.\(layer).\(row.hf)"
    }

    /// ("3", "mlp.up_proj.weight") from "model.layers.3.mlp.up_proj.weight".
    private static func split(_ name: String, prefix: String) -> (Int, String)? {
        guard name.hasPrefix(prefix) else { return nil }
        let rest = name.dropFirst(prefix.count)
        guard let dot = rest.firstIndex(of: "."), let layer = Int(rest[..<dot]) else { return nil }
        return (layer, String(rest[rest.index(after: dot)...]))
    }

    /// Every tensor a model of this configuration has, with its shape, in order.
    public static func expected(_ c: ModelConfig) -> [(name: String, shape: [Int])] {
        var out: [(String, [Int])] = [("model.embed_tokens.weight", [c.vocab, c.dim])]
        for l in 0..<c.layers {
            let p = "model.layers.\(l)."
            out.append((p + "input_layernorm.weight", [c.dim]))
            out.append((p + "self_attn.q_proj.weight", [c.dim, c.dim]))
            if c.attentionBias { out.append((p + "self_attn.q_proj.bias", [c.dim])) }
            out.append((p + "self_attn.k_proj.weight", [c.kvDim, c.dim]))
            if c.attentionBias { out.append((p + "self_attn.k_proj.bias", [c.kvDim])) }
            out.append((p + "self_attn.v_proj.weight", [c.kvDim, c.dim]))
            if c.attentionBias { out.append((p + "self_attn.v_proj.bias", [c.kvDim])) }
            out.append((p + "self_attn.o_proj.weight", [c.dim, c.dim]))
            out.append((p + "post_attention_layernorm.weight", [c.dim]))
            out.append((p + "mlp.gate_proj.weight", [c.ffn, c.dim]))
            out.append((p + "mlp.up_proj.weight", [c.ffn, c.dim]))
            out.append((p + "mlp.down_proj.weight", [c.dim, c.ffn]))
        }
        out.append(("model.norm.weight", [c.dim]))
        if !c.tiedEmbeddings { out.append(("lm_head.weight", [c.vocab, c.dim])) }
        return out
    }
}
