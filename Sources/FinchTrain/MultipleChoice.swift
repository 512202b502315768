import FinchData
import FinchModel
import FinchTensor
import Foundation

/// One multiple-choice question in the ARC schema: `question`, `choices: {text, label}`, `answerKey`.
public struct ChoiceItem: Sendable {
    public var question: String
    public var choices: [String]
    public var labels: [String]
    /// Index of the right choice.
    public var answer: Int
    /// Where it came from ("file.jsonl:12"), for messages.
    public var origin: String

    public init(question: String, choices: [String], labels: [String], answer: Int, origin: String) {
        self.question = question
        self.choices = choices
        self.labels = labels
        self.answer = answer
        self.origin = origin
    }

    /// Reads an item from a row, or says what is wrong with it.
    public static func from(_ row: Row, origin: String) throws -> ChoiceItem {
        func fail(_ why: String) -> DataError { DataError("\(origin): \(why)") }
        guard let q = row[field: "question"]?.string else { throw fail("no \"question\" string") }
        guard let choices = row[field: "choices"], case .array(let texts)? = choices["text"], case .array(let labels)? = choices["label"] else {
            throw fail("no \"choices\" object with \"text\" and \"label\" lists")
        }
        let t = texts.compactMap(\.string), l = labels.compactMap(\.string)
        guard t.count == texts.count, l.count == labels.count else { throw fail("choices.text and choices.label must hold strings") }
        guard !t.isEmpty else { throw fail("the choice list is empty") }
        guard t.count == l.count else { throw fail("\(t.count) choice texts but \(l.count) labels") }
        guard let key = row[field: "answerKey"]?.string ?? row[field: "answerKey"].map({ $0.text }) else { throw fail("no \"answerKey\"") }
        guard let answer = l.firstIndex(of: key) else {
            throw fail("answerKey \"\(key)\" is not among the labels \(l.joined(separator: ", "))")
        }
        return ChoiceItem(question: q, choices: t, labels: l, answer: answer, origin: origin)
    }

    /// The items of a JSONL file. A bad row is an error naming its line, or with `skipBad`
    /// left out and counted in `skipped`.
    public static func load(_ path: String, skipBad: Bool = false) throws -> (items: [ChoiceItem], skipped: [String]) {
        let data = try Dataset.load(path, format: .jsonl, onError: skipBad ? .skip : .raise)
        // Rows are the file's non-blank lines, in order (less any skipped as unreadable JSON).
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            .filter { !$0.element.allSatisfy(\.isWhitespace) && !data.skippedLines.contains($0.offset + 1) }.map { $0.offset + 1 }
        var items: [ChoiceItem] = [], skipped: [String] = data.skippedLines.map { "\(path):\($0): not a JSON object" }
        for (i, row) in data.rows.enumerated() {
            let origin = "\(path):\(i < lines.count ? lines[i] : i + 1)"
            do { items.append(try from(row, origin: origin)) } catch let e as DataError where skipBad {
                skipped.append(e.description)
            }
        }
        return (items, skipped)
    }
}

/// The scores of one item: each choice's summed log-probability and its length in bytes.
public struct ChoiceScore: Sendable {
    public let item: ChoiceItem
    public let logprobs: [Double]
    public let bytes: [Int]
    /// The choice with the highest log-probability (acc).
    public var predicted: Int { logprobs.indices.max { logprobs[$0] < logprobs[$1] }! }
    /// The choice with the highest log-probability per byte (acc_norm).
    public var predictedNorm: Int { logprobs.indices.max { logprobs[$0] / Double(max(1, bytes[$0])) < logprobs[$1] / Double(max(1, bytes[$1])) }! }
}

/// Multiple choice scored by log-likelihood, the way lm-evaluation-harness scores ARC: the
/// context `Question: {question}\nAnswer:`, each continuation ` {choice}`; acc takes the choice
/// of highest summed log-probability, acc_norm divides it by the continuation's length in bytes.
public enum MultipleChoice {
    public struct Result: Sendable {
        public let scores: [ChoiceScore]
        public let acc: MeanScore
        public let accNorm: MeanScore
    }

    public static func context(_ item: ChoiceItem) -> String { "Question: \(item.question)\nAnswer:" }
    public static func continuation(_ choice: String) -> String { " " + choice }

    /// Scores every item; `onItem` hears each as it is done (for progress).
    public static func score(_ model: LanguageModel, _ items: [ChoiceItem], onItem: ((Int) -> Void)? = nil) throws -> Result {
        guard let tok = model.tokenizer else { throw ModelError("the model has no tokenizer to score text with") }
        var scores: [ChoiceScore] = []
        try GradMode.noGrad {
            for (n, item) in items.enumerated() {
                let ctx = context(item)
                let ctxIds = tok.encode(ctx, addSpecial: false)
                // As lm-evaluation-harness does: the continuation's tokens are those of context +
                // continuation after the context's, so a merge across the boundary is scored as the model sees it.
                let conts = item.choices.map { c -> [Int] in
                    let whole = tok.encode(ctx + continuation(c), addSpecial: false)
                    return whole.starts(with: ctxIds) ? Array(whole[ctxIds.count...]) : tok.encode(continuation(c), addSpecial: false)
                }
                let lp = try logLikelihoods(model, context: ctxIds, continuations: conts)
                scores.append(ChoiceScore(item: item, logprobs: lp, bytes: item.choices.map { continuation($0).utf8.count }))
                onItem?(n + 1)
            }
        }
        return Result(scores: scores,
                      acc: MeanScore(scores.map { $0.predicted == $0.item.answer ? 1 : 0 }),
                      accNorm: MeanScore(scores.map { $0.predictedNorm == $0.item.answer ? 1 : 0 }))
    }

    /// log P(continuation | context) summed over the continuation's tokens, for each continuation.
    /// The context runs through the model once; each continuation then runs on its KV cache,
    /// cut back to the context before the next.
    public static func logLikelihoods(_ model: LanguageModel, context: [Int], continuations: [[Int]]) throws -> [Double] {
        guard !context.isEmpty else { throw ModelError("the context is empty") }
        let cache = KVCache()
        let ctxLogits = try model.forward(Tensor(context.map(Float.init), shape: [1, context.count]), cache: cache, lastOnly: true)
        let first = try ctxLogits.reshape([model.config.vocab]).logSoftmax().scalars
        var out: [Double] = []
        for cont in continuations {
            guard !cont.isEmpty else { out.append(0); continue }
            guard context.count + cont.count <= model.config.context else {
                throw ModelError("context and choice are \(context.count + cont.count) tokens, beyond the model's \(model.config.context)")
            }
            cache.truncate(to: context.count)
            var total = Double(first[cont[0]])
            if cont.count > 1 {
                let logits = try model.forward(Tensor(cont.dropLast().map(Float.init), shape: [1, cont.count - 1]), cache: cache)
                let lp = try logits.reshape([cont.count - 1, model.config.vocab]).logSoftmax()
                let v = model.config.vocab
                let p = lp.scalars
                for i in 1..<cont.count { total += Double(p[(i - 1) * v + cont[i]]) }
            }
            out.append(total)
        }
        return out
    }
}
