import FinchData
import FinchModel
import FinchText

/// The fields of a request body, read with errors that name the field.
struct RequestBody {
    let fields: DataValue

    init(_ bytes: [UInt8]) throws {
        guard !bytes.isEmpty else { throw ServeError.bad("the request has no body: send a JSON object") }
        do { fields = try DataValue.parseJSON(bytes) } catch let e as DataError {
            throw ServeError.bad("the body is not valid JSON: \(e.description)")
        }
        guard case .object = fields else { throw ServeError.bad("the body must be a JSON object, got \(fields.typeName)") }
    }

    func value(_ name: String) -> DataValue? {
        guard let v = fields[name], v != .null else { return nil }
        return v
    }

    func string(_ name: String) throws -> String? {
        guard let v = value(name) else { return nil }
        guard case .string(let s) = v else { throw ServeError.bad("\(name) must be a string, got \(v.typeName)", param: name) }
        return s
    }

    func number(_ name: String) throws -> Double? {
        guard let v = value(name) else { return nil }
        guard case .number(let n) = v, n.isFinite else { throw ServeError.bad("\(name) must be a number, got \(v.typeName)", param: name) }
        return n
    }

    func int(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let n = try number(name) else { return nil }
        guard n == n.rounded(), n >= Double(range.lowerBound), n <= Double(range.upperBound) else {
            throw ServeError.bad("\(name) must be a whole number in \(range.lowerBound)...\(range.upperBound), got \(JSONWriter.write(.number(n)))", param: name)
        }
        return Int(n)
    }

    func bool(_ name: String) throws -> Bool? {
        guard let v = value(name) else { return nil }
        guard case .bool(let b) = v else { throw ServeError.bad("\(name) must be true or false, got \(v.typeName)", param: name) }
        return b
    }

    /// The model the request names (required, as in OpenAI's API).
    func model() throws -> String {
        guard let m = try string("model") else { throw ServeError.bad("model is required: one of the names /v1/models lists", param: "model") }
        return m
    }

    /// Sampling and stopping, as OpenAI names them; unsupported options are refused, never ignored.
    func options(maxTokensDefault: Int?, context: Int) throws -> GenerationOptions {
        var o = GenerationOptions()
        if let n = try int("n", in: 1...Int.max), n != 1 { throw ServeError.bad("n must be 1: Finch answers one choice per prompt", param: "n") }
        let maxTokens = try int("max_completion_tokens", in: 0...context) ?? int("max_tokens", in: 0...context)
        o.maxTokens = maxTokens ?? maxTokensDefault ?? context
        o.temperature = Float(try number("temperature") ?? 1)
        guard o.temperature >= 0, o.temperature <= 2 else { throw ServeError.bad("temperature must be in 0...2", param: "temperature") }
        o.topP = Float(try number("top_p") ?? 1)
        guard o.topP > 0, o.topP <= 1 else { throw ServeError.bad("top_p must be in (0, 1]", param: "top_p") }
        if let s = try int("seed", in: Int(Int64.min)...Int(Int64.max)) { o.seed = UInt64(bitPattern: Int64(s)) }
        if let p = try number("frequency_penalty"), p != 0 { throw ServeError.bad("frequency_penalty is not supported (only 0)", param: "frequency_penalty") }
        if let p = try number("presence_penalty"), p != 0 { throw ServeError.bad("presence_penalty is not supported (only 0)", param: "presence_penalty") }
        switch value("stop") {
        case nil: break
        case .string(let s)?: o.stop = [s]
        case .array(let items)?:
            o.stop = try items.map { item in
                guard case .string(let s) = item else { throw ServeError.bad("stop must be a string or a list of strings", param: "stop") }
                return s
            }
            guard o.stop.count <= 4 else { throw ServeError.bad("stop takes at most 4 strings", param: "stop") }
        case let v?: throw ServeError.bad("stop must be a string or a list of strings, got \(v.typeName)", param: "stop")
        }
        o.stop.removeAll { $0.isEmpty }
        return o
    }

    var stream: Bool { get throws { try bool("stream") ?? false } }

    /// Whether the final streamed event carries the usage (stream_options.include_usage).
    var includeUsage: Bool {
        get throws {
            guard let o = value("stream_options") else { return false }
            guard case .object = o else { throw ServeError.bad("stream_options must be an object", param: "stream_options") }
            guard let v = o["include_usage"], v != .null else { return false }
            guard case .bool(let b) = v else { throw ServeError.bad("stream_options.include_usage must be true or false", param: "stream_options") }
            return b
        }
    }
}

/// A prompt of /v1/completions: text, or token ids (as lm-evaluation-harness sends them).
enum CompletionPrompt {
    case text(String)
    case ids([Int])

    /// All prompts of a request: a string, a list of strings, a list of ids or a list of lists of ids.
    static func all(_ body: RequestBody, vocab: Int) throws -> [CompletionPrompt] {
        func ids(_ items: [DataValue]) throws -> [Int] {
            try items.map { item in
                guard case .number(let n) = item, n == n.rounded(), n >= 0, n < Double(vocab) else {
                    throw ServeError.bad("a prompt of token ids must hold whole numbers in 0..<\(vocab)", param: "prompt")
                }
                return Int(n)
            }
        }
        guard let p = body.value("prompt") else { throw ServeError.bad("prompt is required", param: "prompt") }
        switch p {
        case .string(let s): return [.text(s)]
        case .array(let items) where items.isEmpty: throw ServeError.bad("prompt is an empty list", param: "prompt")
        case .array(let items):
            switch items[0] {
            case .number: return [.ids(try ids(items))]
            case .string:
                return try items.map { item in
                    guard case .string(let s) = item else { throw ServeError.bad("prompt mixes strings with other values", param: "prompt") }
                    return .text(s)
                }
            case .array:
                return try items.map { item in
                    guard case .array(let inner) = item else { throw ServeError.bad("prompt mixes lists of ids with other values", param: "prompt") }
                    return .ids(try ids(inner))
                }
            default: throw ServeError.bad("prompt must be a string, a list of strings or token ids", param: "prompt")
            }
        default: throw ServeError.bad("prompt must be a string, a list of strings or token ids, got \(p.typeName)", param: "prompt")
        }
    }
}

/// The messages of /v1/chat/completions as the chat template reads them; content given as a list
/// of parts (OpenAI's newer form) is joined from its text parts.
func chatMessages(_ body: RequestBody) throws -> [JinjaValue] {
    guard case .array(let items)? = body.value("messages"), !items.isEmpty else {
        throw ServeError.bad("messages must be a non-empty list of {role, content} objects", param: "messages")
    }
    return try items.enumerated().map { i, m in
        guard case .object(var fields) = m, case .string? = m["role"] else {
            throw ServeError.bad("messages[\(i)] must be an object with a role", param: "messages")
        }
        if let k = fields.firstIndex(where: { $0.name == "content" }), case .array(let parts) = fields[k].value {
            let texts = try parts.map { part -> String in
                guard case .string("text")? = part["type"], case .string(let t)? = part["text"] else {
                    throw ServeError.bad("messages[\(i)].content: only text parts are supported", param: "messages")
                }
                return t
            }
            fields[k].value = .string(texts.joined())
        }
        return DataValue.object(fields).jinja
    }
}
