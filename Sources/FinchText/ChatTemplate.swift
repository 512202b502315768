import Foundation

/// Chat templates, recognised rather than executed: Finch does not run
/// arbitrary Jinja. ChatML (`<|im_start|>role\n...<|im_end|>\n`) is
/// understood, including a default system prompt the template inserts.
public struct ChatTemplate: Sendable, Equatable {
    public enum Kind: String, Sendable { case chatML }
    public let kind: Kind
    /// The system message the template adds when the conversation has none.
    public let defaultSystem: String?

    /// Recognises a model's template text; an unknown template is an error that shows it.
    public init(template: String) throws {
        guard template.contains("<|im_start|>"), template.contains("<|im_end|>"), template.contains("message['role']") else {
            let head = template.prefix(120).replacingNewlines()
            throw TokenizerError("unsupported chat template (only ChatML is understood): \(head)…")
        }
        kind = .chatML
        // SmolLM2's: {% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\n...<|im_end|>\n' }}{% endif %}
        if template.contains("messages[0]['role'] != 'system'"),
           let start = template.range(of: "<|im_start|>system\n"),
           let end = template.range(of: "<|im_end|>", range: start.upperBound..<template.endIndex) {
            defaultSystem = String(template[start.upperBound..<end.lowerBound])
        } else {
            defaultSystem = nil
        }
    }

    /// The conversation as the model saw it in training; with `addGenerationPrompt`, ends ready for the assistant's turn.
    public func render(_ messages: [(role: String, content: String)], addGenerationPrompt: Bool = false) -> String {
        var out = ""
        if let system = defaultSystem, messages.first?.role != "system" {
            out += "<|im_start|>system\n\(system)<|im_end|>\n"
        }
        for m in messages { out += "<|im_start|>\(m.role)\n\(m.content)<|im_end|>\n" }
        if addGenerationPrompt { out += "<|im_start|>assistant\n" }
        return out
    }
}

extension Substring {
    func replacingNewlines() -> String { String(map { $0 == "\n" ? " " : $0 }) }
}

extension Tokenizer {
    /// The model's chat template, recognised.
    public func chatTemplateKind() throws -> ChatTemplate {
        guard let t = chatTemplate else { throw TokenizerError("this tokenizer has no chat template") }
        return try ChatTemplate(template: t)
    }
}
