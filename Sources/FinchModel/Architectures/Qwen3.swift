import FinchTensor

/// Qwen3: the llama block with RMSNorm on each head of q and k (before the rotation), no biases,
/// and a head size that config.json gives (head_dim, not hidden_size / heads).
public enum Qwen3: LlamaLike {
    public static let name = "qwen3"
    public static let hfClass = "Qwen3ForCausalLM"

    public static func blockTensors(_ c: ModelConfig, layer: Int) -> [TensorSpec] { LlamaStyle.block(c, qkNorm: true) }

    public static func config(huggingFace j: ConfigReader) throws -> ModelConfig {
        try QwenSlidingWindow.check(j)
        return try LlamaStyle.config(j, name)
    }

    public static func block(_ x: Tensor, _ b: TransformerBlock, _ pass: ForwardPass) throws -> Tensor {
        try LlamaStyle.forward(x, b, pass, qkNorm: true)
    }
}
