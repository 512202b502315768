import FinchText

/// What kind of examples a dataset holds, recognised from its columns as the course does.
public enum DataKind: String, Sendable, CaseIterable {
    /// question, answer
    case questionAnswer = "question_answer"
    /// instruction, output, and optionally input (Alpaca)
    case instruction
    /// input, output
    case inputOutput = "input_output"
    /// messages: a list of {role, content}
    case chat
    /// text
    case text
    case unknown
}

extension Dataset {
    /// The kind its columns say: question/answer, instruction/input/output, input/output, messages, text.
    public var kind: DataKind {
        let c = Set(columns)
        if c.contains("question") && c.contains("answer") { return .questionAnswer }
        if c.contains("instruction") && c.contains("output") { return .instruction }
        if c.contains("input") && c.contains("output") { return .inputOutput }
        if c.contains("messages") { return .chat }
        if c.contains("text") { return .text }
        return .unknown
    }
}

/// How a row becomes a prompt and the completion the model learns to write after it.
public enum PromptTemplate: Sendable, Equatable {
    /// Format strings over the row's fields: "{question}" is the field's text; "{{" and "}}" are braces.
    case format(prompt: String, completion: String)
    /// The two Alpaca templates: with the input paragraph when the row has a non-empty input, without it otherwise.
    case alpaca
    /// The model's chat template over `messages`: the last assistant message is the completion.
    case chat(ChatTemplate)

    /// The course's question/answer template.
    public static let questionAnswer = PromptTemplate.format(prompt: "### Question:\n{question}\n\n### Answer:", completion: " {answer}")

    public static let alpacaWithInput = "Below is an instruction that describes a task, paired with an input that provides further context. Write a response that appropriately completes the request.\n\n### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n"
    public static let alpacaWithoutInput = "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\n{instruction}\n\n### Response:\n"

    /// The template a kind of data uses unless told otherwise (chat needs the model's template).
    public static func standard(for kind: DataKind, chat: ChatTemplate? = nil) -> PromptTemplate? {
        switch kind {
        case .questionAnswer: return .questionAnswer
        case .instruction: return .alpaca
        case .inputOutput: return .format(prompt: "{input}", completion: "{output}")
        case .text: return .format(prompt: "", completion: "{text}")
        case .chat: return chat.map { .chat($0) }
        case .unknown: return nil
        }
    }

    /// (prompt, completion) for row `index` of a dataset named `source`.
    public func render(_ row: Row, index: Int, source: String) throws -> (prompt: String, completion: String) {
        switch self {
        case .format(let p, let c):
            return (try Self.fill(p, row, index, source), try Self.fill(c, row, index, source))
        case .alpaca:
            let hasInput = !(row[field: "input"]?.text.isEmpty ?? true) && row[field: "input"] != .null
            return (try Self.fill(hasInput ? Self.alpacaWithInput : Self.alpacaWithoutInput, row, index, source),
                    try Self.fill("{output}", row, index, source))
        case .chat(let template):
            let messages = try Self.messages(row, index: index, source: source)
            guard let last = messages.last, last.role == "assistant", case .dict(let reply) = last else {
                throw DataError("\(source) row \(index): the last message must be the assistant's (it is what the model learns)")
            }
            do {
                return (try template.render(Array(messages.dropLast()), addGenerationPrompt: true), reply["content"]?.text ?? "")
            } catch let e as TokenizerError {
                throw DataError("\(source) row \(index): \(e.message)")
            }
        }
    }

    /// A chat row's messages as the template reads them: each a dict with a string role.
    static func messages(_ row: Row, index: Int, source: String) throws -> [JinjaValue] {
        guard case .array(let items)? = row[field: "messages"] else {
            throw DataError("\(source) row \(index): the chat template needs a messages list")
        }
        return try items.enumerated().map { k, m in
            guard m["role"]?.string != nil else {
                throw DataError("\(source) row \(index): message \(k + 1) needs a string role (and content)")
            }
            return m.jinja
        }
    }

    /// A format string with each {field} replaced by the row's value.
    static func fill(_ format: String, _ row: Row, _ index: Int, _ source: String) throws -> String {
        var out = ""
        var i = format.startIndex
        while i < format.endIndex {
            let c = format[i]
            let next = format.index(after: i)
            if c == "{", next < format.endIndex, format[next] == "{" { out.append("{"); i = format.index(after: next); continue }
            if c == "}", next < format.endIndex, format[next] == "}" { out.append("}"); i = format.index(after: next); continue }
            if c == "{" {
                guard let close = format[next...].firstIndex(of: "}") else {
                    throw DataError("the template \(format.debugDescription) has a '{' without its '}' (write {{ for a brace)")
                }
                let name = String(format[next..<close])
                guard let value = row[field: name] else {
                    throw DataError("\(source) row \(index): the template names {\(name)}, but the row has only \(row.map(\.name).joined(separator: ", "))")
                }
                switch value {
                case .string, .number, .bool: out += value.text
                default: throw DataError("\(source) row \(index): {\(name)} is \(value.typeName), but the template needs text there")
                }
                i = format.index(after: close)
                continue
            }
            out.append(c)
            i = next
        }
        return out
    }
}
