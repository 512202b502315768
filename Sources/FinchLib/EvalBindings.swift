import FinchData
import FinchLang
import FinchModel
import FinchTrain
import Foundation

/// A finished evaluation: its score and the per-example table it came from.
final class EvaluationBox {
    let summary: String
    let scores: [(name: String, score: MeanScore)]
    let table: Table
    init(summary: String, scores: [(name: String, score: MeanScore)], table: Table) {
        self.summary = summary
        self.scores = scores
        self.table = table
    }
}

/// evaluate() (generation scored by a metric) and multiple_choice() (log-likelihood scoring).
enum EvalBindings {
    static let type: NativeType = {
        let t = NativeType(name: "Evaluation", doc: "The result of evaluate() or multiple_choice(): scores with standard errors, and a table of every example.")
        define(t)
        return t
    }()

    static func register(in r: Registry) {
        r.section("Evaluation")
        r.register(type)
        r.register(NativeFunction("evaluate", [
            Param("model", .object("Model")),
            answerDataParam,
            Param("metric", .string, default: .string("exact_match"), doc: AnswerMetric.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")),
            Param("max_tokens", .int, default: .number(64), doc: "new tokens per answer (greedy)"),
            DataBindings.templateParam,
            onErrorParam,
        ], returns: "Evaluation", doc: "Generates an answer to every row's prompt (greedy, the data's template) and scores it against the row's answer: exact_match compares after stripping whitespace (the course's), contains looks for the answer in the prediction, normalized_match ignores case, punctuation and articles, token_f1 gives partial credit for shared words. Ctrl-C stops after the current example and keeps those done.",
        example: "ev = evaluate(m, parts[\"test\"], metric: \"exact_match\")") { a in
            let m = a.object("model", as: LanguageModel.self)!
            let ds = a.object("data", as: DatasetBox.self)!.dataset
            guard let metric = AnswerMetric(rawValue: a.string("metric")) else {
                throw a.error("metric must be one of \(AnswerMetric.allCases.map { Value.quote($0.rawValue) }.joined(separator: ", ")), got \(Value.quote(a.string("metric")))")
            }
            guard a.int("max_tokens") > 0 else { throw a.error("max_tokens must be positive, got \(a.int("max_tokens"))") }
            guard ds.count > 0 else { throw a.error("the data set is empty") }
            let template = try DataBindings.template(a, ds, tokenizer: nil)
            let skip = try skipBad(a)
            var skipped: [String] = []
            let examples: [AnswerEvaluation.Example]
            do {
                examples = try answers(m, ds, template: template, metric: metric, maxTokens: a.int("max_tokens"), skipBad: skip, skipped: &skipped, a)
            } catch let e as DataError { throw a.error(e.description) }
            reportSkipped(skipped, a)
            guard !examples.isEmpty else { throw a.error("no examples were evaluated") }
            let score = MeanScore(examples.map(\.score))
            let rows: [[Value]] = examples.map { e in
                [.string(question(ds, e)), .string(e.predicted), .string(e.target.trimmingCharacters(in: .whitespacesAndNewlines)),
                 metric == .tokenF1 ? .number(e.score) : .bool(e.score == 1)]
            }
            let table = Table(columns: ["question", "predicted", "target", metric == .tokenF1 ? "f1" : "correct"], rows: rows)
            let summary = "\(metric.rawValue): \(format(score)) over \(examples.count) examples"
            return .object(NativeObject(type: type, value: EvaluationBox(summary: summary, scores: [(metric.rawValue, score)], table: table)))
        })
        r.register(NativeFunction("perplexity", [
            Param("model", .object("Model")),
            Param("data", .oneOf([.object("Dataset"), .object("TokenizedDataset")]), doc: "text (packed into windows) or question/answer rows (loss on the answers only)"),
            Param("max_length", .optional(.int), default: .nil, doc: "window of packed text, longest example otherwise (as in train)"),
            Param("batch", .int, default: .number(4)),
        ], returns: "dict", doc: "The model's mean loss per predicted token on a data set, masked as in training, and its perplexity exp(loss): how many tokens the model is, on average, as unsure between as if choosing uniformly.",
        example: "perplexity(m, parts[\"test\"])") { a in
            let m = a.object("model", as: LanguageModel.self)!
            guard a.int("batch") > 0 else { throw a.error("batch must be positive, got \(a.int("batch"))") }
            if let ml = a.optionalInt("max_length"), ml <= 1 || ml > m.config.context { throw a.error("max_length must be in 2...\(m.config.context), got \(ml)") }
            let set = try TrainBindings.tokenized(a["data"], m, maxLength: a.optionalInt("max_length"), maskPrompt: true, a, "data")
            let (loss, tokens) = try Trainer.meanLoss(m, set, batch: a.int("batch"))
            guard tokens > 0 else { throw a.error("the data has no tokens to predict") }
            return .dict(try DictRef([(.string("loss"), .number(loss)), (.string("perplexity"), .number(Foundation.exp(loss))), (.string("tokens"), .number(Double(tokens)))]))
        })
        r.register(NativeFunction("multiple_choice", [
            Param("model", .object("Model")),
            Param("data", .oneOf([.string, .object("Dataset")]), doc: "a JSONL file or a Dataset in the ARC schema: question, choices {text, label}, answerKey"),
            Param("format", .string, default: .string("auto"), doc: "\"arc\", \"hellaswag\", \"mmlu\", \"truthfulqa_mc1\", or \"auto\" (from the first row's fields)"),
            onErrorParam,
        ], returns: "Evaluation", doc: "Scores multiple-choice questions by log-likelihood, as lm-evaluation-harness does: ARC's context \"Question: {question}\\nAnswer:\" with continuations \" {choice}\"; HellaSwag's \"{activity_label}: {ctx}\" with its endings; MMLU's question with lettered choices, the letter scored; TruthfulQA MC1's six example answers before \"Q: {question}\\nA:\". acc picks the choice with the highest summed log-probability, acc_norm the highest per character of the choice, as the harness counts (HellaSwag's main score).",
        example: "mc = multiple_choice(m, \"Notebooks/data/science_mc.jsonl\")") { a in
            let m = a.object("model", as: LanguageModel.self)!
            var format: ChoiceFormat? = nil
            if a.string("format") != "auto" {
                guard let f = ChoiceFormat(rawValue: a.string("format")) else {
                    throw a.error("format must be \"auto\" or one of \(ChoiceFormat.allCases.map { Value.quote($0.rawValue) }.joined(separator: ", ")), got \(Value.quote(a.string("format")))")
                }
                format = f
            }
            let skip = try skipBad(a)
            var items: [ChoiceItem] = [], skipped: [String] = [], found = ChoiceFormat.arc
            do {
                if case .string(let path) = a["data"] {
                    (items, skipped, found) = try ChoiceItem.load(path, format: format, skipBad: skip)
                } else {
                    let ds = a.object("data", as: DatasetBox.self)!.dataset
                    (items, skipped, found) = try ChoiceItem.from(ds.rows, origins: ds.rows.indices.map { i in ds.lines.count == ds.count ? "\(ds.source):\(ds.lines[i])" : "\(ds.source) row \(i)" }, format: format, skipBad: skip)
                }
            } catch let e as DataError { throw a.error(e.description) }
            reportSkipped(skipped, a)
            guard !items.isEmpty else { throw a.error("no questions to score") }
            let out = a.interpreter.output, terminal = a.interpreter.outputIsTerminal
            let result: MultipleChoice.Result
            do {
                result = try MultipleChoice.score(m, items) { n in
                    if terminal { out("\r\u{1B}[2Kscoring \(n)/\(items.count)" + (n == items.count ? "\r\u{1B}[2K" : "")) }
                }
            } catch let e as ModelError { throw a.error(e.description) }
            let rows: [[Value]] = result.scores.map { s in
                [.string(s.item.question), .string(s.item.labels[s.item.answer]), .string(s.item.labels[s.predicted]),
                 .string(s.item.labels[s.predictedNorm]), .bool(s.predicted == s.item.answer), .bool(s.predictedNorm == s.item.answer)]
            }
            let table = Table(columns: ["question", "answer", "predicted", "predicted_norm", "correct", "correct_norm"], rows: rows)
            var scores = [("acc", result.acc), ("acc_norm", result.accNorm)]
            if found.mainScore == "acc_norm" { scores.reverse() }
            let summary = "\(found.rawValue): " + scores.map { "\($0.0) \(Self.format($0.1))" }.joined(separator: ", ") + " over \(items.count) questions"
            return .object(NativeObject(type: type, value: EvaluationBox(summary: summary, scores: scores, table: table)))
        })
    }

    /// The rows whose prompts are answered by generation (evaluate, compare).
    static let answerDataParam = Param("data", .object("Dataset"), doc: "question/answer rows (or any kind with a template)")

    static let onErrorParam = Param("on_error", .string, default: .string("raise"),
                                    doc: "\"raise\" stops at a bad row (naming file and line); \"skip\" leaves it out and counts it")

    /// Whether on_error says skip; anything but "raise" or "skip" is an error.
    static func skipBad(_ a: Arguments) throws -> Bool {
        let s = a.string("on_error")
        guard s == "raise" || s == "skip" else { throw a.error("on_error must be \"raise\" or \"skip\", got \(Value.quote(s))") }
        return s == "skip"
    }

    static func reportSkipped(_ skipped: [String], _ a: Arguments) {
        guard !skipped.isEmpty else { return }
        a.interpreter.output("skipped \(skipped.count) bad row\(skipped.count == 1 ? "" : "s"), the first: \(skipped[0])\n")
    }

    /// The question column of the example's row, or the prompt when the data has none.
    static func question(_ ds: Dataset, _ e: AnswerEvaluation.Example) -> String {
        ds.rows[e.row][field: "question"]?.text ?? e.prompt
    }

    /// Greedy answers to every row, with a progress line in a terminal; Ctrl-C stops after the
    /// current example and keeps those done (said on the output).
    static func answers(_ m: LanguageModel, _ ds: Dataset, template: PromptTemplate, metric: AnswerMetric, maxTokens: Int,
                        skipBad: Bool, skipped: inout [String], _ a: Arguments, label: String = "evaluating") throws -> [AnswerEvaluation.Example] {
        let out = a.interpreter.output, terminal = a.interpreter.outputIsTerminal
        Interrupt.clear()
        let examples = try AnswerEvaluation.run(m, ds, template: template, metric: metric, maxTokens: maxTokens, skipBad: skipBad,
                                                skipped: &skipped, shouldStop: { Interrupt.requested }) { n in
            if terminal { out("\r\u{1B}[2K\(label) \(n)/\(ds.count)" + (n == ds.count ? "\r\u{1B}[2K" : "")) }
        }
        if Interrupt.requested { Interrupt.clear(); out("\nstopped by Ctrl-C after \(examples.count) of \(ds.count) examples\n") }
        return examples
    }

    static func format(_ s: MeanScore) -> String { String(format: "%.3f ± %.3f", s.mean, s.stderr) }

    private static func define(_ t: NativeType) {
        func box(_ o: NativeObject) -> EvaluationBox { o.value as! EvaluationBox }
        t.property("score", doc: "The main score: the metric's mean (evaluate) or acc (multiple_choice).") { o in .number(box(o).scores[0].score.mean) }
        t.property("scores", doc: "Every score with its standard error: {name: {mean, stderr}}.") { o in
            .dict(try DictRef(try box(o).scores.map { (.string($0.name), .dict(try DictRef([(.string("mean"), .number($0.score.mean)), (.string("stderr"), .number($0.score.stderr))]))) }))
        }
        t.property("results", doc: "A table with a row per example.") { o in TableBindings.wrap(box(o).table) }
        t.property("summary", doc: "The scores as a line of text.") { o in .string(box(o).summary) }
        t.method("to_jsonl", on: EvaluationBox.self, [Param("path", .string)], returns: "nil", "Writes one JSON object per example, atomically.",
                 "ev.to_jsonl(\"runs/eval.jsonl\")") { ev, a in
            let rows: [Row] = try ev.table.rows.map { r in try zip(ev.table.columns, r).map { DataValue.Field($0, try DataBindings.dataValue($1, $0)) } }
            do { try Dataset(rows: rows, source: "evaluation").writeJSONL(a.string("path")) } catch { throw a.error("\(error)") }
            return .nil
        }
        t.describe = { o in box(o).summary + "\n" + box(o).table.rendered }
    }
}
