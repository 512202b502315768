import FinchData
import FinchDist
import FinchModel
import FinchTensor
import Foundation

/// One multiple-choice question, whatever benchmark's format it came in: the context the model
/// reads and one continuation per choice, whose log-probabilities are compared.
public struct ChoiceItem: Sendable {
    /// The question as a person reads it (tables, messages).
    public var question: String
    public var context: String
    /// The choices as shown; `continuations` are what is scored after the context.
    public var choices: [String]
    public var continuations: [String]
    public var labels: [String]
    /// Index of the right choice.
    public var answer: Int
    /// Where it came from ("file.jsonl:12"), for messages.
    public var origin: String

    public init(question: String, context: String, choices: [String], continuations: [String], labels: [String], answer: Int, origin: String) {
        self.question = question
        self.context = context
        self.choices = choices
        self.continuations = continuations
        self.labels = labels
        self.answer = answer
        self.origin = origin
    }

    /// An item in ARC's format: context `Question: {question}\nAnswer:`, continuations ` {choice}`.
    public init(question: String, choices: [String], labels: [String], answer: Int, origin: String) {
        self.init(question: question, context: "Question: \(question)\nAnswer:", choices: choices,
                  continuations: choices.map { " " + $0 }, labels: labels, answer: answer, origin: origin)
    }

    /// Reads an item from a row in `format` (found from the row's fields when nil), or says what is wrong with it.
    public static func from(_ row: Row, format: ChoiceFormat? = nil, origin: String) throws -> ChoiceItem {
        guard let f = format ?? ChoiceFormat.detect(row) else {
            throw DataError("\(origin): not a multiple-choice row in a known format (ARC: question, choices {text, label}, answerKey; HellaSwag: ctx, endings, label; MMLU: question, choices list, answer; TruthfulQA: question, mc1_targets)")
        }
        return try f.item(row, origin: origin)
    }

    /// The items of a JSONL file. A bad row is an error naming its line, or with `skipBad`
    /// left out and counted in `skipped`. Without a `format`, the first row's fields choose it.
    public static func load(_ path: String, format: ChoiceFormat? = nil, skipBad: Bool = false) throws -> (items: [ChoiceItem], skipped: [String], format: ChoiceFormat) {
        let data = try Dataset.load(path, format: .jsonl, onError: skipBad ? .skip : .raise)
        let origins = data.rows.indices.map { "\(path):\(data.lines[$0])" }
        var (items, skipped, f) = try from(data.rows, origins: origins, format: format, skipBad: skipBad)
        skipped.insert(contentsOf: data.skippedLines.map { "\(path):\($0): not a JSON object" }, at: 0)
        return (items, skipped, f)
    }

    /// Items from rows, each named by its origin; the format is the first row's when not given.
    public static func from(_ rows: [Row], origins: [String], format: ChoiceFormat? = nil, skipBad: Bool = false) throws -> (items: [ChoiceItem], skipped: [String], format: ChoiceFormat) {
        var items: [ChoiceItem] = [], skipped: [String] = []
        var f = format
        for (row, origin) in zip(rows, origins) {
            do {
                if f == nil {
                    guard let found = ChoiceFormat.detect(row) else { _ = try from(row, origin: origin); continue }
                    f = found
                }
                items.append(try from(row, format: f, origin: origin))
            } catch let e as DataError where skipBad {
                skipped.append(e.description)
            }
        }
        return (items, skipped, f ?? .arc)
    }
}

/// The scores of one item: each choice's summed log-probability and its length for acc_norm.
public struct ChoiceScore: Sendable {
    public let item: ChoiceItem
    public let logprobs: [Double]
    /// Each scored continuation's length as lm-evaluation-harness counts it for acc_norm: the
    /// characters (code points, Python's len) without the space that joins it to the context.
    public let lengths: [Int]
    /// The choice with the highest log-probability (acc).
    public var predicted: Int { logprobs.indices.max { logprobs[$0] < logprobs[$1] }! }
    /// The choice with the highest log-probability per character (acc_norm).
    public var predictedNorm: Int { logprobs.indices.max { logprobs[$0] / Double(max(1, lengths[$0])) < logprobs[$1] / Double(max(1, lengths[$1])) }! }

    public init(item: ChoiceItem, logprobs: [Double]) {
        self.item = item
        self.logprobs = logprobs
        lengths = item.continuations.map { ($0.hasPrefix(" ") ? $0.dropFirst() : Substring($0)).unicodeScalars.count }
    }
}

/// Multiple choice scored by log-likelihood, the way lm-evaluation-harness scores its benchmarks:
/// each item's context (ARC's `Question: {question}\nAnswer:`, or its format's), each choice's
/// continuation after it; acc takes the choice of highest summed log-probability, acc_norm
/// divides it by the choice's length in characters, as the harness's code does.
public enum MultipleChoice {
    public struct Result: Sendable {
        public let scores: [ChoiceScore]
        public let acc: MeanScore
        public let accNorm: MeanScore
    }

    /// Scores every item; `onItem` hears each as it is done (for progress). With several ranks
    /// each scores a block of the items and every rank gets all the scores.
    public static func score(_ model: LanguageModel, _ items: [ChoiceItem], world: World = .current, onItem: ((Int) -> Void)? = nil) throws -> Result {
        guard let tok = model.tokenizer else { throw ModelError("the model has no tokenizer to score text with") }
        var scores: [ChoiceScore] = []
        try GradMode.noGrad {
            for (n, item) in items[world.share(of: items.count)].enumerated() {
                let ctxIds = tok.encode(item.context, addSpecial: false)
                // As lm-evaluation-harness does: the continuation's tokens are those of context +
                // continuation after the context's, so a merge across the boundary is scored as the model sees it.
                let conts = item.continuations.map { c -> [Int] in
                    let whole = tok.encode(item.context + c, addSpecial: false)
                    return whole.starts(with: ctxIds) ? Array(whole[ctxIds.count...]) : tok.encode(c, addSpecial: false)
                }
                let lp: [Double]
                do { lp = try logLikelihoods(model, context: ctxIds, continuations: conts) } catch let e as ModelError {
                    throw ModelError("\(item.origin): \(e.description)")
                }
                scores.append(ChoiceScore(item: item, logprobs: lp))
                onItem?(n + 1)
            }
        }
        if world.isDistributed {
            let logprobs = try world.gather(scores.map(\.logprobs)).flatMap { $0 }
            scores = zip(items, logprobs).map { ChoiceScore(item: $0, logprobs: $1) }
        }
        return Result(scores: scores,
                      acc: MeanScore(scores.map { $0.predicted == $0.item.answer ? 1 : 0 }),
                      accNorm: MeanScore(scores.map { $0.predictedNorm == $0.item.answer ? 1 : 0 }))
    }

    /// Most positions one batched pass over continuations holds (its logits are this × vocabulary floats).
    static let batchPositions = 1024

    /// log P(continuation | context) summed over the continuation's tokens, for each continuation.
    /// The context runs through the model once; its last logits score every continuation's first
    /// token, and the rest run together as one right-padded batch on copies of the context's KV
    /// cache (causal attention keeps the padding out of the positions that count).
    public static func logLikelihoods(_ model: LanguageModel, context: [Int], continuations: [[Int]]) throws -> [Double] {
        guard !context.isEmpty else { throw ModelError("the context is empty") }
        let v = model.config.vocab
        for cont in continuations where context.count + cont.count > model.config.context {
            throw ModelError("context and choice are \(context.count + cont.count) tokens, beyond the model's \(model.config.context)")
        }
        let cache = KVCache()
        let ctxLogits = try model.forward(Tensor(context.map(Float.init), shape: [1, context.count]), cache: cache, lastOnly: true)
        let first = try ctxLogits.reshape([v]).logSoftmax().scalars
        var out = continuations.map { $0.isEmpty ? 0 : Double(first[$0[0]]) }
        // The continuations longer than one token, in groups that fit one pass.
        var pending = continuations.indices.filter { continuations[$0].count > 1 }
        while !pending.isEmpty {
            var group: [Int] = [], width = 0
            for i in pending {
                let w = max(width, continuations[i].count - 1)
                if !group.isEmpty && w * (group.count + 1) > batchPositions { break }
                group.append(i); width = w
            }
            pending.removeFirst(group.count)
            var ids = [Float](repeating: 0, count: group.count * width)
            for (r, i) in group.enumerated() {
                for (t, id) in continuations[i].dropLast().enumerated() { ids[r * width + t] = Float(id) }
            }
            let batchCache = try cache.repeated(batch: group.count, room: width)
            let logits = try model.forward(Tensor(ids, shape: [group.count, width]), cache: batchCache)
            let lp = try logits.reshape([group.count * width, v]).logSoftmax().scalars
            for (r, i) in group.enumerated() {
                let cont = continuations[i]
                for t in 1..<cont.count { out[i] += Double(lp[(r * width + t - 1) * v + cont[t]]) }
            }
        }
        return out
    }
}
