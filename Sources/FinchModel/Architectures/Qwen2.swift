import FinchTensor

/// Qwen2 and Qwen2.5: the llama block with biases on q, k and v; the head tied or not as the
/// config says. llama.cpp rotates Qwen's halves as Hugging Face does, so q and k are stored as they are.
public enum Qwen2: LlamaLike {
    public static let name = "qwen2"
    public static let hfClass = "Qwen2ForCausalLM"
    public static let biasByDefault = true

    public static func config(huggingFace j: ConfigReader) throws -> ModelConfig {
        try QwenSlidingWindow.check(j)
        var c = try LlamaStyle.config(j, name)
        // Qwen2's q, k and v always carry biases; its config.json does not say so.
        c.attentionBias = try j.bool("attention_bias") ?? true
        return c
    }
}

/// Qwen's use_sliding_window applies a window to some layers only; the released models leave it off.
enum QwenSlidingWindow {
    static func check(_ j: ConfigReader) throws {
        if try j.bool("use_sliding_window") == true {
            throw ModelError("\(j.source): use_sliding_window is true, which Finch does not support for Qwen (the released models leave it false)")
        }
    }
}
