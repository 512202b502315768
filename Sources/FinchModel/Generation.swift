import FinchIO
import FinchTensor
import FinchText
import Foundation

/// Why generation ended.
public enum FinishReason: String, Sendable {
    case eos, stop, length, interrupted, context
}

/// What `generate` produced.
public struct Generation: Sendable {
    /// The new token ids (without the end-of-sequence token).
    public var ids: [Int]
    /// Their text, cut before a stop string.
    public var text: String
    public var finishReason: FinishReason
    public var promptTokens: Int
    public var prefillSeconds: Double
    public var decodeSeconds: Double
    /// New tokens per second while decoding (after the prompt).
    public var decodeTokensPerSecond: Double { ids.count > 1 ? Double(ids.count - 1) / max(decodeSeconds, 1e-9) : 0 }
}

/// Turns a growing list of bytes into text that is safe to show: whole UTF-8
/// characters only, and nothing that could be the start of a stop string.
struct StreamingText {
    let stops: [[UInt8]]
    var bytes: [UInt8] = []
    private(set) var emitted = 0
    /// Where the earliest stop string begins, once one appears.
    private(set) var stopAt: Int?

    init(stop: [String]) { stops = stop.map { Array($0.utf8) } }

    /// Adds bytes; returns the newly safe text.
    mutating func append(_ more: [UInt8]) -> String {
        bytes += more
        if stopAt == nil {
            let from = Swift.max(0, emitted - (stops.map(\.count).max() ?? 0))
            for s in stops {
                if let at = find(s, from: from), at < (stopAt ?? Int.max) { stopAt = at }
            }
        }
        var end = stopAt ?? bytes.count
        if stopAt == nil {
            // Hold back a tail that could grow into a stop string.
            var hold = 0
            for s in stops {
                for n in stride(from: Swift.min(s.count - 1, bytes.count), to: hold, by: -1) where bytes[(bytes.count - n)...].elementsEqual(s[..<n]) {
                    hold = n
                    break
                }
            }
            end -= hold
        }
        end = completeCharacters(upTo: end)
        guard end > emitted else { return "" }
        defer { emitted = end }
        return String(decoding: bytes[emitted..<end], as: UTF8.self)
    }

    /// Everything up to the stop string (or the end), as text.
    var text: String { String(decoding: bytes[..<(stopAt ?? bytes.count)], as: UTF8.self) }

    /// Everything not yet emitted (at the end of generation), up to the stop string.
    mutating func flush() -> String {
        let end = stopAt ?? bytes.count
        guard end > emitted else { return "" }
        defer { emitted = end }
        return String(decoding: bytes[emitted..<end], as: UTF8.self)
    }

    private func find(_ s: [UInt8], from: Int) -> Int? {
        guard s.count <= bytes.count else { return nil }
        var i = from
        while i + s.count <= bytes.count {
            if bytes[i..<(i + s.count)].elementsEqual(s) { return i }
            i += 1
        }
        return nil
    }

    /// The largest end ≤ `limit` that does not split a UTF-8 character (never before what was shown).
    private func completeCharacters(upTo limit: Int) -> Int {
        Swift.max(UTF8Text.wholeCharacters(bytes, upTo: limit), emitted)
    }
}

extension LanguageModel {
    /// Continues `prompt` (text, encoded with the model's tokenizer). See `generate(ids:)`.
    public func generate(_ prompt: String, options: GenerationOptions = .init(), onText: ((String) -> Void)? = nil,
                         shouldStop: () -> Bool = { false }) throws -> Generation {
        guard let tokenizer else { throw ModelError("this model has no tokenizer; pass token ids instead") }
        return try generate(ids: tokenizer.encode(prompt), options: options, onText: onText, shouldStop: shouldStop)
    }

    /// Continues the token ids `prompt` with a KV cache: greedy when the temperature is 0, sampled
    /// otherwise. `onText` receives text as it is produced; `shouldStop` is asked before every
    /// token (Ctrl-C), and what was produced until then is kept.
    public func generate(ids prompt: [Int], options: GenerationOptions = .init(), onText: ((String) -> Void)? = nil,
                         shouldStop: () -> Bool = { false }) throws -> Generation {
        let stream = try TokenStream(model: self, prompt: prompt, options: options)
        while let piece = try stream.next(stop: shouldStop()) {
            if !piece.isEmpty { onText?(piece) }
        }
        return stream.generation
    }

    /// The reply to a conversation, through the model's chat template (ChatML for SmolLM2);
    /// messages are dicts with role and content (and tool_calls or whatever the template reads).
    public func chat(_ messages: [JinjaValue], tools: JinjaValue? = nil, options: GenerationOptions = .init(),
                     onText: ((String) -> Void)? = nil, shouldStop: () -> Bool = { false }) throws -> Generation {
        guard let tokenizer else { throw ModelError("this model has no tokenizer, so it cannot chat") }
        let template = try tokenizer.compiledChatTemplate()
        let prompt = try template.render(messages, addGenerationPrompt: true, tools: tools)
        return try generate(ids: tokenizer.encode(prompt, addSpecial: false), options: options, onText: onText, shouldStop: shouldStop)
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
