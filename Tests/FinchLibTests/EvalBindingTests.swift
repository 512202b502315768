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

    /// compare() puts both models' answers beside the target, each equal to what evaluate()
    /// generates for that model alone.
    @Test func compareShowsBothModelsAnswers() throws {
        let (out, _) = try runFinch(TrainBindingTests.setup + """

        m2 = model(vocab: tok.vocab_size, dim: 32, layers: 2, heads: 4, context: 64, tokenizer: tok, seed: 2)
        t = compare(m, m2, ds.take(3), names: ["one", "two"], max_tokens: 4)
        print(t.columns, len(t))
        print(t["one"] == evaluate(m, ds.take(3), max_tokens: 4).results["predicted"], t["two"] == evaluate(m2, ds.take(3), max_tokens: 4).results["predicted"])
        print(t["target"])
        """)
        #expect(out == "[\"question\", \"one\", \"two\", \"target\"] 3\ntrue true\n[\"a lab.\", \"adapters.\", \"a number.\"]\n", "\(out)")
        #expect(error("compare(m, m, ds, names: [\"a\", \"a\"])").contains("names must be two different strings"))
    }

    /// categorize() applies the user's rules first, then the built-in ones, and counts.
    @Test func categorizeTagsEveryPredictionAndCounts() throws {
        let (out, _) = try runFinch(TrainBindingTests.setup + """

        t = [{"predicted": "a lab.", "target": "a lab.", "correct": true},
                   {"predicted": "", "target": "adapters.", "correct": false},
                   {"predicted": "Let's keep the discussion relevant to Finch.", "target": "a number.", "correct": false},
                   {"predicted": "lab lab lab lab lab lab lab lab lab lab lab lab", "target": "yes.", "correct": false},
                   {"predicted": "a plant.", "target": "yes.", "correct": false},
                   {"predicted": "a number, surely", "target": "a number.", "correct": false}]
        c = categorize(t, rules: {"close": fn(r) { r["predicted"].contains("number") }}, examples: 1)
        print(c.counts)
        print(c.results["category"])
        print(len(c.examples("wrong")))
        print(c)
        """)
        let lines = out.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines[0] == "{\"close\": 1, \"empty\": 1, \"correct\": 1, \"moderated\": 1, \"repetitive\": 1, \"wrong\": 1}", "\(out)")
        #expect(lines[1] == "[\"correct\", \"empty\", \"moderated\", \"repetitive\", \"wrong\", \"close\"]", "\(out)")
        #expect(lines[2] == "1")
        #expect(lines[3] == "close: 1, empty: 1, correct: 1, moderated: 1, repetitive: 1, wrong: 1 (6 predictions)", "\(out)")
        #expect(out.contains("\nwrong:\npredicted") && out.contains("a plant."))
        #expect(error("categorize([{\"x\": 1}])").contains("need predicted and target columns"))
    }

    @Test func eloRanksFromGames() throws {
        let (out, _) = try runFinch("""
        r = elo([{"a": "base", "b": "tuned", "winner": "tuned"}, {"a": "base", "b": "tuned", "winner": "b"}, ["tuned", "base", 0.5]], k: 32)
        print(r["model"], r["rating"], r["wins"], r["ties"])
        """)
        // Game 1: tuned 1016, base 984. Game 2: base expects 1/(1+10^(32/400)) = 0.45408 and loses: 1030.53, 969.47.
        // Game 3, a tie: tuned expected 1/(1+10^(−61.06/400)) = 0.58701, so it gives back 32 × 0.08701: 1027.7, 972.3.
        #expect(out == "[\"tuned\", \"base\"] [1027.7, 972.3] [2, 0] [1, 1]\n", "\(out)")
        let bad = { (code: String) -> String in do { _ = try runFinch(code); return "no error" } catch { return "\(error)" } }
        #expect(bad("elo([{\"a\": \"x\", \"b\": \"y\", \"winner\": \"z\"}])").contains("comparison 0: the winner \"z\" is neither \"x\" nor \"y\""))
        #expect(bad("elo([[\"x\", \"y\", 2]])").contains("comparison 0: the score must be 1 (a wins), 0 (b wins) or 0.5"))
        #expect(bad("elo([])").contains("there are no comparisons"))
    }

    /// A row the template cannot fill is an error naming it, or skipped and counted.
    @Test func evaluateSkipsRowsItCannotRender() throws {
        let (out, _) = try runFinch(TrainBindingTests.setup + """

        bad = dataset([{"question": "what is finch?", "answer": "a lab."}, {"q": "no question field", "answer": "x"}])
        ev = evaluate(m, bad, max_tokens: 2, template: ["{question}", "{answer}"], on_error: "skip")
        print(len(ev.results))
        """)
        #expect(out.hasPrefix("skipped 1 bad row, the first: ") && out.hasSuffix("\n1\n"), "\(out)")
        #expect(error("evaluate(m, dataset([{\"q\": 1, \"answer\": 2}]), template: [\"{question}\", \"{answer}\"])").contains("question"))
    }
}
