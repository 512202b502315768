import FinchTensor

/// A model family, declared once in its own file under Architectures/: its tensors (named as
/// Hugging Face and GGUF name them, with their shapes), its projections (what LoRA may wrap and
/// int8 decoding quantizes), how its config.json and GGUF metadata read and write, and its forward.
/// Everything else — loading, saving, LoRA, checkpoints, `estimate`, summaries — derives from it.
public protocol Architecture {
    /// Hugging Face's model_type (also Finch's name for the family).
    static var name: String { get }
    /// GGUF's general.architecture.
    static var ggufName: String { get }
    /// Hugging Face's class, written into config.json's "architectures".
    static var hfClass: String { get }
    /// Where the blocks' tensors live: "model.layers." in Hugging Face names, "blk." in GGUF.
    static var blockPrefix: String { get }
    /// The token embedding's and the untied output head's Hugging Face names.
    static var embeddingName: String { get }
    static var headName: String { get }
    /// The projections of a block, in order: Finch's short name and the module path after the block prefix.
    static var linears: [(short: String, module: String)] { get }
    /// The projections LoRA wraps when the user names none (PEFT's defaults for the family).
    static var defaultLoRATargets: [String] { get }
    /// Whether attention projections have biases unless the config says otherwise.
    static var biasByDefault: Bool { get }
    /// Whether positions come from a learned table (GPT-2) instead of rotary embeddings.
    static var learnedPositions: Bool { get }
    /// Whether keys and values may have fewer heads than queries (not where q, k and v are fused per head).
    static var groupedQueryAttention: Bool { get }
    /// The MLP width a new model of width `dim` gets when none is given.
    static func defaultFFN(dim: Int) -> Int
    /// Tensors outside the blocks, before them and after them.
    static func globalTensors(_ c: ModelConfig) -> (before: [TensorSpec], after: [TensorSpec])
    /// The tensors of block `layer`, named after the block prefix (Hugging Face) and after "blk.N." (GGUF).
    static func blockTensors(_ c: ModelConfig, layer: Int) -> [TensorSpec]
    /// The configuration a config.json describes.
    static func config(huggingFace j: ConfigReader) throws -> ModelConfig
    /// The family's own config.json entries (the common ones come from `ModelConfig.huggingFaceJSON`).
    static func huggingFaceJSON(_ c: ModelConfig) -> [String: Any]
    /// The configuration a GGUF file's `{arch}.*` metadata describes.
    static func config(gguf m: ConfigReader) throws -> ModelConfig
    /// The family's own GGUF metadata beyond the common keys.
    static func ggufMetadata(_ c: ModelConfig) -> [(String, GGUFValue)]
    /// The residual stream [batch, tokens, dim] for the ids at the pass's positions.
    static func embed(_ ids: Tensor, _ pass: ForwardPass) throws -> Tensor
    /// One block applied to the residual stream.
    static func block(_ x: Tensor, _ b: TransformerBlock, _ pass: ForwardPass) throws -> Tensor
    /// The final norm before the output head.
    static func finalNorm(_ x: Tensor, _ pass: ForwardPass) throws -> Tensor
}

extension Architecture {
    public static var ggufName: String { name }
    public static var blockPrefix: String { "model.layers." }
    public static var embeddingName: String { "model.embed_tokens.weight" }
    public static var headName: String { "lm_head.weight" }
    public static var defaultLoRATargets: [String] { ["q", "v"] }
    public static var biasByDefault: Bool { false }
    public static var learnedPositions: Bool { false }
    public static var groupedQueryAttention: Bool { true }
    /// SwiGLU's usual width: 8/3 of dim, rounded up to a multiple of 32.
    public static func defaultFFN(dim: Int) -> Int { (dim * 8 / 3 + 31) / 32 * 32 }
    public static func huggingFaceJSON(_ c: ModelConfig) -> [String: Any] { [:] }
    public static func ggufMetadata(_ c: ModelConfig) -> [(String, GGUFValue)] { [] }

    public static func embed(_ ids: Tensor, _ pass: ForwardPass) throws -> Tensor {
        try pass.model.embedding.embedding(ids)
    }

    /// Every tensor of a model of this configuration, with full names, in order.
    public static func tensors(_ c: ModelConfig) -> [TensorSpec] {
        let (before, after) = globalTensors(c)
        var out = before
        for l in 0..<c.layers {
            out += blockTensors(c, layer: l).map { $0.prefixed(hf: "\(blockPrefix)\(l).", gguf: "blk.\(l).") }
        }
        return out + after
    }

    /// How many tensors and parameters a model of this configuration has, counted from one block's
    /// declaration (no list of every layer's tensors is made: a corrupt count cannot make millions).
    static func size(_ c: ModelConfig) -> (tensors: Int, parameters: Double) {
        func count(_ specs: [TensorSpec]) -> Double { specs.reduce(0) { $0 + Double($1.shape.reduce(1, *)) } }
        let block = blockTensors(c, layer: 0), (before, after) = globalTensors(c)
        return (c.layers * block.count + before.count + after.count, Double(c.layers) * count(block) + count(before + after))
    }

    /// The Hugging Face module path of a projection, by its short name.
    static func module(_ short: String) -> String? { linears.first { $0.short == short }?.module }

    /// The short name of the projection whose weight a parameter is ("model.layers.3.self_attn.q_proj.weight": "q"), if it is one.
    static func projection(ofWeight name: String) -> String? {
        guard name.hasPrefix(blockPrefix), name.hasSuffix(".weight") else { return nil }
        let rest = name.dropFirst(blockPrefix.count).drop { $0 != "." }.dropFirst().dropLast(7)
        return linears.first { $0.module == rest }?.short
    }
}

/// One tensor of a family's model.
public struct TensorSpec: Sendable {
    /// Hugging Face's name: what Finch calls the parameter, and what safetensors and PEFT hold.
    public var name: String
    /// GGUF's name.
    public var gguf: String
    /// The shape Finch holds ([out, in] for a projection's weight).
    public var shape: [Int]
    /// How a freshly initialised model starts it.
    public var initial: Initial
    /// How the Hugging Face file lays it out, and how GGUF does.
    public var hfLayout: FileLayout
    public var ggufLayout: FileLayout

    public enum Initial: Sendable { case normal, ones, zeros }

    public init(_ name: String, _ gguf: String, _ shape: [Int], _ initial: Initial = .normal,
                hf: FileLayout = .same, gguf ggufLayout: FileLayout = .same) {
        self.name = name
        self.gguf = gguf
        self.shape = shape
        self.initial = initial
        self.hfLayout = hf
        self.ggufLayout = ggufLayout
    }

    /// A projection's weight, and its bias when `bias` is set: "mlp.up_proj" → .weight [out, in] (+ .bias [out]).
    public static func linear(_ module: String, _ gguf: String, out: Int, in: Int, bias: Bool = false,
                              hf: FileLayout = .same, gguf ggufLayout: FileLayout = .same) -> [TensorSpec] {
        var specs = [TensorSpec(module + ".weight", gguf + ".weight", [out, `in`], hf: hf, gguf: ggufLayout)]
        if bias { specs.append(TensorSpec(module + ".bias", gguf + ".bias", [out], .zeros, gguf: ggufLayout.forBias)) }
        return specs
    }

    /// A norm's weight of ones (and bias of zeros when `bias` is set).
    public static func norm(_ name: String, _ gguf: String, _ size: Int, bias: Bool = false) -> [TensorSpec] {
        var specs = [TensorSpec(name + ".weight", gguf + ".weight", [size], .ones)]
        if bias { specs.append(TensorSpec(name + ".bias", gguf + ".bias", [size], .zeros)) }
        return specs
    }

    func prefixed(hf: String, gguf g: String) -> TensorSpec {
        var s = self
        s.name = hf + name
        s.gguf = g + gguf
        return s
    }
}

/// How a file stores a tensor that Finch holds in its own layout.
public enum FileLayout: Sendable, Equatable {
    case same
    /// GPT-2's Conv1D weights: [in, out].
    case transposed
    /// llama.cpp's llama q and k: each head's rows reordered so rotary pairs are adjacent.
    case rotaryPairs(heads: Int)
    /// GPT-NeoX's fused q, k, v: Hugging Face interleaves them per head ([heads, 3, d] rows),
    /// GGUF stacks them ([3, heads, d] rows).
    case stackedQKV(heads: Int)
    /// Gemma's norm weights: Hugging Face holds w of x̂·(1 + w), llama.cpp's files hold 1 + w.
    case plusOne

    /// The same layout for the bias of a weight laid out this way (transposing a vector changes nothing).
    var forBias: FileLayout { self == .transposed ? .same : self }

    /// Finch's tensor in the file's layout.
    func toFile(_ t: Tensor) throws -> Tensor {
        switch self {
        case .same: return t
        case .transposed: return try t.transpose(0, 1).contiguous()
        case .rotaryPairs(let heads): return try RotaryLayout.halvesToPairs(t, heads: heads)
        case .stackedQKV(let heads): return try RowGroups.reorder(t, outer: heads, inner: 3)
        case .plusOne: return try GradMode.noGrad { try t.adding(.scalar(1)) }
        }
    }

    /// A file's tensor in Finch's layout.
    func fromFile(_ t: Tensor) throws -> Tensor {
        switch self {
        case .same: return t
        case .transposed: return try t.transpose(0, 1).contiguous()
        case .rotaryPairs(let heads): return try RotaryLayout.pairsToHalves(t, heads: heads)
        case .stackedQKV(let heads): return try RowGroups.reorder(t, outer: 3, inner: heads)
        case .plusOne: return try GradMode.noGrad { try t.subtracting(.scalar(1)) }
        }
    }

    /// The shape the file holds for Finch's `shape`.
    func fileShape(_ shape: [Int]) -> [Int] { self == .transposed && shape.count == 2 ? [shape[1], shape[0]] : shape }
}

/// Rows of a tensor seen as [blocks, outer, inner, rows/(blocks·outer·inner)] groups, reordered to
/// [blocks, inner, outer, ...]: the row permutations between file layouts (GPT-NeoX's fused qkv,
/// llama.cpp's rotary pairs) are all this transposition of row groups.
enum RowGroups {
    static func reorder(_ t: Tensor, blocks: Int = 1, outer: Int, inner: Int) throws -> Tensor {
        let rows = t.shape[0], width = t.count / Swift.max(rows, 1)
        guard blocks > 0, outer > 0, inner > 0, rows % (blocks * outer * inner) == 0 else {
            throw ModelError("cannot regroup \(t.shape): \(rows) rows are not \(blocks) × \(outer) × \(inner) groups")
        }
        let size = rows / (blocks * outer * inner) * width, block = outer * inner * size
        let src = try t.contiguous()
        return try Tensor.filling(t.shape) { out in
            let from = src.unsafePointer, to = out.baseAddress!
            for b in 0..<blocks {
                for o in 0..<outer {
                    for i in 0..<inner {
                        (to + b * block + (i * outer + o) * size).update(from: from + b * block + (o * inner + i) * size, count: size)
                    }
                }
            }
        }
    }
}

/// The registered families.
public enum Architectures {
    /// Every family Finch builds, in the order help lists them.
    // Metatypes hold no state; the array is a constant, so sharing it across threads is safe.
    nonisolated(unsafe) public static let all: [any Architecture.Type] = [
        Llama.self, Mistral.self, Qwen2.self, Qwen3.self, Gemma2.self, Gemma3.self, Phi3.self, GPTNeoX.self, GPT2.self,
    ]

    public static var names: [String] { all.map { $0.name } }

    /// The family of a Hugging Face model_type.
    public static func named(_ name: String) -> (any Architecture.Type)? { all.first { $0.name == name } }

    /// The family of a GGUF general.architecture (the first registered, where families share one).
    public static func gguf(_ name: String) -> (any Architecture.Type)? { all.first { $0.ggufName == name } }
}
