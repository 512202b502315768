import FinchData
import FinchModel
import Foundation

/// One /v1/chat/completions request: the conversation through the model's chat template, the
/// reply a token per scheduler step.
final class ChatRun: @unchecked Sendable {
    let served: ServedModel
    let sink: ResponseSink
    let id = "chatcmpl-" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(24)
    let created = Int(Date().timeIntervalSince1970)
    let stream: Bool, includeUsage: Bool
    /// Alternatives per token when logprobs are asked for; nil: none.
    let topLogprobs: Int?
    private let tokens: TokenStream
    private var started = false
    private var sentLogprobs = 0

    init(_ served: ServedModel, _ body: RequestBody, sink: ResponseSink) throws {
        self.served = served
        self.sink = sink
        let model = served.model, tokenizer = model.tokenizer!
        let messages = try chatMessages(body)
        let prompt: String
        do {
            prompt = try tokenizer.compiledChatTemplate().render(messages, addGenerationPrompt: true,
                                                                  tools: body.value("tools")?.jinja)
        } catch let e as ServeError { throw e } catch {
            throw ServeError.bad("the model's chat template failed on these messages: \(error)", param: "messages")
        }
        var o = try body.options(maxTokensDefault: nil, context: model.config.context)
        o.decodeWeights = served.decodeWeights
        stream = try body.stream
        includeUsage = try body.includeUsage
        topLogprobs = try body.bool("logprobs") == true ? (try body.int("top_logprobs", in: 0...20) ?? 0) : nil
        let ids = tokenizer.encode(prompt, addSpecial: false)
        guard ids.count < model.config.context else {
            throw ServeError.bad("the conversation has \(ids.count) tokens; this model's context is \(model.config.context)", param: "messages")
        }
        o.maxTokens = min(o.maxTokens, model.config.context - ids.count)
        do { tokens = try TokenStream(model: model, prompt: ids, options: o, topLogprobs: topLogprobs) } catch let e as ModelError {
            throw ServeError.bad(e.description)
        }
        tokens.defersForward = true
    }

    /// The generation whose next forward pass the scheduler may batch with others.
    var generation: TokenStream? { tokens }

    func advance() throws -> Bool {
        if stream, !started {
            started = true
            sink.startEvents()
            sink.event(chunk([object(["index": number(0), "delta": object(["role": .string("assistant"), "content": .string("")]),
                                      "logprobs": .null, "finish_reason": .null])]))
        }
        let piece = try tokens.next() ?? ""
        if stream, !piece.isEmpty || tokens.logprobs.count > sentLogprobs {
            sink.event(chunk([object(["index": number(0), "delta": object(["content": .string(piece)]), "logprobs": logprobs(),
                                      "finish_reason": .null])]))
        }
        guard let reason = tokens.finishReason else { return false }
        let finish = DataValue.string(reason == .length || reason == .context ? "length" : "stop")
        let usage = object(["prompt_tokens": number(tokens.prompt.count), "completion_tokens": number(tokens.ids.count),
                            "total_tokens": number(tokens.prompt.count + tokens.ids.count)])
        if stream {
            sink.event(chunk([object(["index": number(0), "delta": object([:]), "logprobs": .null, "finish_reason": finish])]))
            if includeUsage { sink.event(chunk([], usage: usage)) }
            sink.endEvents()
        } else {
            let message = object(["role": .string("assistant"), "content": .string(tokens.generatedText)])
            sink.respond(status: 200, json: chunk([object(["index": number(0), "message": message, "logprobs": logprobs(),
                                                            "finish_reason": finish])], usage: usage))
        }
        return true
    }

    /// OpenAI's chat logprobs for the tokens not yet sent: {content: [{token, logprob, bytes, top_logprobs}]}.
    private func logprobs() -> DataValue {
        guard topLogprobs != nil else { return .null }
        func entry(_ id: Int, _ lp: Float) -> [DataValue.Field] {
            let bytes = served.model.tokenizer!.decodeBytes([id])
            return [.init("token", .string(String(decoding: bytes, as: UTF8.self))), .init("logprob", number(lp)),
                    .init("bytes", .array(bytes.map { number(Int($0)) }))]
        }
        let new = tokens.logprobs[sentLogprobs...].map { lp in
            DataValue.object(entry(lp.id, lp.logprob) + [.init("top_logprobs", .array(lp.top.map { .object(entry($0.id, $0.logprob)) }))])
        }
        sentLogprobs = tokens.logprobs.count
        return object(["content": .array(new)])
    }

    private func chunk(_ choices: [DataValue], usage: DataValue = .null) -> DataValue {
        var fields: [DataValue.Field] = [.init("id", .string(String(id))),
                                         .init("object", .string(stream ? "chat.completion.chunk" : "chat.completion")),
                                         .init("created", number(created)), .init("model", .string(served.name)),
                                         .init("choices", .array(choices))]
        if usage != .null { fields.append(.init("usage", usage)) }
        return .object(fields)
    }
}
