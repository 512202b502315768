import FinchTensor
#if canImport(Glibc)
import Glibc
#endif

/// How `generate` picks tokens and when it stops.
public struct GenerationOptions: Sendable, Equatable {
    public var maxTokens = 128
    /// 0 picks the most likely token every time (greedy).
    public var temperature: Float = 0
    /// Sample only from the k most likely tokens (0: no limit).
    public var topK = 0
    /// Sample only from the most likely tokens whose probabilities add up to p (1: no limit).
    public var topP: Float = 1
    /// Above 1, tokens already in the prompt or the output become less likely (CTRL's penalty, as Hugging Face applies it).
    public var repetitionPenalty: Float = 1
    /// Generation stops when the text contains one of these; the text is cut before it.
    public var stop: [String] = []
    /// Seed for sampling; nil draws one from the default generator (seeded by manual_seed).
    public var seed: UInt64? = nil
    /// The weights decoding steps multiply by: Q8_0 copies (about 4 times faster, logits within
    /// a few hundredths), Q4_1 copies (faster again, coarser: the blocks of a Q4_1 GGUF file) or
    /// the float32 weights themselves (exact). The prompt always runs in float32.
    public var decodeWeights: WeightFormat = .q8_0

    public init() {}

    public func validate() throws {
        guard maxTokens >= 0 else { throw ModelError("max_tokens must be 0 or more, got \(maxTokens)") }
        guard temperature >= 0, temperature.isFinite else { throw ModelError("temperature must be 0 or more, got \(temperature)") }
        guard topK >= 0 else { throw ModelError("top_k must be 0 (no limit) or more, got \(topK)") }
        guard topP > 0, topP <= 1 else { throw ModelError("top_p must be in (0, 1], got \(topP)") }
        guard repetitionPenalty > 0, repetitionPenalty.isFinite else { throw ModelError("repetition_penalty must be positive, got \(repetitionPenalty)") }
        guard !stop.contains("") else { throw ModelError("a stop string cannot be empty") }
    }
}

/// A format weights are multiplied in (decoding's `weights`) or kept in (LoRA's `base`).
public enum WeightFormat: String, Sendable, CaseIterable {
    case q8_0, q4_1, f32

    /// The block format; nil for float32.
    public var format: QuantFormat? { QuantFormat(rawValue: rawValue) }
}

/// Picks the next token from a row of logits.
struct Sampler {
    let options: GenerationOptions
    var rng: RNG
    /// Ids seen so far (prompt and output), for the repetition penalty.
    var seen: Set<Int> = []

    init(_ options: GenerationOptions, prompt: [Int]) {
        self.options = options
        rng = RNG(seed: options.seed ?? DefaultRNG.use { $0.next() })
        if options.repetitionPenalty != 1 { seen = Set(prompt) }
    }

    mutating func next(_ logits: UnsafeMutableBufferPointer<Float>) -> Int {
        let penalty = options.repetitionPenalty
        if penalty != 1 {
            for id in seen where id < logits.count {
                logits[id] = logits[id] > 0 ? logits[id] / penalty : logits[id] * penalty
            }
        }
        let id = options.temperature == 0 ? argmax(logits) : sample(logits)
        if penalty != 1 { seen.insert(id) }
        return id
    }

    func argmax(_ logits: UnsafeMutableBufferPointer<Float>) -> Int {
        var best = 0, value = -Float.infinity
        for i in 0..<logits.count where logits[i] > value { value = logits[i]; best = i }
        return best
    }

    /// Temperature, then top-k and top-p over the candidates sorted by probability.
    mutating func sample(_ logits: UnsafeMutableBufferPointer<Float>) -> Int {
        let t = options.temperature
        var top = -Float.infinity
        for v in logits where v > top { top = v }
        // Tokens more than 40 nats below the best have probability under e^-40 relative to it:
        // leaving them out spares sorting the whole vocabulary for every token.
        var candidates: [(id: Int, logit: Float)] = []
        for i in 0..<logits.count where (logits[i] - top) / t > -40 { candidates.append((i, (logits[i] - top) / t)) }
        candidates.sort { $0.logit > $1.logit }
        if options.topK > 0, candidates.count > options.topK { candidates.removeLast(candidates.count - options.topK) }
        var probs = candidates.map { expf($0.logit) }
        var total = probs.reduce(0, +)
        if options.topP < 1 {
            var cumulative: Float = 0, keep = probs.count
            for (i, p) in probs.enumerated() {
                cumulative += p
                if cumulative >= options.topP * total { keep = i + 1; break }
            }
            probs.removeLast(probs.count - keep)
            total = probs.reduce(0, +)
        }
        var r = rng.uniform() * total
        for (i, p) in probs.enumerated() {
            r -= p
            if r < 0 { return candidates[i].id }
        }
        return candidates[probs.count - 1].id
    }
}
