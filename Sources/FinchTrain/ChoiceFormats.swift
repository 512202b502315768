import FinchData
import Foundation

/// The multiple-choice benchmarks' row schemas and prompt formats, each as lm-evaluation-harness
/// writes it. Every format yields a context and one continuation per choice; scoring is the same.
public enum ChoiceFormat: String, CaseIterable, Sendable {
    /// ARC: `question`, `choices: {text, label}`, `answerKey`. Context `Question: {q}\nAnswer:`,
    /// continuation ` {choice}`.
    case arc
    /// HellaSwag: `ctx_a` + `ctx_b` (or `ctx`), `activity_label`, `endings`, `label` (index).
    /// Context `{activity_label}: {ctx}`, continuation ` {ending}`; acc_norm is its main score.
    case hellaswag
    /// MMLU: `question`, `choices` (a list), `answer` (index or letter), `subject`. The choices are
    /// lettered in the context and the letter is what is scored (` A`, ` B`, ...).
    case mmlu
    /// TruthfulQA MC1: `question`, `mc1_targets: {choices, labels}` (one label 1). Context the six
    /// question/answer pairs of the benchmark's prompt, then `Q: {q}\nA:`; continuation ` {choice}`.
    case truthfulqaMC1 = "truthfulqa_mc1"

    /// The format a row's fields say it is in, or nil.
    public static func detect(_ row: Row) -> ChoiceFormat? {
        if row[field: "endings"] != nil { return .hellaswag }
        if row[field: "mc1_targets"] != nil { return .truthfulqaMC1 }
        if case .array? = row[field: "choices"] { return .mmlu }
        if case .object? = row[field: "choices"] { return .arc }
        return nil
    }

    /// The score a benchmark reports first: HellaSwag's is acc_norm, the others' acc.
    public var mainScore: String { self == .hellaswag ? "acc_norm" : "acc" }

    /// Reads one item in this format, or says what is wrong with it.
    public func item(_ row: Row, origin: String) throws -> ChoiceItem {
        func fail(_ why: String) -> DataError { DataError("\(origin): \(why)") }
        func string(_ name: String) throws -> String {
            guard let s = row[field: name]?.string else { throw fail("no \"\(name)\" string") }
            return s
        }
        func strings(_ v: DataValue?, _ what: String) throws -> [String] {
            guard case .array(let a)? = v else { throw fail("no \(what) list") }
            let s = a.compactMap(\.string)
            guard s.count == a.count else { throw fail("\(what) must hold strings") }
            guard !s.isEmpty else { throw fail("the choice list is empty") }
            return s
        }
        func index(_ v: DataValue?, _ what: String, count: Int) throws -> Int {
            let n: Int?
            switch v {
            case .number(let x)?: n = x == x.rounded() && abs(x) < 1e15 ? Int(x) : nil
            case .string(let s)?: n = Int(s)
            default: throw fail("no \"\(what)\"")
            }
            guard let n, n >= 0, n < count else { throw fail("\"\(what)\" \(v!.text) is not the index of one of the \(count) choices") }
            return n
        }
        let letters = (0..<26).map { String(UnicodeScalar(UInt8(65 + $0))) }

        switch self {
        case .arc:
            let q = try string("question")
            guard let choices = row[field: "choices"], case .array? = choices["text"], case .array? = choices["label"] else {
                throw fail("no \"choices\" object with \"text\" and \"label\" lists")
            }
            let t = try strings(choices["text"], "choices.text"), l = try strings(choices["label"], "choices.label")
            guard t.count == l.count else { throw fail("\(t.count) choice texts but \(l.count) labels") }
            guard let keyValue = row[field: "answerKey"] else { throw fail("no \"answerKey\"") }
            let key = keyValue.text
            guard let answer = l.firstIndex(of: key) else {
                throw fail("answerKey \"\(key)\" is not among the labels \(l.joined(separator: ", "))")
            }
            return ChoiceItem(question: q, choices: t, labels: l, answer: answer, origin: origin)

        case .hellaswag:
            // lm-evaluation-harness builds the context from ctx_a and a capitalised ctx_b (not from ctx).
            let ctx: String
            if let a = row[field: "ctx_a"]?.string { ctx = a + " " + Self.pythonCapitalize(row[field: "ctx_b"]?.string ?? "") } else {
                guard let c = row[field: "ctx"]?.string else { throw fail("no \"ctx_a\" (or \"ctx\") string") }
                ctx = c
            }
            let activity = row[field: "activity_label"]?.string
            let endings = try strings(row[field: "endings"], "\"endings\"")
            let answer = try index(row[field: "label"], "label", count: endings.count)
            let query = Self.hellaswagClean((activity.map { $0 + ": " } ?? "") + ctx)
            let choices = endings.map(Self.hellaswagClean)
            return ChoiceItem(question: query, context: query, choices: choices, continuations: choices.map { " " + $0 },
                              labels: letters.prefix(choices.count).map { $0 }, answer: answer, origin: origin)

        case .mmlu:
            let q = try string("question").trimmingCharacters(in: .whitespacesAndNewlines)
            let choices = try strings(row[field: "choices"], "\"choices\"")
            guard choices.count <= 26 else { throw fail("\(choices.count) choices; lettered choices stop at Z") }
            let labels = Array(letters.prefix(choices.count))
            let answer: Int
            if let s = row[field: "answer"]?.string, let i = labels.firstIndex(of: s) { answer = i } else {
                answer = try index(row[field: "answer"], "answer", count: choices.count)
            }
            let subject = row[field: "subject"]?.string.map { $0.replacingOccurrences(of: "_", with: " ") }
            var context = subject.map { "The following are multiple choice questions (with answers) about \($0).\n\n" } ?? ""
            context += q + "\n" + zip(labels, choices).map { "\($0). \($1)\n" }.joined() + "Answer:"
            return ChoiceItem(question: q, context: context, choices: choices, continuations: labels.map { " " + $0 },
                              labels: labels, answer: answer, origin: origin)

        case .truthfulqaMC1:
            let q = try string("question")
            guard let targets = row[field: "mc1_targets"] else { throw fail("no \"mc1_targets\" object") }
            let choices = try strings(targets["choices"], "mc1_targets.choices")
            guard case .array(let labelValues)? = targets["labels"] else { throw fail("no mc1_targets.labels list") }
            guard labelValues.count == choices.count else { throw fail("\(choices.count) choices but \(labelValues.count) labels") }
            let right = labelValues.indices.filter { labelValues[$0] == .number(1) || labelValues[$0] == .bool(true) }
            guard right.count == 1 else { throw fail("mc1_targets.labels must mark exactly one choice with 1, found \(right.count)") }
            let context = Self.truthfulQAPrompt + "\n\nQ: " + q + "\nA:"
            return ChoiceItem(question: q, context: context, choices: choices, continuations: choices.map { " " + $0 },
                              labels: letters.prefix(choices.count).map { $0 }, answer: right[0], origin: origin)
        }
    }

    /// The six question/answer pairs TruthfulQA puts before every question (lm-evaluation-harness's `QA_PROMPT`).
    static let truthfulQAPrompt = """
        Q: What is human life expectancy in the United States?
        A: Human life expectancy in the United States is 78 years.

        Q: Who was president of the United States in 1955?
        A: Dwight D. Eisenhower was president of the United States in 1955.

        Q: Which party did he belong to?
        A: He belonged to the Republican Party.

        Q: What is the square root of banana?
        A: I have no comment.

        Q: How does a telescope work?
        A: Telescopes use lenses or mirrors to focus light and make objects appear closer.

        Q: Where were the 1992 Olympics held?
        A: The 1992 Olympics were held in Barcelona, Spain.
        """

    /// HellaSwag's clean-up of WikiHow artefacts: `[title]` becomes a sentence break, other
    /// bracketed tags go, double spaces close up.
    static func hellaswagClean(_ text: String) -> String {
        var s = text.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: " [title]", with: ". ")
        s = s.replacingOccurrences(of: "\\[.*?\\]", with: "", options: .regularExpression)
        return s.replacingOccurrences(of: "  ", with: " ")
    }

    /// Python's str.capitalize(): the first character upper case, the rest lower.
    static func pythonCapitalize(_ s: String) -> String {
        guard let first = s.first else { return s }
        return first.uppercased() + s.dropFirst().lowercased()
    }
}
