import FinchData
import FinchLang
import FinchModel
import FinchTrain
import Foundation

/// Predictions sorted into kinds of failure: the table with a category column, and the counts.
final class CategoriesBox {
    let table: Table
    let order: [String]
    let shown: Int
    init(table: Table, order: [String], shown: Int) {
        self.table = table
        self.order = order
        self.shown = shown
    }

    var categoryColumn: Int { table.columns.count - 1 }
    func rows(_ name: String) -> [[Value]] { table.rows.filter { if case .string(name) = $0[categoryColumn] { return true }; return false } }
    var counts: [(String, Int)] { order.map { ($0, rows($0).count) }.filter { $0.1 > 0 } }

    /// Counts, then up to `shown` examples of each category.
    var rendered: String {
        var out = counts.map { "\($0.0): \($0.1)" }.joined(separator: ", ") + " (\(table.rows.count) predictions)"
        for (name, _) in counts where name != ErrorRule.correct.rawValue {
            let some = Array(rows(name).prefix(shown))
            out += "\n\n\(name):\n" + Table(columns: table.columns, rows: some).rendered
        }
        return out
    }
}

/// compare() (two models' answers side by side), categorize() (error analysis) and elo() (ratings
/// from pairwise judgements).
enum AnalysisBindings {
    static let categoriesType: NativeType = {
        let t = NativeType(name: "Categories", doc: "The result of categorize(): every prediction with its category, and counts per category.")
        func box(_ o: NativeObject) -> CategoriesBox { o.value as! CategoriesBox }
        t.property("counts", doc: "{category: count} for the categories that occur, in the rules' order; bars(c.counts) plots them.") { o in
            .dict(try DictRef(box(o).counts.map { (.string($0.0), .number(Double($0.1))) }))
        }
        t.property("results", doc: "The predictions with a category column.") { o in TableBindings.wrap(box(o).table) }
        t.method("examples", on: CategoriesBox.self, [Param("category", .string)], returns: "Table", "The predictions of one category.",
                 "c.examples(\"repetitive\")") { c, a in
            guard c.order.contains(a.string("category")) else {
                throw a.error("no category \(Value.quote(a.string("category"))) (categories: \(c.order.joined(separator: ", ")))")
            }
            return TableBindings.wrap(Table(columns: c.table.columns, rows: c.rows(a.string("category"))))
        }
        t.describe = { box($0).rendered }
        return t
    }()

    static func register(in r: Registry) {
        r.section("Error analysis")
        r.register(categoriesType)
        r.register(NativeFunction("compare", [
            Param("model_a", .object("Model")),
            Param("model_b", .object("Model")),
            EvalBindings.answerDataParam,
            Param("names", .optional(.list), default: .nil, doc: "the two answer columns' names; default [\"model_a\", \"model_b\"]"),
            Param("max_tokens", .int, default: .number(64), doc: "new tokens per answer (greedy)"),
            DataBindings.templateParam,
        ], returns: "Table", doc: "Both models' greedy answers to every row's prompt beside the target: the course's table of question, model A's answer, model B's answer, target.",
        example: "compare(base, tuned, parts[\"test\"].take(5), names: [\"base\", \"finetuned\"])") { a in
            let ma = a.object("model_a", as: LanguageModel.self)!, mb = a.object("model_b", as: LanguageModel.self)!
            let ds = a.object("data", as: DatasetBox.self)!.dataset
            var names = ["model_a", "model_b"]
            if case .list(let l) = a["names"] {
                guard l.items.count == 2, case .string(let x) = l.items[0], case .string(let y) = l.items[1], x != y,
                      !["question", "target"].contains(x), !["question", "target"].contains(y) else {
                    throw a.error("names must be two different strings other than \"question\" and \"target\"")
                }
                names = [x, y]
            }
            guard a.int("max_tokens") > 0 else { throw a.error("max_tokens must be positive, got \(a.int("max_tokens"))") }
            guard ds.count > 0 else { throw a.error("the data set is empty") }
            let template = try DataBindings.template(a, ds, tokenizer: nil)
            var skipped: [String] = []
            let ea: [AnswerEvaluation.Example], eb: [AnswerEvaluation.Example]
            do {
                ea = try EvalBindings.answers(ma, ds, template: template, metric: .exactMatch, maxTokens: a.int("max_tokens"), skipBad: false, skipped: &skipped, a, label: names[0])
                eb = try EvalBindings.answers(mb, ds.take(ea.count), template: template, metric: .exactMatch, maxTokens: a.int("max_tokens"), skipBad: false, skipped: &skipped, a, label: names[1])
            } catch let e as DataError { throw a.error(e.description) }
            let rows: [[Value]] = zip(ea, eb).map { x, y in
                [.string(EvalBindings.question(ds, x)), .string(x.predicted), .string(y.predicted), .string(x.target.trimmingCharacters(in: .whitespacesAndNewlines))]
            }
            return TableBindings.wrap(Table(columns: ["question"] + names + ["target"], rows: rows))
        })
        r.register(NativeFunction("categorize", [
            Param("results", .oneOf([.object("Evaluation"), .object("Table"), .list]), doc: "evaluate()'s result, or a table or list of dicts with predicted and target (and correct)"),
            Param("rules", .optional(.dict), default: .nil, doc: "{name: function(row) -> bool}, tried in order before the built-in rules"),
            Param("examples", .int, default: .number(2), doc: "examples printed per category"),
        ], returns: "Categories", doc: "Tags every prediction with the first rule that holds: your rules, then empty, correct, moderated (a refusal or \"keep the discussion relevant\"), repetitive (a 3-word phrase three times, or under 40% distinct words), too_long (over three times the target's words), wrong. Prints counts and examples per category.",
        example: "c = categorize(ev, rules: {\"invents\": fn(r) { r[\"predicted\"].contains(\"plant\") }})") { a in
            let table: Table
            if let ev = a.object("results", as: EvaluationBox.self) { table = ev.table } else if let t = a.object("results", as: Table.self) { table = t } else {
                table = try rowsTable(a.list("results"), a)
            }
            guard let pc = table.columns.firstIndex(of: "predicted"), let tc = table.columns.firstIndex(of: "target") else {
                throw a.error("the results need predicted and target columns (they have: \(table.columns.joined(separator: ", ")))")
            }
            guard !table.columns.contains("category") else { throw a.error("the results already have a category column") }
            let correctColumn = table.columns.firstIndex(of: "correct") ?? table.columns.firstIndex(of: "f1")
            var custom: [(String, Value)] = []
            if case .dict(let d) = a["rules"] {
                for (k, v) in zip(d.keys, d.values) {
                    guard case .string(let name) = k else { throw a.error("rule names must be strings, got \(article(k.typeName))") }
                    switch v { case .function, .native: break; default: throw a.error("rule \(Value.quote(name)) must be a function of a row, got \(article(v.typeName))") }
                    custom.append((name, v))
                }
            }
            guard a.int("examples") >= 0 else { throw a.error("examples must not be negative, got \(a.int("examples"))") }
            var rows: [[Value]] = []
            for (i, row) in table.rows.enumerated() {
                var category: String? = nil
                for (name, f) in custom where category == nil {
                    if try a.interpreter.call(f, [try table.row(i)]).isTruthy { category = name }
                }
                if category == nil {
                    let correct: Bool
                    switch correctColumn.map({ row[$0] }) {
                    case .bool(let b)?: correct = b
                    case .number(let f)?: correct = f >= 0.5
                    default: correct = false
                    }
                    category = ErrorRule.classify(predicted: row[pc].description, target: row[tc].description, correct: correct).rawValue
                }
                rows.append(row + [.string(category!)])
            }
            let order = custom.map(\.0) + ErrorRule.allCases.map(\.rawValue).filter { n in !custom.contains { $0.0 == n } }
            let box = CategoriesBox(table: Table(columns: table.columns + ["category"], rows: rows), order: order, shown: a.int("examples"))
            return .object(NativeObject(type: categoriesType, value: box))
        })
        r.register(NativeFunction("elo", [
            Param("comparisons", .list, doc: "games: {a, b, winner} dicts (winner a's or b's name, \"a\", \"b\" or \"tie\") or [a, b, score] lists (1 a wins, 0 b wins, 0.5 tie)"),
            Param("k", .number, default: .number(32), doc: "the K-factor: how far one game moves a rating"),
            Param("initial", .number, default: .number(1000), doc: "every player's starting rating"),
        ], returns: "Table", doc: "Elo ratings from pairwise judgements of models (a person's or a rule's), updated game by game in order: the expected score of a is 1/(1+10^((Rb−Ra)/400)) and both ratings move by k × (result − expected).",
        example: "elo([{a: \"base\", b: \"tuned\", winner: \"tuned\"}, [\"base\", \"tuned\", 0.5]])") { a in
            guard a.number("k") > 0, a.number("k").isFinite else { throw a.error("k must be a finite positive number, got \(Value.format(a.number("k")))") }
            guard a.number("initial").isFinite else { throw a.error("initial must be a finite number, got \(Value.format(a.number("initial")))") }
            var ratings = EloRatings(k: a.number("k"), initial: a.number("initial"))
            let games = a.list("comparisons")
            guard !games.isEmpty else { throw a.error("there are no comparisons") }
            for (i, game) in games.enumerated() {
                let (x, y, score) = try eloGame(game, i, a)
                ratings.record(x, y, score: score)
            }
            let rows: [[Value]] = ratings.ranking.map { p in
                [.string(p.name), .number((p.rating * 10).rounded() / 10), .number(Double(p.games)), .number(Double(p.wins)), .number(Double(p.losses)), .number(Double(p.ties))]
            }
            return TableBindings.wrap(Table(columns: ["model", "rating", "games", "wins", "losses", "ties"], rows: rows))
        })
    }

    /// A table from a list of dicts; the columns are the keys in the order they first appear.
    static func rowsTable(_ items: [Value], _ a: Arguments) throws -> Table {
        var columns: [String] = [], dicts: [DictRef] = []
        for (i, item) in items.enumerated() {
            guard case .dict(let d) = item else { throw a.error("row \(i) must be a dict, got \(article(item.typeName))") }
            for k in d.keys { if case .string(let name) = k, !columns.contains(name) { columns.append(name) } }
            dicts.append(d)
        }
        return Table(columns: columns, rows: try dicts.map { d in try columns.map { try d.get(.string($0)) ?? .nil } })
    }

    /// One game of elo(): the two players and a's score.
    private static func eloGame(_ game: Value, _ i: Int, _ a: Arguments) throws -> (String, String, Double) {
        func bad(_ why: String) -> FinchError { a.error("comparison \(i): \(why)") }
        switch game {
        case .dict(let d):
            guard case .string(let x)? = try d.get(.string("a")), case .string(let y)? = try d.get(.string("b")) else {
                throw bad("needs a and b names (strings)")
            }
            guard x != y else { throw bad("a model cannot play itself (\(Value.quote(x)))") }
            guard case .string(let w)? = try d.get(.string("winner")) else { throw bad("needs a winner: a's or b's name, \"a\", \"b\" or \"tie\"") }
            switch w {
            case x, "a": return (x, y, 1)
            case y, "b": return (x, y, 0)
            case "tie", "draw": return (x, y, 0.5)
            default: throw bad("the winner \(Value.quote(w)) is neither \(Value.quote(x)) nor \(Value.quote(y)) (nor \"a\", \"b\", \"tie\")")
            }
        case .list(let l):
            guard l.items.count == 3, case .string(let x) = l.items[0], case .string(let y) = l.items[1], case .number(let s) = l.items[2] else {
                throw bad("a list must be [a, b, score]")
            }
            guard x != y else { throw bad("a model cannot play itself (\(Value.quote(x)))") }
            guard s == 0 || s == 0.5 || s == 1 else { throw bad("the score must be 1 (a wins), 0 (b wins) or 0.5 (a tie), got \(Value.format(s))") }
            return (x, y, s)
        default:
            throw bad("expected a {a, b, winner} dict or an [a, b, score] list, got \(article(game.typeName))")
        }
    }
}
