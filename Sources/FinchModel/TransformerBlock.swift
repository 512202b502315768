import FinchTensor

/// One block of a model: its tensors by name (after the block prefix) and its projections as
/// linear layers by the family's short names. What the block computes is its family's `block`.
public final class TransformerBlock {
    public let index: Int
    /// The block's tensors other than its projections' weights (norms, biases) by their Hugging
    /// Face name after "model.layers.N."; each projection's weight belongs to its layer.
    public let tensors: [String: Tensor]
    /// The projections, in the family's order, by short name ("q", "gate", "qkv", ...).
    public let linears: [(name: String, layer: Linear)]

    /// The block's part of `all` (every parameter by its full name); only projections' weights may be frozen.
    init(index: Int, family: any Architecture.Type, weights all: [String: Weight]) {
        let prefix = "\(family.blockPrefix)\(index)."
        var own: [String: Tensor] = [:], projections: [String: Weight] = [:]
        for (name, w) in all where name.hasPrefix(prefix) {
            if family.projection(ofWeight: name) != nil { projections[String(name.dropFirst(prefix.count))] = w }
            else if let t = w.tensor { own[String(name.dropFirst(prefix.count))] = t }
        }
        self.index = index
        self.tensors = own
        self.linears = family.linears.compactMap { short, module in
            projections[module + ".weight"].map { (short, Linear(stored: $0, bias: own[module + ".bias"])) }
        }
    }

    /// A tensor the family declared (present by construction: the model checks every declared tensor).
    public subscript(_ name: String) -> Tensor { tensors[name]! }

    /// A projection by short name.
    public func linear(_ short: String) -> Linear { linears.first { $0.name == short }!.layer }

    /// The block's tensors that train: its own unfrozen ones, its projections' float32 weights that
    /// train, and its adapters'.
    public var trainables: [Tensor] {
        let weights = linears.compactMap { $0.layer.stored.tensor }
        return (tensors.values.filter(\.requiresGrad) + weights.filter(\.requiresGrad)
                + linears.flatMap { $0.layer.lora.map { [$0.a, $0.b] } ?? [] }.filter(\.requiresGrad))
    }
}

/// What the blocks of one forward pass share: the model, the positions, the cache, and whether
/// decoding multiplies by Q8_0 or Q4_1 copies of the weights. A pass over `rows` decodes one token
/// of several sequences at once, each at its own position with its own cache (a server's
/// requests); the projections then read each weight once for all of them.
public struct ForwardPass {
    public let model: LanguageModel
    public let config: ModelConfig
    public let batch: Int
    public let tokens: Int
    /// The position of the first token (the cache's length).
    public let start: Int
    public let cache: KVCache?
    /// The block format decoding multiplies by, or nil for the float32 weights.
    public let quantized: QuantFormat?
    /// One cache per batch row, for a pass of one token per row at each cache's own position.
    public var rows: [KVCache]? = nil

    /// The position of row `b`'s first token.
    public func start(row b: Int) -> Int { rows?[b].length ?? start }

    /// x Wᵀ + b through the layer (its quantized weight when decoding so).
    public func linear(_ layer: Linear, _ x: Tensor) throws -> Tensor {
        try quantized.map { try layer.quantizedCall(x, format: $0) } ?? layer(x)
    }

    /// Several layers on the same input (one parallel job when decoding with quantized weights).
    public func linears(_ layers: [Linear], _ x: Tensor) throws -> [Tensor] {
        try quantized.map { try Linear.quantizedCall(layers, x, format: $0) } ?? layers.map { try $0(x) }
    }

    /// [batch, tokens, n·headDim] seen as [batch, tokens, n, headDim].
    public func heads(_ x: Tensor, _ n: Int) throws -> Tensor {
        try x.reshape([batch, tokens, n, x.shape[x.rank - 1] / n])
    }

    /// Rotary embeddings at this pass's positions; `local` takes the sliding-window layers' table where the config gives them their own.
    public func rope(_ x: Tensor, local: Bool = false) throws -> Tensor {
        let table = local ? model.localRotary ?? model.rotary : model.rotary
        guard let rows else { return try x.rope(table, start: start) }
        return try Tensor.concat(rows.indices.map { b in try x.slice(axis: 0, start: b, end: b + 1).rope(table, start: rows[b].length) })
    }

    /// Causal attention of q [batch, tokens, heads, d] over k, v [batch, tokens, kvHeads, d] and the
    /// cached positions of `layer` (the new keys and values are cached); returns [batch, tokens, heads·d].
    /// The layer's sliding window, score scale and soft cap come from the config.
    public func attend(layer: Int, _ q: Tensor, _ k: Tensor, _ v: Tensor) throws -> Tensor {
        let scale = config.queryScale.map { Float(1 / $0.squareRoot()) }
        func attention(_ q: Tensor, _ k: Tensor, _ v: Tensor, _ cache: KVCache?) throws -> Tensor {
            var (k, v) = (k, v)
            if let cache { (k, v) = try cache.append(layer: layer, keys: k, values: v) }
            return try Tensor.causalAttention(q, k, v, window: config.window(layer: layer), scale: scale, softcap: Float(config.attentionSoftcap ?? 0))
        }
        let out: Tensor
        if let rows {
            func row(_ t: Tensor, _ b: Int) throws -> Tensor { try t.slice(axis: 0, start: b, end: b + 1) }
            out = try Tensor.concat(rows.indices.map { b in try attention(row(q, b), row(k, b), row(v, b), rows[b]) })
        } else {
            out = try attention(q, k, v, cache)
        }
        return try out.reshape([batch, tokens, q.shape[2] * q.shape[3]])
    }

    /// The usual self-attention on projected q [.., heads·d], k, v [.., kvHeads·d]: heads, rotary on q and k, attention.
    public func selfAttention(layer: Int, _ q: Tensor, _ k: Tensor, _ v: Tensor) throws -> Tensor {
        try attend(layer: layer, rope(heads(q, config.heads)), rope(heads(k, config.kvHeads)), heads(v, config.kvHeads))
    }
}
