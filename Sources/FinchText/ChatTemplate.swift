import Foundation
import Synchronization

/// A model's chat template (tokenizer_config.json's `chat_template`, GGUF's
/// `tokenizer.chat_template`), executed by Finch's Jinja engine as transformers executes it.
public struct ChatTemplate: Sendable, Equatable {
    /// The template's text.
    public let source: String
    /// What `bos_token` and `eos_token` are inside the template.
    public let bosToken: String, eosToken: String
    let template: JinjaTemplate

    /// Parses a template; a syntax error names its line.
    public init(template source: String, bosToken: String = "", eosToken: String = "") throws {
        self.source = source
        self.bosToken = bosToken
        self.eosToken = eosToken
        do { template = try JinjaTemplate(source) } catch let e as JinjaError {
            throw TokenizerError("chat template \(e.description)")
        }
    }

    public static func == (a: ChatTemplate, b: ChatTemplate) -> Bool {
        a.source == b.source && a.bosToken == b.bosToken && a.eosToken == b.eosToken
    }

    /// Whether the template marks the assistant's text with `{% generation %}`.
    public var hasGenerationBlocks: Bool { template.hasGenerationBlocks }

    /// The conversation as the model saw it in training; with `addGenerationPrompt`, ends ready for
    /// the assistant's turn. `messages` are dicts (role, content, and whatever else the template reads:
    /// tool_calls, name, ...); `tools` and `extra` become template variables of those names.
    public func render(_ messages: [JinjaValue], addGenerationPrompt: Bool = false, tools: JinjaValue? = nil,
                       extra: [String: JinjaValue] = [:]) throws -> String {
        try renderWithSpans(messages, addGenerationPrompt: addGenerationPrompt, tools: tools, extra: extra).text
    }

    /// `render`, with the UTF-8 ranges of the template's `{% generation %}` blocks.
    public func renderWithSpans(_ messages: [JinjaValue], addGenerationPrompt: Bool = false, tools: JinjaValue? = nil,
                                extra: [String: JinjaValue] = [:]) throws -> (text: String, generation: [Range<Int>]) {
        var variables = extra
        variables["messages"] = .list(messages)
        variables["add_generation_prompt"] = .bool(addGenerationPrompt)
        variables["bos_token"] = .string(bosToken)
        variables["eos_token"] = .string(eosToken)
        if let tools, !(tools.isUndefined) { variables["tools"] = tools }
        do { return try template.render(variables) } catch let e as JinjaError {
            if e.raised { throw TokenizerError("the chat template refused the conversation\(e.line.map { " (line \($0))" } ?? ""): \(e.message)") }
            throw TokenizerError("chat template \(e.description)")
        }
    }

    /// Plain (role, content) messages.
    public func render(_ messages: [(role: String, content: String)], addGenerationPrompt: Bool = false) throws -> String {
        try render(messages.map(Self.message), addGenerationPrompt: addGenerationPrompt)
    }

    public static func message(_ m: (role: String, content: String)) -> JinjaValue {
        .dict(JinjaDict([("role", .string(m.role)), ("content", .string(m.content))]))
    }

    /// The UTF-8 ranges of the full rendering that are the assistant's turns: the template's
    /// `{% generation %}` blocks when it has them, otherwise found by rendering the conversation
    /// prefix by prefix — the text a turn adds after the generation prompt before it. A template
    /// that rewrites earlier turns as later ones arrive cannot be split this way, and says so.
    public func assistantSpans(_ messages: [JinjaValue], tools: JinjaValue? = nil) throws -> (text: String, spans: [Range<Int>]) {
        let (full, generation) = try renderWithSpans(messages, tools: tools)
        if hasGenerationBlocks { return (full, generation) }
        let fullBytes = Array(full.utf8)
        var spans: [Range<Int>] = []
        for (k, m) in messages.enumerated() where m.role == "assistant" {
            let before = Array(try render(Array(messages[..<k]), addGenerationPrompt: true, tools: tools).utf8)
            let through = Array(try render(Array(messages[...k]), tools: tools).utf8)
            guard through.starts(with: before), fullBytes.starts(with: through) else {
                throw TokenizerError("the chat template does not write this conversation prefix by prefix (turn \(k + 1) is written differently once later turns follow), so the assistant's turns cannot be found; a template that marks them with {% generation %} can be used")
            }
            if through.count > before.count { spans.append(before.count..<through.count) }
        }
        return (full, spans)
    }
}

/// A tokenizer's chat template parsed and its end-of-turn token found, once, on first use (every
/// generate call and every chat dataset asks for them).
final class ChatTemplateCache: Sendable {
    struct Found {
        var template: Result<ChatTemplate, TokenizerError>
        var endOfTurnId: Int?
    }
    private let found = Mutex<Found?>(nil)

    func get(_ make: () -> Found) -> Found {
        found.withLock { f in
            if let f { return f }
            let made = make()
            f = made
            return made
        }
    }
}

extension Tokenizer {
    private var chat: ChatTemplateCache.Found {
        chatCache.get {
            guard let t = chatTemplate else { return .init(template: .failure(TokenizerError("this tokenizer has no chat template"))) }
            let text = { (id: Int?) in id.flatMap { $0 >= 0 && $0 < self.tokens.count ? self.tokens[$0] : nil } ?? "" }
            do {
                let template = try ChatTemplate(template: t, bosToken: text(bosId), eosToken: text(eosId))
                return .init(template: .success(template), endOfTurnId: endOfTurnId(template))
            } catch {
                return .init(template: .failure(TokenizerError("\(source): \((error as? TokenizerError)?.message ?? "\(error)")")))
            }
        }
    }

    /// The model's chat template, parsed, with this tokenizer's BOS and EOS text.
    public func compiledChatTemplate() throws -> ChatTemplate { try chat.template.get() }

    /// The special token that ends an assistant's turn in the chat template (`<|im_end|>`, `<|eot_id|>`,
    /// `<end_of_turn>`, `</s>`...): the first one the template writes after a reply. Nil without a template.
    public var endOfTurnId: Int? { chat.endOfTurnId }

    private func endOfTurnId(_ template: ChatTemplate) -> Int? {
        let probe: [JinjaValue] = [ChatTemplate.message(("user", "Hi")), ChatTemplate.message(("assistant", "Hello"))]
        guard let spans = try? template.assistantSpans(probe), let span = spans.spans.last else { return nil }
        let bytes = Array(spans.text.utf8)[span]
        let ids = encode(String(decoding: bytes, as: UTF8.self), addSpecial: false)
        return ids.first { isSpecial[$0] }
    }

    /// A conversation as the model trains on it: the template's text tokenised once, and for each
    /// token whether it is trained — the assistant's turns up to and including their end-of-turn
    /// token (the first special token of the turn), nothing else.
    public func encodeChat(_ messages: [JinjaValue], template: ChatTemplate, tools: JinjaValue? = nil) throws -> (ids: [Int], trained: [Bool]) {
        let (text, spans) = try template.assistantSpans(messages, tools: tools)
        let ids = encode(text, addSpecial: false)
        let tokensOf = tokenRanges(ids, text: text)
        var trained = [Bool](repeating: false, count: ids.count)
        for span in spans {
            for k in tokensOf(span) {
                trained[k] = true
                if isSpecial[ids[k]] { break }
            }
        }
        return (ids, trained)
    }

    /// For a UTF-8 range of `text`, the tokens of `ids` that hold any of its bytes (as transformers'
    /// char_to_token marks them): by the tokens' own bytes where they spell the text exactly
    /// (byte-level models), otherwise by encoding the text up to each end and counting the tokens
    /// that encoding shares with `ids` (the first one it does not share holds the boundary).
    func tokenRanges(_ ids: [Int], text: String) -> (Range<Int>) -> Range<Int> {
        var ends: [Int] = []
        ends.reserveCapacity(ids.count)
        var spelled: [UInt8] = []
        for id in ids {
            spelled += decodeBytes([id])
            ends.append(spelled.count)
        }
        let bytes = Array(text.utf8)
        if spelled == bytes {
            return { span in
                let first = ends.firstIndex { $0 > span.lowerBound } ?? ids.count
                let last = ends.firstIndex { $0 >= span.upperBound }.map { $0 + 1 } ?? ids.count
                return first..<max(first, last)
            }
        }
        func shared(_ offset: Int) -> Int {
            guard offset < bytes.count else { return ids.count }
            let prefix = encode(String(decoding: bytes[0..<offset], as: UTF8.self), addSpecial: false)
            return zip(prefix, ids).prefix { $0 == $1 }.count
        }
        return { span in
            let first = shared(span.lowerBound)
            return first..<max(first, shared(span.upperBound))
        }
    }
}
