import FinchText
import Testing

/// Training a vocabulary: frequent pairs become tokens, encoding round-trips, training repeats exactly.
@Suite struct BPETrainerTests {
    let texts = Array(repeating: "the cat sat on the mat; the cat ate the rat. 2024-11-25", count: 50) + ["héllo wörld 🐦"]

    @Test func learnsFrequentPiecesAndRoundTrips() throws {
        let tok = try BPETrainer.train(texts: texts, vocabSize: 280, special: ["<|end|>"])
        #expect(tok.vocabSize == 280)
        // A corpus with fewer distinct pairs than asked for stops early rather than inventing tokens.
        #expect(try BPETrainer.train(texts: texts, vocabSize: 5000).vocabSize < 5000)
        #expect(tok.id(of: "<|end|>") == 0 && tok.eosId == 0)
        #expect(tok.id(of: "Ġthe") != nil && tok.id(of: "Ġcat") != nil)
        #expect(tok.pieces("the cat sat").count <= 3)
        for t in texts + ["unseen wörds ✓ <|end|>"] { #expect(tok.decode(tok.encode(t)) == t) }
        let again = try BPETrainer.train(texts: texts, vocabSize: 280, special: ["<|end|>"])
        #expect(again.tokens == tok.tokens)
    }

    @Test func anErrorFromProgressEndsTraining() {
        struct Stop: Error {}
        var calls = 0
        #expect(throws: Stop.self) {
            try BPETrainer.train(texts: texts, vocabSize: 280) { _, _ in calls += 1; throw Stop() }
        }
        #expect(calls == 1)
    }

    @Test func tooSmallVocabularyIsAnError() {
        #expect(throws: TokenizerError.self) { try BPETrainer.train(texts: texts, vocabSize: 100) }
    }
}
