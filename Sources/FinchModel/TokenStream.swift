import FinchTensor
import FinchText
import Foundation

/// One token's log-probability and the most likely alternatives at its position (natural log).
public struct TokenLogprob: Sendable {
    public var id: Int
    public var logprob: Float
    /// The `top` most likely ids at this position with their log-probabilities, best first.
    public var top: [(id: Int, logprob: Float)]
}

/// A generation taken one token at a time: what `generate` loops over, and what a server
/// interleaves across its requests. The prompt runs on the first `next`.
public final class TokenStream {
    public let model: LanguageModel
    public let prompt: [Int]
    public let options: GenerationOptions
    /// When set, each new token's log-probability and this many alternatives are kept in `logprobs`.
    public let topLogprobs: Int?
    public private(set) var ids: [Int] = []
    public private(set) var logprobs: [TokenLogprob] = []
    /// The end-of-sequence token's log-probability when it ended the generation (with `topLogprobs`):
    /// not a token of the answer, but a log-likelihood request with max_tokens 1 expects it.
    public private(set) var endLogprob: TokenLogprob?
    public private(set) var finishReason: FinishReason?
    public private(set) var prefillSeconds = 0.0
    public private(set) var decodeSeconds = 0.0
    /// When set, `next` leaves the new token's forward pass to `TokenStream.forward(_:)`, which
    /// runs those of several streams as one batch; a stream nobody batched runs its own on its next `next`.
    public var defersForward = false

    private let cache = KVCache()
    private var sampler: Sampler
    private var text: StreamingText
    private let endIds: Set<Int>
    private var logits: Tensor?
    /// The last token, when its forward pass is deferred and not yet run.
    private var pending: Int?
    private let clock = ContinuousClock()

    /// Checks the prompt and options; nothing runs yet.
    public init(model: LanguageModel, prompt: [Int], options: GenerationOptions, topLogprobs: Int? = nil) throws {
        try options.validate()
        let config = model.config
        guard !prompt.isEmpty else { throw ModelError("the prompt is empty: give at least one token") }
        guard prompt.count < config.context else {
            throw ModelError("the prompt has \(prompt.count) tokens; this model's context is \(config.context)")
        }
        if let bad = prompt.first(where: { $0 < 0 || $0 >= config.vocab }) {
            throw ModelError("token id \(bad) is outside the vocabulary (0..<\(config.vocab))")
        }
        self.model = model
        self.prompt = prompt
        self.options = options
        self.topLogprobs = topLogprobs
        sampler = Sampler(options, prompt: prompt)
        text = StreamingText(stop: options.stop)
        // The chat template's end-of-turn token ends a reply as EOS does (they differ in Llama 3, Gemma, ...).
        endIds = Set([model.tokenizer?.eosId, model.tokenizer?.endOfTurnId].compactMap { $0 })
    }

    /// The text so far, cut before a stop string.
    public var generatedText: String { text.text }

    /// Produces one more token: returns the text it made safe to show (possibly empty; at the end,
    /// everything held back), or nil once the generation has finished. `stop` ends it as interrupted.
    public func next(stop: Bool = false) throws -> String? {
        guard finishReason == nil else { return nil }
        return try GradMode.noGrad {
            if logits == nil {
                // Quantized copies are made (or refreshed) before the clock starts: a one-time cost, not decoding speed.
                if let format = options.decodeWeights.format { try model.prepareQuantizedWeights(format) }
                let start = clock.now
                logits = try model.forward(Tensor(prompt.map(Float.init), shape: [1, prompt.count]), cache: cache, lastOnly: true)
                prefillSeconds = (clock.now - start).seconds
            }
            let start = clock.now
            defer { decodeSeconds += (clock.now - start).seconds }
            if pending != nil { try forwardPending() }
            if ids.count >= options.maxTokens { return finish(.length) }
            if stop { return finish(.interrupted) }
            // The head's output is fresh and contiguous: the sampler may change it in place.
            let row = UnsafeMutableBufferPointer(start: logits!.unsafePointer, count: logits!.shape[2])
            let scores = topLogprobs.map { _ in Array(row) }
            let id = sampler.next(row)
            if let top = topLogprobs, let scores {
                let lp = Self.logprob(of: id, in: scores, top: top)
                if endIds.contains(id) { endLogprob = lp } else { logprobs.append(lp) }
            }
            if endIds.contains(id) { return finish(.eos) }
            ids.append(id)
            var piece = text.append(model.tokenizer?.decodeBytes([id]) ?? Array("<\(id)>".utf8))
            var reason: FinishReason?
            if text.stopAt != nil { reason = .stop }
            else if prompt.count + ids.count >= model.config.context { reason = .context }
            else if ids.count >= options.maxTokens { reason = .length }
            if let reason {
                finishReason = reason
                piece += text.flush()
                return piece
            }
            pending = id
            if !defersForward { try forwardPending() }
            return piece
        }
    }

    /// The last token's own forward pass (the caller runs without gradients and times it).
    private func forwardPending() throws {
        logits = try model.forward(Tensor([Float(pending!)], shape: [1, 1]), cache: cache, lastOnly: true, quantized: options.decodeWeights.format)
        pending = nil
    }

    /// Runs the deferred forward passes of these streams, all of one model: those with quantized
    /// weights as one batch per format, whose rows come out as each stream's own pass would
    /// (QuantizedMatrix sums each row alike); float32 streams one by one, so that their exact
    /// decoding stays exact. A batch's time counts in each of its streams' decoding time. The model
    /// must not be in use elsewhere. Returns the most rows one pass ran.
    @discardableResult
    public static func forward(_ streams: [TokenStream]) throws -> Int {
        let waiting = streams.filter { $0.pending != nil && $0.finishReason == nil }
        guard let model = waiting.first?.model else { return 0 }
        guard waiting.allSatisfy({ $0.model === model }) else { throw ModelError("TokenStream.forward batches the streams of one model at a time") }
        let clock = ContinuousClock()
        return try GradMode.noGrad {
            var most = 1
            for format in QuantFormat.allCases {
                let batched = waiting.filter { $0.options.decodeWeights.format == format }
                guard batched.count > 1 else { continue }
                let start = clock.now
                let logits = try model.decode(batched.map { $0.pending! }, caches: batched.map(\.cache), quantized: format)
                let seconds = (clock.now - start).seconds
                for (i, s) in batched.enumerated() {
                    s.logits = try logits.slice(axis: 0, start: i, end: i + 1)
                    s.pending = nil
                    s.decodeSeconds += seconds
                }
                most = Swift.max(most, batched.count)
            }
            for s in waiting where s.pending != nil {
                let start = clock.now
                try s.forwardPending()
                s.decodeSeconds += (clock.now - start).seconds
            }
            return most
        }
    }

    private func finish(_ reason: FinishReason) -> String {
        finishReason = reason
        return text.flush()
    }

    /// What `generate` returns, once finished.
    public var generation: Generation {
        Generation(ids: ids, text: text.text, finishReason: finishReason ?? .length, promptTokens: prompt.count,
                   prefillSeconds: prefillSeconds, decodeSeconds: decodeSeconds)
    }

    /// log softmax(scores)[id], and the `top` best: log p_i = s_i − max − log Σ_j exp(s_j − max).
    public static func logprob(of id: Int, in scores: UnsafeBufferPointer<Float>, top: Int) -> TokenLogprob {
        var best = -Float.infinity
        for s in scores where s > best { best = s }
        var total = 0.0
        for s in scores { total += Double(expf(s - best)) }
        let logZ = best + Float(log(total))
        var alternatives: [(id: Int, logprob: Float)] = []
        if top > 0 {
            // A running list of the best `top`: the vocabulary is scanned once, never sorted.
            for (i, s) in scores.enumerated() where alternatives.count < top || s > alternatives[alternatives.count - 1].logprob {
                let at = alternatives.firstIndex { s > $0.logprob } ?? alternatives.count
                alternatives.insert((i, s), at: at)
                if alternatives.count > top { alternatives.removeLast() }
            }
            alternatives = alternatives.map { ($0.id, $0.logprob - logZ) }
        }
        return TokenLogprob(id: id, logprob: scores[id] - logZ, top: alternatives)
    }

    static func logprob(of id: Int, in scores: [Float], top: Int) -> TokenLogprob {
        scores.withUnsafeBufferPointer { logprob(of: id, in: $0, top: top) }
    }
}

extension LanguageModel {
    /// Each token's log-probability given the ones before it (the first has none: nil), with the
    /// `top` most likely alternatives — what a completions server returns for an echoed prompt.
    public func promptLogprobs(_ ids: [Int], top: Int) throws -> [TokenLogprob?] {
        guard !ids.isEmpty else { return [] }
        guard ids.count <= config.context else {
            throw ModelError("the text has \(ids.count) tokens; this model's context is \(config.context)")
        }
        if let bad = ids.first(where: { $0 < 0 || $0 >= config.vocab }) {
            throw ModelError("token id \(bad) is outside the vocabulary (0..<\(config.vocab))")
        }
        return try GradMode.noGrad {
            let logits = try forward(Tensor(ids.map(Float.init), shape: [1, ids.count])).contiguous()
            let V = logits.shape[2], rows = UnsafePointer(logits.unsafePointer)
            return [nil] + (1..<ids.count).map { t in
                TokenStream.logprob(of: ids[t], in: UnsafeBufferPointer(start: rows + (t - 1) * V, count: V), top: top)
            }
        }
    }
}
