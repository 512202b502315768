import FinchTensor

/// A low-rank adapter on a linear layer: y = x Wᵀ + b + (alpha / r) · (x Aᵀ) Bᵀ, with A [r, in]
/// drawn small and random and B [out, r] zero, so training starts from the unchanged model.
/// Only A and B train; merging adds (alpha / r) · B A into W.
public final class LoRA {
    public let a: Tensor
    public let b: Tensor
    public let rank: Int
    public let alpha: Float
    public var scale: Float { alpha / Float(rank) }

    /// A as PEFT initialises it (Kaiming-uniform, bound 1/√in), B zero.
    public init(inFeatures: Int, outFeatures: Int, rank: Int, alpha: Float, rng: inout RNG) throws {
        guard rank > 0 else { throw ModelError("LoRA rank must be positive, got \(rank)") }
        let bound = 1 / Float(inFeatures).squareRoot()
        a = try Tensor.uniform([rank, inFeatures], low: -bound, high: bound, rng: &rng)
        b = try Tensor.zeros([outFeatures, rank])
        a.requiresGrad = true
        b.requiresGrad = true
        self.rank = rank
        self.alpha = alpha
    }

    /// (alpha / r) · (x Aᵀ) Bᵀ.
    func delta(_ x: Tensor) throws -> Tensor {
        try x.linear(a).linear(b).multiplying(.scalar(scale))
    }
}

extension Linear {
    /// W + (alpha / r) · B A folded into the weight; the adapter is removed.
    public func mergeLoRA() throws {
        guard let lora else { return }
        let update = try GradMode.noGrad { try lora.b.matmul(lora.a).multiplying(.scalar(lora.scale)) }
        try weight.assign(GradMode.noGrad { try weight.adding(update) })
        self.lora = nil
    }
}

extension LanguageModel {
    /// The projections LoRA can wrap, by the short names PEFT's target_modules use.
    public static let loraTargets = ["q", "k", "v", "o", "gate", "up", "down"]

    /// Wraps the named projections of every block with LoRA adapters and freezes everything else.
    public func addLoRA(rank: Int = 8, alpha: Float = 16, targets: [String] = ["q", "v"], seed: UInt64 = 0) throws {
        let unknown = targets.filter { !LanguageModel.loraTargets.contains($0) }
        guard unknown.isEmpty, !targets.isEmpty else {
            throw ModelError("LoRA targets must be among \(LanguageModel.loraTargets.joined(separator: ", ")), got \(targets)")
        }
        var rng = RNG(seed: seed)
        for p in parameters { p.tensor.requiresGrad = false }
        for block in blocks {
            for (name, layer) in block.namedLinears where targets.contains(name) {
                layer.lora = try LoRA(inFeatures: layer.inFeatures, outFeatures: layer.outFeatures, rank: rank, alpha: alpha, rng: &rng)
            }
        }
    }

    /// Folds every adapter into its weight (the model then has no LoRA parameters).
    public func mergeLoRA() throws {
        for block in blocks { for (_, layer) in block.namedLinears { try layer.mergeLoRA() } }
    }

    /// The adapters' tensors, named as PEFT names them for llama models.
    public var loraParameters: [(name: String, tensor: Tensor)] {
        var out: [(String, Tensor)] = []
        for (l, block) in blocks.enumerated() {
            for (name, layer) in block.namedLinears {
                guard let lora = layer.lora else { continue }
                let module = "base_model.model.model.layers.\(l).\(TransformerBlock.moduleName[name]!)"
                out.append((module + ".lora_A.weight", lora.a))
                out.append((module + ".lora_B.weight", lora.b))
            }
        }
        return out
    }

    /// Every tensor that trains: the model's own unfrozen parameters and the adapters'.
    public var trainableTensors: [Tensor] { parameters.map(\.tensor).filter(\.requiresGrad) + loraParameters.map(\.tensor) }
}

extension TransformerBlock {
    /// Hugging Face's module path of each projection.
    static let moduleName = ["q": "self_attn.q_proj", "k": "self_attn.k_proj", "v": "self_attn.v_proj", "o": "self_attn.o_proj",
                             "gate": "mlp.gate_proj", "up": "mlp.up_proj", "down": "mlp.down_proj"]

    /// The projections with their short names, in order.
    var namedLinears: [(String, Linear)] { [("q", q), ("k", k), ("v", v), ("o", o), ("gate", gate), ("up", up), ("down", down)] }
}
