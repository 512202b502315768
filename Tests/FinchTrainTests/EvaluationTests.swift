import FinchData
import FinchModel
import FinchTensor
import FinchText
@testable import FinchTrain
import Foundation
import Testing

/// Answer metrics against hand-worked examples, and multiple-choice log-likelihood scoring
/// against the same sums computed the slow way, with acc and acc_norm worked out by hand.
@Suite struct EvaluationTests {
    @Test func answerMetricsByHand() {
        #expect(AnswerMetric.exactMatch.score("  Paris\n", "Paris") == 1)
        #expect(AnswerMetric.exactMatch.score("paris", "Paris") == 0)
        #expect(AnswerMetric.contains.score("It is Paris, of course.", " Paris ") == 1)
        #expect(AnswerMetric.contains.score("It is Lyon.", "Paris") == 0)
        #expect(AnswerMetric.normalized.score("The Cat!", "cat") == 1)
        #expect(AnswerMetric.normalize("  A  lab, for   FINETUNING. ") == "lab for finetuning")
        // Prediction words cat sat on mat, target words cat on mat: P = 3/4, R = 1, F1 = 6/7.
        #expect(abs(AnswerMetric.tokenF1.score("the cat sat on the mat", "a cat on the mat") - 6.0 / 7.0) < 1e-12)
        #expect(AnswerMetric.tokenF1.score("dog", "cat") == 0)
        // Repeated words count once per occurrence in the target: p = [a1, a1, a1] → common 1.
        #expect(abs(AnswerMetric.tokenF1.score("x x x", "x y") - 2 * (1.0 / 3) * 0.5 / (1.0 / 3 + 0.5)) < 1e-12)
    }

    @Test func meanAndStandardError() {
        // Mean 0.75; sample variance (3 × 0.0625 + 0.5625) / 3 = 0.25; stderr √(0.25 / 4) = 0.25.
        let s = MeanScore([1, 0, 1, 1])
        #expect(s.mean == 0.75 && abs(s.stderr - 0.25) < 1e-12 && s.count == 4)
    }

    /// Summed log-probabilities of each choice from one forward pass over context + choice,
    /// without any cache: what the cached scorer must reproduce.
    func slowLogLikelihood(_ m: LanguageModel, _ context: [Int], _ cont: [Int]) throws -> Double {
        let ids = context + cont
        let logits = try GradMode.noGrad { try m.forward(Tensor(ids.map(Float.init), shape: [1, ids.count])) }
        let lp = try logits.reshape([ids.count, m.config.vocab]).logSoftmax().scalars
        var total = 0.0
        for (i, t) in cont.enumerated() { total += Double(lp[(context.count + i - 1) * m.config.vocab + t]) }
        return total
    }

    @Test func multipleChoiceScoresAgreeWithTheSlowWayAndAccIsCountedByHand() throws {
        let tok = TrainerTests.tokenizer
        let m = try LanguageModel.random(ModelConfig(vocab: tok.vocabSize, dim: 32, layers: 2, heads: 4, kvHeads: 2, ffn: 64, context: 64), seed: 3, tokenizer: tok)
        let items = [
            ChoiceItem(question: "what is finch?", choices: ["a lab.", "adapters which are long", "a number."], labels: ["A", "B", "C"], answer: 0, origin: "t:1"),
            ChoiceItem(question: "what is lora?", choices: ["adapters.", "a lab"], labels: ["A", "B"], answer: 1, origin: "t:2"),
            ChoiceItem(question: "what is loss?", choices: ["finch", "a number.", "lora · lora"], labels: ["1", "2", "3"], answer: 1, origin: "t:3"),
        ]
        let result = try MultipleChoice.score(m, items)
        var acc = 0.0, accNorm = 0.0
        for (item, s) in zip(items, result.scores) {
            let ctx = tok.encode("Question: \(item.question)\nAnswer:", addSpecial: false)
            var expected: [Double] = []
            for c in item.choices {
                let whole = tok.encode("Question: \(item.question)\nAnswer: \(c)", addSpecial: false)
                expected.append(try slowLogLikelihood(m, ctx, Array(whole[ctx.count...])))
            }
            for (a, b) in zip(s.logprobs, expected) { #expect(abs(a - b) < 1e-3, "\(a) vs \(b)") }
            let best = expected.indices.max { expected[$0] < expected[$1] }!
            // lm-evaluation-harness's acc_norm: lls / len(choice), Python's len of the choice itself.
            let bestNorm = expected.indices.max { expected[$0] / Double(item.choices[$0].unicodeScalars.count) < expected[$1] / Double(item.choices[$1].unicodeScalars.count) }!
            acc += best == item.answer ? 1 : 0
            accNorm += bestNorm == item.answer ? 1 : 0
            #expect(s.lengths == item.choices.map { $0.unicodeScalars.count })
        }
        #expect(result.acc.mean == acc / 3 && result.accNorm.mean == accNorm / 3)
        #expect(result.acc.count == 3)
    }

    @Test func badRowsNameTheirLineOrAreSkippedAndCounted() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("finch-mc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("mc.jsonl").path
        try """
        {"question": "q1", "choices": {"text": ["a", "b"], "label": ["A", "B"]}, "answerKey": "B"}

        {"question": "q2", "choices": {"text": ["a", "b"], "label": ["A", "B"]}, "answerKey": "E"}
        {"question": "q3", "choices": {"text": [], "label": []}, "answerKey": "A"}
        {"choices": {"text": ["a"], "label": ["A"]}, "answerKey": "A"}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        do {
            _ = try ChoiceItem.load(path)
            Issue.record("a bad row was accepted")
        } catch let e as DataError {
            #expect(e.description == "\(path):3: answerKey \"E\" is not among the labels A, B")
        }
        let (items, skipped, _) = try ChoiceItem.load(path, skipBad: true)
        #expect(items.map(\.question) == ["q1"] && items[0].answer == 1)
        #expect(skipped == ["\(path):3: answerKey \"E\" is not among the labels A, B", "\(path):4: the choice list is empty", "\(path):5: no \"question\" string"])
    }

    /// Rows keep their file lines however many lines before them were skipped (the loader
    /// lists only the first few skipped lines, so counting from those went wrong past five).
    @Test func skippedRowsNameTheirLineAfterManyUnreadableLines() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("finch-mc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("mc.jsonl").path
        let bad = Array(repeating: "{not json", count: 7).joined(separator: "\n")
        try (bad + "\n{\"question\": \"q\", \"choices\": {\"text\": [\"a\"], \"label\": [\"A\"]}, \"answerKey\": \"Z\"}\n")
            .write(toFile: path, atomically: true, encoding: .utf8)
        let (items, skipped, _) = try ChoiceItem.load(path, skipBad: true)
        #expect(items.isEmpty && skipped.last == "\(path):8: answerKey \"Z\" is not among the labels A", "\(skipped)")
    }
}
