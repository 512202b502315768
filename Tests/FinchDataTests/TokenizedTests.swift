import FinchData
import FinchText
import Testing

/// Prompt + completion into ids and labels: EOS, masking, truncation, padding, packing, statistics.
@Suite struct TokenizedTests {
    static let tokenizer: Tokenizer = try! BPETrainer.train(texts: Array(repeating: "### Question:\nwhat is finch? ### Answer: a lab for finetuning", count: 10),
                                                        vocabSize: 300, special: ["<|end|>"])
    static let qa = Dataset(rows: [
        [.init("question", .string("what is finch?")), .init("answer", .string("a lab"))],
        [.init("question", .string("what?")), .init("answer", .string("finetuning"))],
    ], source: "qa")

    @Test func labelsMaskThePromptAndEndWithEOS() throws {
        let tok = Self.tokenizer, eos = tok.eosId!
        let t = try Self.qa.tokenized(tok)
        let prompt = tok.encode("### Question:\nwhat is finch?\n\n### Answer:", addSpecial: false)
        let completion = tok.encode(" a lab", addSpecial: false)
        let e = t.examples[0]
        #expect(e.ids == prompt + completion + [eos])
        #expect(e.labels == [Int](repeating: -100, count: prompt.count) + completion + [eos])
        #expect(e.promptLength == prompt.count && !e.truncated)
        let unmasked = try Self.qa.tokenized(tok, maskPrompt: false)
        #expect(unmasked.examples[0].labels == e.ids)
        #expect(try Self.qa.tokenized(tok, addEOS: false).examples[0].ids == prompt + completion)
    }

    @Test func truncationFromEitherSide() throws {
        let full = try Self.qa.tokenized(Self.tokenizer).examples[0]
        let right = try Self.qa.tokenized(Self.tokenizer, maxLength: 5).examples[0]
        #expect(right.ids == Array(full.ids.prefix(5)) && right.labels == Array(full.labels.prefix(5)) && right.truncated)
        let left = try Self.qa.tokenized(Self.tokenizer, maxLength: 5, truncation: .left).examples[0]
        #expect(left.ids == Array(full.ids.suffix(5)) && left.labels == Array(full.labels.suffix(5)))
        #expect(throws: DataError.self) { try Self.qa.tokenized(Self.tokenizer, maxLength: 0) }
    }

    @Test func batchesPadWithIgnoredLabelsAndZeroMask() throws {
        let t = try Self.qa.tokenized(Self.tokenizer)
        let (a, b) = (t.examples[0].ids.count, t.examples[1].ids.count)
        let width = max(a, b), short = a < b ? 0 : 1
        let right = t.batch(0..<2)
        #expect(right.ids.allSatisfy { $0.count == width })
        #expect(right.mask[short].suffix(width - min(a, b)).allSatisfy { $0 == 0 })
        #expect(right.labels[short].suffix(width - min(a, b)).allSatisfy { $0 == -100 })
        #expect(right.ids[short].suffix(width - min(a, b)).allSatisfy { $0 == t.padId })
        #expect(t.batch(0..<2, padId: 0).ids[short].suffix(width - min(a, b)).allSatisfy { $0 == 0 })
        let left = t.batch(0..<2, side: .left)
        #expect(left.mask[short].prefix(width - min(a, b)).allSatisfy { $0 == 0 } && left.ids[short].suffix(min(a, b)) == ArraySlice(t.examples[short].ids))
    }

    @Test func packingCutsOneStream() throws {
        let t = try Self.qa.tokenized(Self.tokenizer)
        let total = t.examples.reduce(0) { $0 + $1.ids.count }
        let (packed, dropped) = try t.packed(length: 4)
        #expect(packed.count == total / 4 && dropped == total % 4 && packed.examples.allSatisfy { $0.ids.count == 4 })
        #expect(packed.examples.flatMap(\.ids) == Array((t.examples[0].ids + t.examples[1].ids).prefix(total / 4 * 4)))
    }

    @Test func lengthStatisticsAndHistogram() {
        let s = LengthStats([4, 1, 100, 3, 2])
        #expect(s.min == 1 && s.max == 100 && s.median == 3 && s.mean == 22)
        #expect(abs(s.p95 - 80.8) < 1e-9)
        let h = LengthStats.histogram([1, 2, 3, 4, 100], bins: 4)
        #expect(h.counts == [4, 0, 0, 1] && h.edges.first == 1)
    }

    @Test func previewMarksTheTrainedTokens() throws {
        let t = try Self.qa.tokenized(Self.tokenizer)
        let text = t.examples[1].preview(Self.tokenizer, color: false)
        #expect(text.hasPrefix("### Question:") && text.hasSuffix("[<|end|>]"))
        #expect(text.contains("[") && !text.hasPrefix("["), "the prompt is shown unmarked, the answer in brackets")
        #expect(t.examples[1].preview(Self.tokenizer, color: true).contains("\u{1B}[42;30m"))
    }
}
