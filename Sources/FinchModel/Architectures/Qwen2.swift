import FinchTensor

/// Qwen2 and Qwen2.5: the llama block with biases on q, k and v; the head tied or not as the
/// config says. llama.cpp rotates Qwen's halves as Hugging Face does, so q and k are stored as they are.
public enum Qwen2: Architecture {
    public static let name = "qwen2"
    public static let hfClass = "Qwen2ForCausalLM"
    public static let linears = LlamaStyle.linears
    public static let biasByDefault = true

    public static func globalTensors(_ c: ModelConfig) -> (before: [TensorSpec], after: [TensorSpec]) { LlamaStyle.globals(c) }
    public static func blockTensors(_ c: ModelConfig, layer: Int) -> [TensorSpec] { LlamaStyle.block(c) }

    public static func config(huggingFace j: ConfigReader) throws -> ModelConfig {
        try QwenSlidingWindow.check(j)
        var c = try LlamaStyle.config(j, name)
        // Qwen2's q, k and v always carry biases; its config.json does not say so.
        c.attentionBias = try j.bool("attention_bias") ?? true
        return c
    }

    public static func huggingFaceJSON(_ c: ModelConfig) -> [String: Any] { LlamaStyle.json(c) }
    public static func config(gguf m: ConfigReader) throws -> ModelConfig { try LlamaStyle.config(gguf: m, name) }
    public static func ggufMetadata(_ c: ModelConfig) -> [(String, GGUFValue)] { LlamaStyle.ggufMetadata(c, ggufName) }

    public static func block(_ x: Tensor, _ b: TransformerBlock, _ pass: ForwardPass) throws -> Tensor {
        try LlamaStyle.forward(x, b, pass)
    }

    public static func finalNorm(_ x: Tensor, _ pass: ForwardPass) throws -> Tensor { try LlamaStyle.finalNorm(x, pass) }
}

/// Qwen's use_sliding_window applies a window to some layers only; the released models leave it off.
enum QwenSlidingWindow {
    static func check(_ j: ConfigReader) throws {
        if try j.bool("use_sliding_window") == true {
            throw ModelError("\(j.source): use_sliding_window is true, which Finch does not support for Qwen (the released models leave it false)")
        }
    }
}
