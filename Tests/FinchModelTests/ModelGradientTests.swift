import FinchModel
import FinchTensor
import Testing

/// The whole model's backward pass against finite differences: every kind of parameter
/// (embedding, norms, q/k/v/o, gate/up/down, a separate head, biases) on a tiny model.
@Suite struct ModelGradientTests {
    /// Each family with its options on: a window shorter than the sequence, partial rotary, its own head size, rope scaling,
    /// Gemma's alternating windows, query scale, soft caps and local rope base.
    static func config(_ architecture: String) -> ModelConfig {
        let gqa = Architectures.named(architecture)!.groupedQueryAttention
        let gemma = architecture.hasPrefix("gemma")
        return ModelConfig(architecture: architecture, vocab: 13, dim: 8, layers: 2, heads: 2, kvHeads: gqa ? 1 : 2, ffn: 12, context: 16,
                           tiedEmbeddings: ["llama", "gpt2", "gemma2"].contains(architecture),
                           headDim: architecture == "qwen3" || gemma ? 6 : nil, rotaryDim: architecture == "gpt_neox" ? 2 : nil,
                           ropeScaling: architecture == "llama" ? RopeScaling(factor: 4, lowFrequencyFactor: 1, highFrequencyFactor: 2, originalContext: 4) : nil,
                           slidingWindow: ["mistral", "phi3"].contains(architecture) || gemma ? 3 : nil, parallelResidual: true,
                           slidingLayers: gemma ? [true, false] : nil, localRopeTheta: architecture == "gemma3_text" ? 50 : nil,
                           queryScale: gemma ? 5 : nil, attentionSoftcap: architecture == "gemma2" ? 2 : nil,
                           finalSoftcap: architecture == "gemma2" ? 3 : nil)
    }

    @Test(arguments: Architectures.names)
    func lossGradientsMatchFiniteDifferences(_ architecture: String) throws {
        let config = Self.config(architecture)
        let m = try LanguageModel.random(config, seed: 3)
        var rng = RNG(seed: 5)
        // Larger weights than the 0.02 of a fresh model, so every path carries a visible gradient.
        for p in m.parameters { try p.tensor.assign(Tensor.normal(p.tensor.shape, std: 0.5, rng: &rng).adding(p.tensor)) }
        let ids = try Tensor([3, 7, 1, 12, 5, 0, 9, 2, 4, 4], shape: [2, 5])
        let labels = try Tensor([-100, -100, 1, 12, 5, 0, 9, 2, -100, 4], shape: [2, 5])
        func objective() throws -> Double {
            Double(try GradMode.noGrad { try m.loss(ids: ids, labels: labels).sum.item() })
        }
        for p in m.parameters { p.tensor.zeroGrad() }
        let (loss, tokens) = try m.loss(ids: ids, labels: labels)
        #expect(tokens == 6)
        try loss.backward()
        let h: Float = 1e-2
        for p in m.parameters {
            let grad = try #require(p.tensor.grad, "\(p.name) got no gradient").scalars
            // A few elements of each parameter: the first, the last and one in between.
            for i in Set([0, p.tensor.count / 2, p.tensor.count - 1]) {
                let index = unravel(i, p.tensor.shape)
                let saved = try p.tensor.element(index)
                try p.tensor.setElement(index, saved + h)
                let up = try objective()
                try p.tensor.setElement(index, saved - h)
                let down = try objective()
                try p.tensor.setElement(index, saved)
                let numeric = Float((up - down) / Double(2 * h))
                #expect(abs(numeric - grad[i]) <= 2e-2 * max(1, abs(numeric)), "\(p.name)[\(index)]: autograd \(grad[i]) vs finite difference \(numeric)")
            }
        }
    }

    func unravel(_ i: Int, _ shape: [Int]) -> [Int] {
        var rest = i, out = [Int](repeating: 0, count: shape.count)
        for d in stride(from: shape.count - 1, through: 0, by: -1) { out[d] = rest % shape[d]; rest /= shape[d] }
        return out
    }
}
