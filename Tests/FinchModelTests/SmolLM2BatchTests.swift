import FinchModel
import FinchText
import Foundation
import Testing

/// The course's batch examples and SmolLM2's chat template, against the reference.
@Suite struct SmolLM2BatchTests {
    @Test func courseBatchExamplesMatchTheReference() throws {
        let tok = try SmolLM2TokenizerTests.tokenizer()
        let data = try Data(contentsOf: SmolLM2TokenizerTests.fixtures.appendingPathComponent("smollm2_batch.json"))
        let cases = try JSONSerialization.jsonObject(with: data) as! [String: [String: [[Int]]]]
        let texts = ["Hi, how are you?", "I'm good", "Yes"]
        let runs: [(String, BatchEncoding)] = [
            ("padding", try tok.batch(texts, addSpecial: false)),
            ("truncation_right", try tok.batch(texts, padding: false, truncation: true, maxLength: 3, addSpecial: false)),
            ("truncation_left", try tok.batch(texts, padding: false, truncation: true, maxLength: 3, truncationSide: .left, addSpecial: false)),
            ("padding_left_truncation_right", try tok.batch(texts, paddingSide: .left, truncation: true, maxLength: 3, addSpecial: false)),
        ]
        for (name, got) in runs {
            let expected = try #require(cases[name])
            #expect(got.ids == expected["ids"], "\(name) ids")
            #expect(got.attentionMask == expected["attention_mask"], "\(name) attention mask")
        }
        #expect(throws: TokenizerError.self) { try tok.batch(texts, truncation: true) }
    }

    @Test func smolLM2sOwnTemplateWithItsDefaultSystemPrompt() throws {
        let tok = try SmolLM2TokenizerTests.tokenizer()
        let template = try tok.compiledChatTemplate()
        #expect(try template.render([("user", "Hi")], addGenerationPrompt: true) == """
        <|im_start|>system
        You are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>
        <|im_start|>user
        Hi<|im_end|>
        <|im_start|>assistant

        """)
        #expect(try template.render([("system", "Be brief."), ("user", "Hi")]) == "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n")
        #expect(tok.endOfTurnId == tok.id(of: "<|im_end|>"))
        // Trained: the assistant's text and its <|im_end|>, not the newline after it nor anything before.
        let (ids, trained) = try tok.encodeChat([("user", "Hi"), ("assistant", "Hello there"), ("user", "Bye"), ("assistant", "Bye!")].map(ChatTemplate.message), template: template)
        let marked = zip(ids, trained).filter(\.1).map(\.0)
        #expect(marked == tok.encode("Hello there<|im_end|>Bye!<|im_end|>", addSpecial: false))
        do {
            _ = try ChatTemplate(template: "{% for m in messages %}\n{{ m.content }\n{% endfor %}")
            Issue.record("a broken template was accepted")
        } catch let e as TokenizerError {
            #expect(e.message.hasPrefix("chat template line 2:"), "\(e.message)")
        }
    }
}
