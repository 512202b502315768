import FinchModel
import FinchTensor
import Foundation

/// What one training step of a llama-family model needs: memory by kind and floating-point work.
/// The reasoning behind the course's model-size-by-compute table, in numbers Finch itself measures.
public struct TrainingEstimate: Sendable, Equatable {
    public enum Method: String, Sendable { case full, lora }
    public var weightsBytes: Double
    public var gradientBytes: Double
    public var optimizerBytes: Double
    public var activationBytes: Double
    /// Forward + backward (+ the optimiser's few per parameter) per step.
    public var flopsPerStep: Double
    public var totalBytes: Double { weightsBytes + gradientBytes + optimizerBytes + activationBytes }

    /// A model of `parameters` with the given shape (layers, dim, MLP width, vocabulary; by default
    /// the shape a llama model of that size usually has), trained at batch × seq tokens, float32.
    ///
    /// Activations: what Finch's tape keeps per token and layer — the attention and MLP norms'
    /// normalised inputs and outputs, q/k/v after rotation, the attention output, the MLP's gate,
    /// up and their product — about 8·dim + 3·ffn floats, plus a chunk of the output head's
    /// logits. Full finetuning adds a gradient per weight and AdamW's two moments; LoRA (rank 8
    /// on q and v) trains a fraction of a percent and skips the frozen weights' gradients (a third
    /// of the backward work), and a frozen layer without an adapter keeps no input: the MLP's
    /// normalised input and the product down reads (dim + ffn floats) are not kept.
    /// With `base`, LoRA's frozen projections are kept in those blocks (`lora(base:)`): 1.125 or
    /// 0.625 bytes per weight instead of 4; the embedding and the norms stay float32.
    public static func of(parameters: Int, method: Method, batch: Int, seq: Int, layers: Int? = nil, dim: Int? = nil,
                          ffn: Int? = nil, vocab: Int = 49152, kvDim: Int? = nil, loraRank: Int = 8, base: QuantFormat? = nil) -> TrainingEstimate {
        let p = Double(parameters)
        // Without a shape: the width llama-family models of that size have (about 1.6·∛parameters:
        // SmolLM2-135M 576, 1.7B 2048, Llama-7B 4096), depth from 12·dim² parameters per layer.
        let d = Double(dim ?? max(64, Int((1.6 * Foundation.cbrt(p) / 64).rounded()) * 64))
        let l = Double(layers ?? max(1, Int(((p - Double(vocab) * d) / (12 * d * d)).rounded())))
        let f = Double(ffn ?? Int(d * 8 / 3))
        let kv = Double(kvDim ?? Int(d / 3))
        let tokens = Double(batch) * Double(seq)
        let perTokenLayer = 8 * d + 2 * kv + 3 * f - (method == .lora ? d + f : 0)
        let headChunk = min(256, tokens) * Double(vocab)
        let activations = 4 * (tokens * l * perTokenLayer + headChunk + tokens * d * 4)
        let weights = 4 * p
        switch method {
        case .full:
            return TrainingEstimate(weightsBytes: weights, gradientBytes: weights, optimizerBytes: 2 * weights,
                                    activationBytes: activations, flopsPerStep: 6 * p * tokens)
        case .lora:
            let adapters = l * Double(loraRank) * 2 * (d + d) + l * Double(loraRank) * 2 * (d + kv) / 2
            // q and o d·d, k and v d·kv, the MLP's three d·ffn.
            let projections = Swift.min(p, l * (2 * d * d + 2 * d * kv + 3 * d * f))
            let frozen = base.map { projections * $0.bytesPerWeight + 4 * (p - projections) } ?? weights
            return TrainingEstimate(weightsBytes: frozen + 4 * adapters, gradientBytes: 4 * adapters, optimizerBytes: 8 * adapters,
                                    activationBytes: activations, flopsPerStep: 4 * p * tokens)
        }
    }
}

extension TrainingEstimate {
    /// The estimate for a model's own shape, its weights counted as it holds them (a base kept in blocks at their bytes).
    public static func of(_ m: LanguageModel, method: Method, batch: Int, seq: Int, loraRank: Int = 8) -> TrainingEstimate {
        let c = m.config
        var e = of(parameters: m.parameterCount, method: method, batch: batch, seq: seq, layers: c.layers, dim: c.dim, ffn: c.ffn,
                   vocab: c.vocab, kvDim: c.kvHeads * c.headDim, loraRank: loraRank)
        e.weightsBytes += Double(m.weightBytes - 4 * m.parameterCount)
        return e
    }
}
