import FinchTensor
import Foundation

/// Mistral: the llama block with sliding-window attention where config.json sets sliding_window
/// (Mistral 7B v0.1: each query sees the last 4096 positions). llama.cpp writes Mistral as "llama".
public enum Mistral: LlamaLike {
    public static let name = "mistral"
    public static let ggufName = "llama"
    public static let hfClass = "MistralForCausalLM"

    public static func blockTensors(_ c: ModelConfig, layer: Int) -> [TensorSpec] {
        LlamaStyle.block(c, qk: .rotaryPairs(heads: c.heads), .rotaryPairs(heads: c.kvHeads))
    }

    public static func config(huggingFace j: ConfigReader) throws -> ModelConfig { try LlamaStyle.config(j, name, window: true) }

    public static func huggingFaceJSON(_ c: ModelConfig) -> [String: Any] {
        var j = LlamaStyle.json(c)
        j["sliding_window"] = c.slidingWindow.map { $0 as Any } ?? NSNull()
        return j
    }
}
