import FinchLang
import FinchLib
import Testing

/// Tokenizers from the language, on the real SmolLM2 vocabulary (`make model`).
@Suite struct TextBindingTests {
    /// Optional arguments left out take their documented defaults.
    @Test func bpeTrainWithoutSpecialTokensAndCallWithoutArgs() throws {
        let (out, _) = try runFinch("""
        small = bpe_train(["the cat sat on the mat"] * 20, vocab: 270)
        print(small.vocab_size > 256 and small.vocab_size <= 270, small.decode(small.encode("the cat")))
        print(call(time) > 0)
        """)
        #expect(out == "true the cat\ntrue\n", "\(out)")
    }

    @Test func encodeDecodeBatchAndChat() throws {
        let (out, interpreter) = try runFinch("""
        tok = tokenizer("smollm2-135m")
        print(tok.encode("Hi, how are you?"))
        print(tok.show("Hi, how are you?"))
        print(tok.decode(tok.encode("naïve café 2024")))
        b = tok.batch(["Hi, how are you?", "I'm good", "Yes"], max_length: 3, truncation: true, truncation_side: "left")
        print(b.input_ids.tolist(), b.attention_mask.shape)
        print(tok.vocab_size, tok.pad_id)
        """)
        #expect(out == """
        [26843, 28, 638, 359, 346, 47]
        Hi(26843) ,(28) ·how(638) ·are(359) ·you(346) ?(47)
        naïve café 2024
        [[359, 346, 47], [57, 5248, 1123], [10539, 2, 2]] [3, 3]
        49152 2

        """)
        do { _ = try interpreter.run("tok.batch([\"a\"], padding_side: \"middle\")") } catch {
            #expect(String(describing: error).contains("padding_side must be \"left\" or \"right\""))
        }
        do { _ = try interpreter.run("tokenizer(\"no-such-model\")") } catch {
            #expect(String(describing: error).contains("no such model file (known names: smollm2-135m)"))
        }
    }
}
