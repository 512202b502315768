import FinchData
import FinchModel
import FinchTrain
import Foundation

/// eval: SmolLM2-135M scoring the science multiple-choice set by log-likelihood (requests per
/// second: one request is one choice, as lm-evaluation-harness counts them) and answering
/// finch_docs questions with 64 new tokens for exact match, interleaved.
enum EvalBench {
    static func run(_ out: BenchReporter, _ options: BenchOptions) throws {
        let model = try LanguageModel(gguf: ModelStore.resolve("smollm2-135m"))
        let items = try ChoiceItem.load("Notebooks/data/science_mc.jsonl").items
        let docs = try Dataset.load("Notebooks/data/finch_docs.jsonl")
        let mcItems = Array(items.prefix(8)), requests = mcItems.reduce(0) { $0 + $1.choices.count }
        // As in the lesson: greedy answers of at most 64 tokens, ending early at the end of text.
        let questions = Dataset(rows: Array(docs.rows.prefix(2)), source: docs.source)
        let times = try BenchTiming.interleaved([
            { _ = try MultipleChoice.score(model, mcItems) },
            { _ = try AnswerEvaluation.run(model, questions, template: .questionAnswer, metric: .exactMatch, maxTokens: 64) },
        ], seconds: options.seconds * 4, minRounds: 3)
        out.report("eval.mc_requests_per_s", Double(requests) / times[0], digits: 1)
        out.report("eval.generate_examples_per_s", 2 / times[1], digits: 2)
    }
}
