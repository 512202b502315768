import FinchTensor

/// Qwen3: the llama block with RMSNorm on each head of q and k (before the rotation), no biases,
/// and a head size that config.json gives (head_dim, not hidden_size / heads).
public enum Qwen3: Architecture {
    public static let name = "qwen3"
    public static let hfClass = "Qwen3ForCausalLM"
    public static let linears = LlamaStyle.linears

    public static func globalTensors(_ c: ModelConfig) -> (before: [TensorSpec], after: [TensorSpec]) { LlamaStyle.globals(c) }
    public static func blockTensors(_ c: ModelConfig, layer: Int) -> [TensorSpec] { LlamaStyle.block(c, qkNorm: true) }

    public static func config(huggingFace j: ConfigReader) throws -> ModelConfig {
        try QwenSlidingWindow.check(j)
        return try LlamaStyle.config(j, name)
    }

    public static func huggingFaceJSON(_ c: ModelConfig) -> [String: Any] { LlamaStyle.json(c) }
    public static func config(gguf m: ConfigReader) throws -> ModelConfig { try LlamaStyle.config(gguf: m, name) }
    public static func ggufMetadata(_ c: ModelConfig) -> [(String, GGUFValue)] { LlamaStyle.ggufMetadata(c, ggufName) }

    public static func block(_ x: Tensor, _ b: TransformerBlock, _ pass: ForwardPass) throws -> Tensor {
        try LlamaStyle.forward(x, b, pass, qkNorm: true)
    }

    public static func finalNorm(_ x: Tensor, _ pass: ForwardPass) throws -> Tensor { try LlamaStyle.finalNorm(x, pass) }
}
