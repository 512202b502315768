import FinchTensor
#if canImport(Glibc)
import Glibc
#endif

/// A low-rank adapter on a linear layer: y = x Wᵀ + b + (alpha / r) · (x Aᵀ) Bᵀ, with A [r, in]
/// drawn small and random and B [out, r] zero, so training starts from the unchanged model.
/// Only A and B train; merging adds (alpha / r) · B A into W.
public final class LoRA {
    public let a: Tensor
    public let b: Tensor
    public let rank: Int
    public let alpha: Float
    /// Probability of dropping each input of the adapter while training.
    public var dropout: Float = 0
    /// The model whose training flag and dropout generator the adapter uses.
    weak var owner: LanguageModel?
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
        var x = x
        if dropout > 0, GradMode.takesGradients, let owner, owner.training {
            // Inverted dropout: kept inputs scaled by 1/(1 − p), so evaluation needs no change.
            let keep = 1 - dropout
            var mask = [Float](repeating: 0, count: x.count)
            for i in mask.indices where Float.random(in: 0..<1, using: &owner.dropoutRNG) < keep { mask[i] = 1 / keep }
            x = try x.multiplying(Tensor(mask, shape: x.shape))
        }
        return try x.linear(a).linear(b).multiplying(.scalar(scale))
    }
}

extension Linear {
    /// W + (alpha / r) · B A folded into the weight; the adapter is removed.
    /// A weight frozen in blocks becomes float32 (its blocks widened, plus the update): the sum is no block's.
    public func mergeLoRA() throws {
        guard let lora else { return }
        let update = try GradMode.noGrad { try lora.b.matmul(lora.a).multiplying(.scalar(lora.scale)) }
        let w = try stored.floats()
        try w.assign(GradMode.noGrad { try w.adding(update) })
        stored = .dense(w)
        self.lora = nil
    }
}

extension LanguageModel {
    /// The short names of the projections a LoRA target names, as Finch or PEFT spell it: a short
    /// name ("q", "qkv"), a module path ("self_attn.q_proj") or its last part ("q_proj"; GPT-2's
    /// "c_proj" names both the attention's and the MLP's output).
    func loraTargets(_ name: String) -> [String] {
        family.linears.filter { $0.short == name || $0.module == name || $0.module.hasSuffix("." + name) }.map(\.short)
    }

    /// Wraps the named projections of every block with LoRA adapters and freezes everything else.
    /// No targets means the family's defaults (PEFT's: q and v, or the fused qkv).
    /// `dropout` drops adapter inputs while training (PEFT's lora_dropout).
    public func addLoRA(rank: Int = 8, alpha: Float = 16, targets: [String]? = nil, dropout: Float = 0, seed: UInt64 = 0) throws {
        let targets = targets ?? family.defaultLoRATargets
        let unknown = targets.filter { loraTargets($0).isEmpty }
        guard unknown.isEmpty, !targets.isEmpty else {
            let layers = family.linears.map { "\($0.short) (\($0.module))" }
            throw ModelError("LoRA targets \(unknown.isEmpty ? "must not be empty" : "\(unknown) match no layer"); the layers of each \(family.name) block are: \(layers.joined(separator: ", "))")
        }
        guard dropout >= 0, dropout < 1 else { throw ModelError("LoRA dropout must be in [0, 1), got \(dropout)") }
        var rng = RNG(seed: seed)
        for p in parameters { p.tensor.requiresGrad = false }
        let names = Set(targets.flatMap(loraTargets))
        for block in blocks {
            for (name, layer) in block.linears where names.contains(name) {
                layer.lora = try LoRA(inFeatures: layer.inFeatures, outFeatures: layer.outFeatures, rank: rank, alpha: alpha, rng: &rng)
                layer.lora!.dropout = dropout
                layer.lora!.owner = self
            }
        }
        dropoutRNG = RNG(seed: seed &+ 1)
    }

    /// Stops (or starts) training the parameters whose names match a glob pattern ("*" any text,
    /// "?" one character; "model.layers.1?.*"); no pattern means every parameter. Returns how many
    /// tensors matched; a pattern that matches none is an error listing some names.
    @discardableResult
    public func setTrainable(_ trainable: Bool, matching pattern: String? = nil) throws -> Int {
        let all = weights, matched = all.filter { pattern == nil || fnmatch(pattern!, $0.name, 0) == 0 }
        guard !matched.isEmpty else {
            let some = all.prefix(6).map(\.name) + ["...", all.last!.name]
            throw ModelError("no parameter name matches \(pattern!) (names look like \(some.joined(separator: ", ")))")
        }
        if trainable, let kept = matched.first(where: { $0.weight.format != nil }) {
            throw ModelError("\(kept.name) is kept in \(kept.weight.format!.rawValue.uppercased()) blocks (LoRA over a quantized base) and cannot train: m.lora(base: \"f32\") widens the base back to float32 first")
        }
        for p in matched { p.weight.tensor?.requiresGrad = trainable }
        return matched.count
    }

    /// Keeps every frozen projection weight in `format`'s blocks (QLoRA's idea): the float32 copy
    /// is freed, products widen the blocks one matrix at a time, and only adapters and other
    /// tensors stay float32. nil brings the blocks back to float32 (widened, still frozen).
    /// Weights that train, and projections whose rows are not whole blocks of 32, stay as they are.
    public func keepBase(in format: QuantFormat?) throws {
        for block in blocks {
            for (_, layer) in block.linears where layer.inFeatures % 32 == 0 && !layer.stored.requiresGrad { try layer.freeze(format) }
        }
        // The freed weights would otherwise stay in the cache of freed buffers, and in the process.
        if format != nil { Tensor.releaseCachedBuffers() }
    }

    /// Removes every adapter without merging it.
    public func removeLoRA() {
        for block in blocks { for (_, layer) in block.linears { layer.lora = nil } }
    }

    /// Runs `body` on the model without adapters (it adds the new ones); if it throws, the model
    /// gets back the adapters and trainable flags it had, so a bad adapter file loses nothing.
    func replacingAdapters(_ body: () throws -> Void) throws {
        let saved = adapters, params = parameters, trainable = params.map(\.tensor.requiresGrad)
        removeLoRA()
        do { try body() } catch {
            removeLoRA()
            for (_, _, layer, lora) in saved { layer.lora = lora }
            for (p, t) in zip(params, trainable) { p.tensor.requiresGrad = t }
            throw error
        }
    }

    /// Folds every adapter into its weight (the model then has no LoRA parameters).
    public func mergeLoRA() throws {
        for block in blocks { for (_, layer) in block.linears { try layer.mergeLoRA() } }
    }

    /// Every adapter with its block's index and its layer, in block order then the family's order.
    var adapters: [(block: Int, short: String, layer: Linear, lora: LoRA)] {
        blocks.enumerated().flatMap { l, block in
            block.linears.compactMap { short, layer in layer.lora.map { (l, short, layer, $0) } }
        }
    }

    /// The adapters' tensors, named as PEFT names them.
    public var loraParameters: [(name: String, tensor: Tensor)] {
        adapters.flatMap { l, short, _, lora in
            let module = "base_model.model.\(family.blockPrefix)\(l).\(family.module(short)!)"
            return [(module + ".lora_A.weight", lora.a), (module + ".lora_B.weight", lora.b)]
        }
    }

    /// Every tensor that trains: the model's own unfrozen parameters and the adapters'.
    public var trainableTensors: [Tensor] { parameters.map(\.tensor).filter(\.requiresGrad) + loraParameters.map(\.tensor) }
}
