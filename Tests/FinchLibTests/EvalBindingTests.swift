import FinchLang
import FinchLib
import Foundation
import Testing

/// evaluate() and multiple_choice() from the language on a tiny model: the per-example table,
/// scores that agree with the table, JSONL output, and the errors for bad input.
@Suite struct EvalBindingTests {
    func error(_ code: String) -> String {
        do { _ = try runFinch(TrainBindingTests.setup + "\n" + code); return "no error" } catch { return String(describing: error) }
    }

    @Test func evaluateScoresEveryRowAndWritesJSONL() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("finch-eval-\(UUID().uuidString).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (out, _) = try runFinch(TrainBindingTests.setup + """

        ev = evaluate(m, ds, metric: "contains", max_tokens: 4)
        print(len(ev.results), ev.results.columns)
        n = 0
        for r in ev.results.to_list() { if r["correct"] { n = n + 1 } }
        print(ev.score == n / 4, ev.summary)
        ev.to_jsonl("\(path)")
        """)
        let lines = out.split(separator: "\n")
        #expect(lines[0] == "4 [\"question\", \"predicted\", \"target\", \"correct\"]", "\(out)")
        #expect(lines[1].hasPrefix("true contains: ") && lines[1].hasSuffix(" over 4 examples"), "\(out)")
        let written = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(written.count == 4 && written[0].hasPrefix("{\"question\": \"what is finch?\", \"predicted\": "))
        #expect(written[0].contains("\"target\": \"a lab.\""))
    }

    @Test func multipleChoiceCountsAccFromItsTable() throws {
        let (out, _) = try runFinch(TrainBindingTests.setup + """

        rows = [{"question": "what is finch?", "choices": {"text": ["a lab.", "adapters."], "label": ["A", "B"]}, "answerKey": "A"},
                {"question": "what is lora?", "choices": {"text": ["a lab.", "adapters.", "a number."], "label": ["A", "B", "C"]}, "answerKey": "B"},
                {"question": "bad", "choices": {"text": ["x"], "label": ["A"]}, "answerKey": "Z"}]
        mc = multiple_choice(m, dataset(rows), on_error: "skip")
        n = 0
        for r in mc.results.to_list() { if r["correct"] { n = n + 1 } }
        print(len(mc.results), mc.score == n / 2, mc.scores["acc_norm"]["mean"] <= 1)
        """)
        #expect(out.hasPrefix("skipped 1 bad row, the first: "), "\(out)")
        #expect(out.contains("answerKey \"Z\" is not among the labels A"))
        #expect(out.hasSuffix("2 true true\n"), "\(out)")
    }

    /// perplexity is exp of the loss train's own validation reports on the same set.
    @Test func perplexityIsTheExpOfTheValidationLoss() throws {
        let (out, _) = try runFinch(TrainBindingTests.setup + """

        run = train(m, ds, lr: 1e-2, steps: 3, batch: 2, print_every: 100)
        p = perplexity(m, ds)
        v = run.evaluate(ds)
        print(abs(p["loss"] - v) < 1e-4, abs(p["perplexity"] - exp(p["loss"])) < 1e-9, p["tokens"] > 0)
        """)
        #expect(out.hasSuffix("true true true\n"), "\(out)")
    }

    @Test func badArgumentsAreErrors() {
        #expect(error("evaluate(m, ds, metric: \"bleu\")").contains("metric must be one of \"exact_match\", \"contains\", \"normalized_match\", \"token_f1\""))
        #expect(error("evaluate(m, ds.take(0))").contains("the data set is empty"))
        #expect(error("multiple_choice(m, dataset([{\"question\": \"q\", \"choices\": {\"text\": [], \"label\": []}, \"answerKey\": \"A\"}]))").contains("the choice list is empty"))
        #expect(error("multiple_choice(m, \"/no/such/file.jsonl\")").contains("/no/such/file.jsonl"))
    }
}
