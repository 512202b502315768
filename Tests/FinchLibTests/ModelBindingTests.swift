import FinchLang
import FinchLib
import Foundation
import Testing

/// Models from the language: fresh models, loading, generation with streaming, saving.
@Suite struct ModelBindingTests {
    func run(_ code: String) throws -> (String, Interpreter) { try runFinch(code) }

    func error(_ code: String, setup: String = "") -> String {
        do { _ = try run(setup + "\n" + code); return "no error" } catch { return String(describing: error) }
    }

    @Test func freshModelForwardSaveAndLoad() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("finch-lib-model-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (out, _) = try run("""
        tok = bpe_train(["the cat sat on the mat"] * 20, vocab: 270, special: ["<|end|>"])
        tiny = model(vocab: tok.vocab_size, dim: 32, layers: 2, heads: 4, kv_heads: 2, context: 64, tokenizer: tok, seed: 3)
        print(tiny)
        print(tiny.config.ffn, tiny.parameters, tiny.trainable, len(tiny.params), tiny.params[1].name)
        logits = tiny.forward(tok.encode("the cat"))
        print(logits.shape)
        text = tiny.generate("the cat", max_tokens: 5, stream: false)
        print(type(text))
        tiny.save("\(dir)")
        again = load_model("\(dir)")
        print((again.forward(tok.encode("the cat")) - logits).abs().max().item())
        tiny.save("\(dir)/tiny.gguf", type: "f16")
        print(load_model("\(dir)/tiny.gguf").config.dim)
        """)
        let lines = out.split(separator: "\n").map(String.init)
        #expect(lines[0] == "<Model llama: 2 layers, dim 32, 33.3K parameters (33.3K trainable), 0.1 MB>")
        // 269 tokens (the text has no more pairs to merge); per layer q 32·32, k and v 16·32, o 32·32,
        // MLP 3·32·96, two norms of 32: 12,352; two layers, the 269·32 embedding and the final norm: 33,344.
        #expect(lines[1] == "96 33344 33344 20 model.layers.0.input_layernorm.weight")
        #expect(lines[2] == "[2, 269]")
        #expect(lines[3] == "string")
        #expect(lines[4] == "0")
        #expect(lines[5] == "32")
    }

    @Test func generateStreamsAndChatAnswers() throws {
        let (out, interpreter) = try run("""
        m = load_model("smollm2-135m")
        m.generate("The capital of France is", max_tokens: 3)
        """)
        #expect(out == " Paris.\n\n")
        #expect(interpreter.resultShown, "the REPL should not print the streamed text again")
        let (quiet, _) = try run("""
        m = load_model()
        answer = m.chat("What is the capital of France?", max_tokens: 24, stream: false)
        print(answer.contains("Paris"))
        print(m.generate("1, 2, 3, 4,", max_tokens: 40, stop: [", 7"], stream: false))
        """)
        #expect(quiet == "true\n 5, 6\n")
    }

    @Test func badArgumentsExplainThemselves() {
        let setup = "tiny = model(vocab: 50, dim: 16, layers: 1, heads: 2)"
        #expect(error("tiny.generate(\"hi\")", setup: setup).contains("this model has no tokenizer"))
        #expect(error("model(vocab: 50, dim: 30, heads: 4)").contains("dim 30 is not a multiple of heads 4"))
        #expect(error("load_model(\"no-such.gguf\")").contains("no such model file"))
        #expect(error("tiny.save(\"/tmp/x.gguf\", type: \"q4\")", setup: setup).contains("type must be \"f32\", \"f16\", \"q8_0\", \"q4_0\" or \"q4_k\""))
        #expect(error("tiny.forward([1, 2, 77])", setup: setup).contains("0..<50"))
        #expect(error("tiny.forward([[[1]]])", setup: setup).contains("ids must be [tokens] or [batch, tokens]"))
    }
}
