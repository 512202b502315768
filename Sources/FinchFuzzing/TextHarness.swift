import FinchText
import Foundation

/// Tokenizing and chat templates under fuzzing.
enum TextHarness {
    /// A small byte-level BPE (GPT-2's pattern with SmolLM's digit split), trained once on a
    /// few sentences: every byte sequence must survive encode then decode.
    static let tokenizer: Tokenizer = {
        let texts = ["The quick brown fox jumps over the lazy dog 12345.", "Finch finetunes models: tokens, batches, LoRA!",
                     "  spaces\tand\nnewlines, ünïcödé and 日本語 too"]
        return try! BPETrainer.train(texts: texts, vocabSize: 400, special: ["<|endoftext|>"], preTokenizer: .smollm)
    }()

    static func encode(_ data: Data) throws {
        let text = String(decoding: data, as: UTF8.self)
        let ids = tokenizer.encode(text, addSpecial: false)
        let back = tokenizer.decode(ids)
        guard back == text else {
            throw FuzzFailure("decode(encode(text)) differs from the text: \(String(reflecting: text)) came back as \(String(reflecting: back))")
        }
    }

    static func chat(_ data: Data) {
        let text = String(decoding: data, as: UTF8.self)
        guard let template = try? ChatTemplate(template: text, bosToken: "<s>", eosToken: "</s>") else { return }
        _ = try? template.render([("system", "s"), ("user", text), ("assistant", "a")], addGenerationPrompt: true)
        _ = try? template.render([], addGenerationPrompt: false)
        _ = try? template.assistantSpans([("user", text), ("assistant", "a")].map(ChatTemplate.message))
    }
}
