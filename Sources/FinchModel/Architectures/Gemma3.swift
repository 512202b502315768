import FinchTensor
import Foundation

/// Gemma 3 text models (Gemma3ForCausalLM, model_type gemma3_text: the 270M and 1B): Gemma 2's
/// block with RMSNorm (1 + w) on each head of q and k instead of soft caps, five sliding-window
/// layers to each global one, and the sliding layers' own rotary base (rope_local_base_freq).
public enum Gemma3: Architecture {
    public static let name = "gemma3_text"
    public static let ggufName = "gemma3"
    public static let hfClass = "Gemma3ForCausalLM"
    public static let linears = LlamaStyle.linears

    public static func globalTensors(_ c: ModelConfig) -> (before: [TensorSpec], after: [TensorSpec]) { GemmaStyle.globals(c) }
    public static func blockTensors(_ c: ModelConfig, layer: Int) -> [TensorSpec] { GemmaStyle.block(c, qkNorm: true) }

    public static func config(huggingFace j: ConfigReader) throws -> ModelConfig {
        for key in ["attn_logit_softcapping", "final_logit_softcapping"] where try j.double(key) != nil {
            throw ModelError("\(j.source): \(key) is set, which Gemma 3 does not use and Finch does not support for it")
        }
        return try GemmaStyle.config(j, name, pattern: 6)
    }

    public static func huggingFaceJSON(_ c: ModelConfig) -> [String: Any] {
        var j = GemmaStyle.json(c)
        j["sliding_window_pattern"] = 6
        return j
    }

    public static func config(gguf m: ConfigReader) throws -> ModelConfig { try GemmaStyle.config(gguf: m, name, pattern: 6, localTheta: 10000) }
    public static func ggufMetadata(_ c: ModelConfig) -> [(String, GGUFValue)] { GemmaStyle.ggufMetadata(c, ggufName) }

    public static func embed(_ ids: Tensor, _ p: ForwardPass) throws -> Tensor { try GemmaStyle.embed(ids, p) }
    public static func block(_ x: Tensor, _ b: TransformerBlock, _ p: ForwardPass) throws -> Tensor {
        try GemmaStyle.forward(x, b, p, qkNorm: true)
    }
    public static func finalNorm(_ x: Tensor, _ p: ForwardPass) throws -> Tensor { try GemmaStyle.finalNorm(x, p) }
}
