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

    @Test func chatMLWithTheDefaultSystemPrompt() throws {
        let tok = try SmolLM2TokenizerTests.tokenizer()
        let template = try tok.chatTemplateKind()
        #expect(template.defaultSystem == "You are a helpful AI assistant named SmolLM, trained by Hugging Face")
        #expect(template.render([("user", "Hi")], addGenerationPrompt: true) == """
        <|im_start|>system
        You are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>
        <|im_start|>user
        Hi<|im_end|>
        <|im_start|>assistant

        """)
        #expect(template.render([("system", "Be brief."), ("user", "Hi")]) == "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n")
        do {
            _ = try ChatTemplate(template: "{{ bos_token }}{% for m in messages %}[INST] {{ m.content }} [/INST]{% endfor %}")
            Issue.record("an unknown template was accepted")
        } catch let e as TokenizerError {
            #expect(e.message.hasPrefix("unsupported chat template (only ChatML is understood): {{ bos_token }}"))
        }
    }
}
