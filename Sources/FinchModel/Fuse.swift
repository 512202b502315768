import FinchTensor
import Foundation

/// What a fuse compared: the merged model against the unmerged one on probe prompts.
public struct FuseCheck: Sendable {
    public var probes = 0
    /// Tokens of greedy continuation compared per probe.
    public var tokens = 0
    /// The largest |Δlogit| over every position of every probe.
    public var maxLogitDifference: Float = 0
    /// What differs, when something does (nil: the merged model passed).
    public var failure: String?

    public init(probes: Int = 0, tokens: Int = 0) {
        self.probes = probes
        self.tokens = tokens
    }
}

extension LanguageModel {
    /// Folds the adapters into the weights for the length of `body`, then puts the model back as
    /// it was (the original weights restored bit for bit, the adapters on again).
    public func withAdaptersMerged<R>(_ body: () throws -> R) throws -> R {
        // A float32 weight is merged in place, so a copy is kept; a frozen one's blocks are kept as they are.
        var saved: [(Linear, LoRA, Weight)] = []
        defer {
            for (layer, lora, weight) in saved {
                switch weight {
                case .dense(let copy): try? layer.weight.assign(copy)
                case .frozen: layer.stored = weight
                }
                layer.lora = lora
            }
        }
        for (_, _, layer, lora) in adapters {
            saved.append((layer, lora, try layer.stored.tensor.map { .dense(try $0.copy()) } ?? layer.stored))
            try layer.mergeLoRA()
        }
        return try body()
    }

    /// Checks that merging the adapters keeps what they learned: on every probe, the merged
    /// model's logits are within `tolerance` of the unmerged model's and its greedy continuation
    /// (float32 decoding, `tokens` long) is the same. Leaves the model unmerged; `whenMerged`
    /// runs only if the check passes, with the adapters merged (to write the fused model).
    public func checkFuse(probes: [[Int]], tokens: Int = 16, tolerance: Float = 1e-3, whenMerged: () throws -> Void = {}) throws -> FuseCheck {
        guard !loraParameters.isEmpty else { throw ModelError("the model has no LoRA adapters to fuse") }
        guard !probes.isEmpty else { throw ModelError("fusing needs at least one probe prompt to check") }
        var options = GenerationOptions()
        options.maxTokens = tokens
        options.decodeWeights = .f32
        func run() throws -> [(logits: [Float], continuation: [Int])] {
            try probes.map { ids in
                let logits = try GradMode.noGrad { try forward(Tensor(ids.map(Float.init), shape: [1, ids.count])).scalars }
                return (logits, try generate(ids: ids, options: options).ids)
            }
        }
        let before = try run()
        var check = FuseCheck(probes: probes.count, tokens: tokens)
        try withAdaptersMerged {
            let after = try run()
            for (k, (b, a)) in zip(before, after).enumerated() {
                let diff = zip(b.logits, a.logits).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
                check.maxLogitDifference = max(check.maxLogitDifference, diff.isNaN ? .infinity : diff)
                if check.failure == nil, b.continuation != a.continuation {
                    let at = zip(b.continuation, a.continuation).prefix { $0 == $1 }.count
                    let text = { (ids: [Int]) in self.tokenizer.map { $0.decode(ids) } ?? "\(ids)" }
                    check.failure = "probe \(k + 1)'s greedy continuation differs from token \(at + 1): merged \(String(reflecting: text(a.continuation))), unmerged \(String(reflecting: text(b.continuation)))"
                }
            }
            if check.failure == nil, !(check.maxLogitDifference <= tolerance) {
                check.failure = "the logits differ by up to \(check.maxLogitDifference), more than the tolerance \(tolerance)"
            }
            if check.failure == nil { try whenMerged() }
        }
        return check
    }
}
