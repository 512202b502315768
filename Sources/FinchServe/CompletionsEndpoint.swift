import FinchData
import FinchModel
import Foundation

/// OpenAI's legacy logprobs object: each token's text, log-probability, best alternatives and
/// where its text starts (in characters of the choice's text).
struct LegacyLogprobs {
    var tokens: [DataValue] = [], logprobs: [DataValue] = [], top: [DataValue] = [], offsets: [DataValue] = []
    var offset: Int

    init(offset: Int) { self.offset = offset }

    mutating func append(_ served: ServedModel, id: Int, _ lp: TokenLogprob?) {
        let text = served.tokenText(id)
        tokens.append(.string(text))
        logprobs.append(lp.map { number($0.logprob) } ?? .null)
        top.append(lp.map { lp in .object(lp.top.map { DataValue.Field(served.tokenText($0.id), number($0.logprob)) }) } ?? .null)
        offsets.append(number(offset))
        offset += text.unicodeScalars.count
    }

    /// The part appended since `from` (for a streamed chunk).
    func json(from: Int = 0) -> DataValue {
        object(["tokens": .array(Array(tokens[from...])), "token_logprobs": .array(Array(logprobs[from...])),
                "top_logprobs": .array(Array(top[from...])), "text_offset": .array(Array(offsets[from...]))])
    }
    var count: Int { tokens.count }
}

/// One /v1/completions request: its prompts answered in turn, a token per scheduler step.
final class CompletionRun: @unchecked Sendable {
    let served: ServedModel
    let sink: ResponseSink
    let id = "cmpl-" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(24)
    let created = Int(Date().timeIntervalSince1970)
    let prompts: [(ids: [Int], text: String)]
    let options: GenerationOptions
    let stream: Bool, includeUsage: Bool, echo: Bool
    /// How many alternatives to list per token; nil: no logprobs.
    let logprobs: Int?

    private var index = 0
    private var current: TokenStream?
    private var text = ""
    private var lps: LegacyLogprobs?
    private var sentLogprobs = 0
    private var choices: [DataValue] = []
    private var promptTokens = 0, completionTokens = 0

    init(_ served: ServedModel, _ body: RequestBody, sink: ResponseSink) throws {
        self.served = served
        self.sink = sink
        let model = served.model, tokenizer = model.tokenizer!
        prompts = try CompletionPrompt.all(body, vocab: model.config.vocab).map { p in
            switch p {
            case .text(let s):
                let ids = tokenizer.encode(s)
                guard !ids.isEmpty else { throw ServeError.bad("a prompt is empty", param: "prompt") }
                return (ids, s)
            case .ids(let ids):
                guard !ids.isEmpty else { throw ServeError.bad("a prompt is empty", param: "prompt") }
                return (ids, tokenizer.decode(ids))
            }
        }
        var o = try body.options(maxTokensDefault: 16, context: model.config.context)
        o.decodeWeights = served.decodeWeights
        options = o
        stream = try body.stream
        includeUsage = try body.includeUsage
        echo = try body.bool("echo") ?? false
        logprobs = try body.int("logprobs", in: 0...20)
        for p in prompts where p.ids.count + (echo && o.maxTokens == 0 ? 0 : 1) > model.config.context {
            throw ServeError.bad("a prompt has \(p.ids.count) tokens; this model's context is \(model.config.context)", param: "prompt")
        }
    }

    func advance() throws -> Bool {
        guard let stream = current else {
            if index == 0, self.stream { sink.startEvents() }
            try startPrompt()
            return index == prompts.count && current == nil ? finish() : false
        }
        let piece = try stream.next()
        while streamLogprobs < stream.logprobs.count {
            let lp = stream.logprobs[streamLogprobs]
            lps?.append(served, id: lp.id, lp)
            streamLogprobs += 1
        }
        // The end token that stopped the answer is listed last (its text is not in the answer):
        // lm-evaluation-harness asks for a prompt's log-probabilities with echo and max_tokens 1
        // and drops the last entry as the generated token, so without it a continuation lost its
        // own last token whenever the model would have ended there.
        if let lp = stream.endLogprob, stream.finishReason == .eos { lps?.append(served, id: lp.id, lp) }
        if let piece { text += piece }
        if self.stream, let piece, !piece.isEmpty || (logprobs != nil && lps!.count > sentLogprobs) {
            send(piece, finishReason: nil)
        }
        if let reason = stream.finishReason {
            completionTokens += stream.ids.count
            endChoice(reason: reason == .length || reason == .context ? "length" : "stop")
            current = nil
            index += 1
            if index == prompts.count { return finish() }
        }
        return false
    }

    /// How many of the current stream's token logprobs are in `lps`.
    private var streamLogprobs = 0

    private func startPrompt() throws {
        let (ids, promptText) = prompts[index]
        promptTokens += ids.count
        text = echo ? promptText : ""
        lps = logprobs.map { _ in LegacyLogprobs(offset: echo ? 0 : promptText.unicodeScalars.count) }
        sentLogprobs = 0
        if echo, let top = logprobs {
            for (id, lp) in zip(ids, try served.model.promptLogprobs(ids, top: top)) { lps!.append(served, id: id, lp) }
        }
        streamLogprobs = 0
        if self.stream, echo { send(promptText, finishReason: nil) }
        if options.maxTokens == 0 {
            endChoice(reason: "length")
            index += 1
            return
        }
        current = try TokenStream(model: served.model, prompt: ids, options: options, topLogprobs: logprobs)
        current!.defersForward = true
    }

    /// The generation whose next forward pass the scheduler may batch with others.
    var generation: TokenStream? { current }

    private func send(_ piece: String, finishReason: String?) {
        let chunkLogprobs = lps.map { l -> DataValue in defer { sentLogprobs = l.count }; return l.json(from: sentLogprobs) } ?? .null
        sink.event(chunk([object(["index": number(index), "text": .string(piece), "logprobs": chunkLogprobs,
                                  "finish_reason": finishReason.map(DataValue.string) ?? .null])]))
    }

    private func endChoice(reason: String) {
        if stream {
            send("", finishReason: reason)
        } else {
            choices.append(object(["index": number(index), "text": .string(text), "logprobs": lps?.json() ?? .null,
                                   "finish_reason": .string(reason)]))
        }
    }

    private var usage: DataValue {
        object(["prompt_tokens": number(promptTokens), "completion_tokens": number(completionTokens),
                "total_tokens": number(promptTokens + completionTokens)])
    }

    private func chunk(_ choices: [DataValue], usage: DataValue = .null) -> DataValue {
        var fields: [DataValue.Field] = [.init("id", .string(String(id))), .init("object", .string("text_completion")),
                                         .init("created", number(created)), .init("model", .string(served.name)),
                                         .init("choices", .array(choices))]
        if usage != .null { fields.append(.init("usage", usage)) }
        return .object(fields)
    }

    private func finish() -> Bool {
        if stream {
            if includeUsage { sink.event(chunk([], usage: usage)) }
            sink.endEvents()
        } else {
            sink.respond(status: 200, json: chunk(choices, usage: usage))
        }
        return true
    }
}
