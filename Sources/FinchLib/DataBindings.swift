import FinchData
import FinchLang
import FinchTensor
import FinchText
import Foundation

/// Datasets in the language: load_dataset, dataset, and the Dataset type.
enum DataBindings {
    static let type: NativeType = {
        let t = NativeType(name: "Dataset", doc: "Rows with named columns: question/answer, instruction, input/output, chat or text examples. ds[i] is a row (a dict), ds[a:b] a dataset, ds[\"name\"] a column.")
        define(t)
        return t
    }()

    static func wrap(_ d: DatasetBox) -> Value { .object(NativeObject(type: type, value: d)) }
    static func wrap(_ d: Dataset) -> Value { wrap(DatasetBox(d)) }

    static func register(in r: Registry) {
        r.section("Data")
        r.register(NativeFunction("load_dataset", [
            Param("path", .string, doc: "a .jsonl, .json, .csv or text file"),
            Param("format", .optional(.string), default: .nil, doc: "\"jsonl\", \"json\", \"csv\" or \"text\" (default: from the file name)"),
            Param("on_error", .string, default: .string("raise"), doc: "\"raise\" stops at a line that cannot be read; \"skip\" skips it, counts it and says so"),
            Param("whole", .bool, default: .bool(false), doc: "text only: the whole file as one example instead of one per line"),
        ], returns: "Dataset", doc: "Reads a dataset. A malformed line is an error naming file:line:column with the text; blank lines hold no example.",
           example: "ds = load_dataset(\"Notebooks/data/finch_docs.jsonl\")") { a in
            let formatName: String? = { if case .string(let s) = a["format"] { return s }; return nil }()
            let format = try formatName.map { name -> DataFormat in
                guard let f = DataFormat(rawValue: name.lowercased()) else {
                    throw a.error("format must be one of \(DataFormat.allCases.map(\.rawValue).joined(separator: ", ")), got \(Value.quote(name))")
                }
                return f
            }
            guard let onError = OnError(rawValue: a.string("on_error")) else { throw a.error("on_error must be \"raise\" or \"skip\", got \(Value.quote(a.string("on_error")))") }
            let ds = try Dataset.load(a.string("path"), format: format, onError: onError, wholeText: a.bool("whole"))
            if ds.skipped > 0 {
                let lines = ds.skippedLines.map(String.init).joined(separator: ", ") + (ds.skipped > ds.skippedLines.count ? ", ..." : "")
                a.interpreter.output("load_dataset: skipped \(ds.skipped) line\(ds.skipped == 1 ? "" : "s") that could not be read (line \(lines))\n")
            }
            return wrap(ds)
        })
        r.register(NativeFunction("dataset", [Param("rows", .list, doc: "dicts, one per example")], returns: "Dataset",
                                  doc: "A dataset made from a list of dicts.",
                                  example: "ds = dataset([{question: \"What is Finch?\", answer: \"A finetuning lab.\"}])") { a in
            wrap(Dataset(rows: try a.list("rows").enumerated().map { k, v in try row(v, "row \(k)") }, source: "dataset"))
        })
        r.register(type)
        TokenizedBindings.register(in: r)
    }

    // MARK: Conversions

    static func value(_ v: DataValue) -> Value {
        switch v {
        case .null: return .nil
        case .bool(let b): return .bool(b)
        case .number(let n): return .number(n)
        case .string(let s): return .string(s)
        case .array(let items): return .list(items.map(value))
        case .object(let fields): return .dict(try! DictRef(fields.map { (.string($0.name), value($0.value)) }))
        }
    }

    static func dataValue(_ v: Value, _ what: String) throws -> DataValue {
        switch v {
        case .nil: return .null
        case .bool(let b): return .bool(b)
        case .number(let n): return .number(n)
        case .string(let s): return .string(s)
        case .list(let l): return .array(try l.items.map { try dataValue($0, what) })
        case .dict(let d): return .object(try fields(d, what))
        default: throw FinchError(.runtime, "\(what): a dataset holds nil, booleans, numbers, strings, lists and dicts, not \(article(v.typeName))")
        }
    }

    static func fields(_ d: DictRef, _ what: String) throws -> [DataValue.Field] {
        try zip(d.keys, d.values).map { k, v in
            guard case .string(let name) = k else { throw FinchError(.runtime, "\(what): field names must be strings, got \(k.repr)") }
            return .init(name, try dataValue(v, what))
        }
    }

    static func row(_ v: Value, _ what: String) throws -> Row {
        guard case .dict(let d) = v else { throw FinchError(.runtime, "\(what) must be a dict, got \(article(v.typeName))") }
        return try fields(d, what)
    }

    static func strings(_ a: Arguments, _ name: String) throws -> [String] {
        try a.list(name).map { v in
            guard case .string(let s) = v else { throw a.error("\(name) must be strings, got \(article(v.typeName))") }
            return s
        }
    }

    static let templateParam = Param("template", .optional(.oneOf([.string, .list])), default: .nil,
                                     doc: "a prompt format string, or [prompt, completion]; default: the one for the data's kind")

    /// The `template` argument: a prompt string, [prompt, completion], or the kind's default, which
    /// for chat rows is the tokenizer's own chat template (an error when it has none or it is not understood).
    static func template(_ a: Arguments, _ ds: Dataset, tokenizer: Tokenizer?) throws -> PromptTemplate {
        switch a["template"] {
        case .string(let p): return .format(prompt: p, completion: "")
        case .list(let l):
            guard l.items.count == 2, case .string(let p) = l.items[0], case .string(let c) = l.items[1] else {
                throw a.error("a template list must be [prompt, completion] strings")
            }
            return .format(prompt: p, completion: c)
        default:
            let chat = ds.kind == .chat ? try tokenizer?.compiledChatTemplate() : nil
            guard let t = PromptTemplate.standard(for: ds.kind, chat: chat) else {
                throw a.error("no template for \(ds.kind.rawValue) data (columns: \(ds.columns.joined(separator: ", "))); pass template:")
            }
            return t
        }
    }

    static func stats(_ s: LengthStats) -> Value {
        .dict(try! DictRef([(.string("min"), .number(Double(s.min))), (.string("median"), .number(s.median)), (.string("mean"), .number(s.mean)),
                            (.string("p95"), .number(s.p95)), (.string("max"), .number(Double(s.max)))]))
    }

    // MARK: The type

    private static func define(_ t: NativeType) {
        func method(_ name: String, _ params: [Param], returns: String, _ doc: String, _ example: String,
                    _ body: @escaping (Dataset, Arguments) throws -> Value) {
            t.method(name, on: DatasetBox.self, params, returns: returns, doc, example) { box, a in try body(box.dataset, a) }
        }
        method("map", [Param("f", .function, doc: "takes a row (a dict), returns a dict")], returns: "Dataset",
               "A dataset of f(row) for every row.", "ds.map(fn(r) { {question: r.question, answer: r.answer.upper()} })") { ds, a in
            var out: [Row] = []
            out.reserveCapacity(ds.count)
            for (k, r) in ds.rows.enumerated() {
                if k % 1024 == 0 { try Interrupt.check() }
                out.append(try row(try a.interpreter.call(a["f"], [value(.object(r))]), "map's result for row \(k)"))
            }
            return wrap(ds.derived(out))
        }
        method("filter", [Param("f", .function, doc: "takes a row (a dict), returns true to keep it")], returns: "Dataset",
               "The rows for which f(row) is true.", "ds.filter(fn(r) { len(r.answer) < 200 })") { ds, a in
            var out: [Row] = []
            for (k, r) in ds.rows.enumerated() {
                if k % 1024 == 0 { try Interrupt.check() }
                if try a.interpreter.call(a["f"], [value(.object(r))]).isTruthy { out.append(r) }
            }
            return wrap(ds.derived(out))
        }
        method("shuffle", [Param("seed", .int, default: .number(0))], returns: "Dataset",
               "The rows in an order that depends only on the seed.", "ds.shuffle(seed: 42)") { ds, a in
            wrap(ds.shuffled(seed: UInt64(truncatingIfNeeded: a.int("seed"))))
        }
        method("split", [Param("test", .number, default: .number(0.1), doc: "the fraction that goes to the test set"),
                         Param("seed", .int, default: .number(123))], returns: "dict",
               "{train, test}: the rows shuffled with the seed (Fisher–Yates over SplitMix64), the last round(test × len) of them the test set. Same data and seed, same split.",
               "parts = ds.split(test: 0.1, seed: 123)") { ds, a in
            let (train, test) = try ds.split(test: a.number("test"), seed: UInt64(truncatingIfNeeded: a.int("seed")))
            return .dict(try DictRef([(.string("train"), wrap(train)), (.string("test"), wrap(test))]))
        }
        method("take", [Param("n", .int)], returns: "Dataset", "The first n rows.", "ds.take(5)") { ds, a in wrap(ds.take(a.int("n"))) }
        method("skip", [Param("n", .int)], returns: "Dataset", "All but the first n rows.", "ds.skip(5)") { ds, a in wrap(ds.skip(a.int("n"))) }
        method("concat", [Param("other", .object("Dataset"))], returns: "Dataset", "This dataset's rows, then the other's.",
               "ds.concat(more)") { ds, a in wrap(ds.concat(a.object("other", as: DatasetBox.self)!.dataset)) }
        method("select", [Param("columns", .list)], returns: "Dataset", "Only these columns, in this order.",
               "ds.select([\"question\", \"answer\"])") { ds, a in wrap(try ds.select(try strings(a, "columns"))) }
        method("rename", [Param("mapping", .dict, doc: "old name: new name")], returns: "Dataset", "Columns renamed.",
               "ds.rename({prompt: \"question\", response: \"answer\"})") { ds, a in
            guard case .dict(let d) = a["mapping"] else { return .nil }
            var mapping: [String: String] = [:]
            for (k, v) in zip(d.keys, d.values) {
                guard case .string(let old) = k, case .string(let new) = v else { throw a.error("rename needs string names, got \(k.repr): \(v.repr)") }
                mapping[old] = new
            }
            return wrap(try ds.renamed(mapping))
        }
        method("dedupe", [Param("by", .optional(.list), default: .nil, doc: "columns to compare (default: whole rows)")], returns: "Dataset",
               "The rows without repeats; the first of equal rows stays.", "ds.dedupe(by: [\"question\"])") { ds, a in
            if case .nil = a["by"] { return wrap(ds.deduplicated()) }
            return wrap(ds.deduplicated(by: try strings(a, "by")))
        }
        method("to_jsonl", [Param("path", .string)], returns: "nil", "Writes one JSON object per line (atomically).",
               "ds.to_jsonl(\"train.jsonl\")") { ds, a in
            try ds.writeJSONL(a.string("path"))
            return .nil
        }
        method("to_list", [], returns: "list", "The rows as a list of dicts.", "ds.take(2).to_list()") { ds, _ in
            .list(ds.rows.map { value(.object($0)) })
        }
        method("format", [Param("i", .int, doc: "row number"), templateParam],
               returns: "dict", "{prompt, completion} for a row, through the template ({field} is the row's field; {{ and }} are braces).",
               "ds.format(0)") { ds, a in
            let i = try a.position("i", count: ds.count, what: "row")
            let (p, c) = try template(a, ds, tokenizer: nil).render(ds.rows[i], index: i, source: ds.source)
            return .dict(try DictRef([(.string("prompt"), .string(p)), (.string("completion"), .string(c))]))
        }
        method("tokenize", [Param("tokenizer", .object("Tokenizer")), templateParam,
                            Param("max_length", .optional(.int), default: .nil, doc: "cut longer examples"),
                            Param("truncation_side", .string, default: .string("right"), doc: "\"right\" or \"left\": which end is cut"),
                            Param("mask_prompt", .bool, default: .bool(true), doc: "take no loss on the prompt's tokens (only the answer trains)"),
                            Param("add_eos", .bool, default: .bool(true), doc: "end every example with the end-of-sequence token")],
               returns: "TokenizedDataset", "Each row's prompt and completion as token ids with labels (−100 where no loss is taken), EOS appended.",
               "data = ds.tokenize(tokenizer(\"smollm2-135m\"), max_length: 256)") { ds, a in
            let tok = a.object("tokenizer", as: Tokenizer.self)!
            guard let side = SequenceSide(rawValue: a.string("truncation_side")) else { throw a.error("truncation_side must be \"left\" or \"right\"") }
            let t = try ds.tokenized(tok, template: try template(a, ds, tokenizer: tok), maxLength: a.optionalInt("max_length"),
                                     truncation: side, maskPrompt: a.bool("mask_prompt"), addEOS: a.bool("add_eos"))
            return TokenizedBindings.wrap(TokenizedBox(t, tok))
        }
        method("preview", [Param("i", .int), Param("tokenizer", .object("Tokenizer")), templateParam,
                           Param("color", .optional(.bool), default: .nil, doc: "colour the trained tokens (default: when printing to a terminal)")],
               returns: "string", "Row i tokenised as training sees it, the tokens the model learns from marked: [in brackets], or green in a terminal.",
               "print(ds.preview(0, tokenizer(\"smollm2-135m\")))") { ds, a in
            let i = try a.position("i", count: ds.count, what: "row")
            let tok = a.object("tokenizer", as: Tokenizer.self)!
            let one = try ds.slice(i, i + 1).tokenized(tok, template: try template(a, ds, tokenizer: tok))
            return .string(one.examples[0].preview(tok, color: TokenizedBindings.color(a["color"])))
        }
        method("stats", [Param("tokenizer", .optional(.object("Tokenizer")), default: .nil), templateParam,
                         Param("max_length", .optional(.int), default: .nil, doc: "count the examples longer than this")],
               returns: "dict", "Lengths of the formatted examples in characters and (with a tokenizer) tokens: min, median, mean, p95, max; and how many max_length would cut.",
               "ds.stats(tokenizer(\"smollm2-135m\"), max_length: 256)") { ds, a in
            let tok = a.object("tokenizer", as: Tokenizer.self)
            let tpl = try template(a, ds, tokenizer: tok)
            var pairs: [(Value, Value)] = [(.string("rows"), .number(Double(ds.count))),
                                           (.string("chars"), stats(LengthStats(try ds.characterLengths(template: tpl))))]
            if let tok {
                let lengths = try ds.tokenized(tok, template: tpl).examples.map(\.ids.count)
                pairs.append((.string("tokens"), stats(LengthStats(lengths))))
                if let m = a.optionalInt("max_length") { pairs.append((.string("truncated"), .number(Double(lengths.filter { $0 > m }.count)))) }
            }
            return .dict(try DictRef(pairs))
        }
        method("histogram", [Param("tokenizer", .optional(.object("Tokenizer")), default: .nil), Param("bins", .int, default: .number(20)), templateParam],
               returns: "dict", "{edges, counts}: how many formatted examples have each length, in tokens with a tokenizer, else characters (for plotting).",
               "ds.histogram(tokenizer(\"smollm2-135m\"), bins: 10)") { ds, a in
            let bins = try PlotBindings.bins(a)
            let tok = a.object("tokenizer", as: Tokenizer.self)
            let tpl = try template(a, ds, tokenizer: tok)
            let lengths = try tok.map { try ds.tokenized($0, template: tpl).examples.map(\.ids.count) } ?? ds.characterLengths(template: tpl)
            let h = LengthStats.histogram(lengths, bins: bins)
            return .dict(try DictRef([(.string("edges"), .list(h.edges.map { .number($0) })), (.string("counts"), .list(h.counts.map { .number(Double($0)) }))]))
        }
        t.property("kind", doc: "question_answer, instruction, input_output, chat, text or unknown, from the columns.") { o in
            .string((o.value as! DatasetBox).dataset.kind.rawValue)
        }
        t.property("columns", doc: "The column names.") { o in .list((o.value as! DatasetBox).dataset.columns.map { .string($0) }) }
        t.property("skipped", doc: "Lines skipped while loading with on_error: \"skip\".") { o in .number(Double((o.value as! DatasetBox).dataset.skipped)) }
        t.length = { ($0.value as! DatasetBox).dataset.count }
        t.getIndex = { o, idx in
            let ds = (o.value as! DatasetBox).dataset
            guard idx.count == 1 else { throw FinchError(.runtime, "index a dataset with one row number, slice or column name") }
            switch idx[0] {
            case .slice(let start, let end, let step):
                guard step == nil || step == 1 else { throw FinchError(.runtime, "a dataset slice takes no step") }
                func at(_ v: Int?, _ d: Int) -> Int { guard let v else { return d }; return v < 0 ? v + ds.count : v }
                return wrap(ds.slice(at(start, 0), at(end, ds.count)))
            case .index(.string(let name)):
                return .list(try ds.column(name).map(value))
            case .index(.number(let n)):
                return value(.object(ds.rows[try Checked.position(.number(n), count: ds.count, what: "row")]))
            case .index(let v): throw FinchError(.runtime, "index a dataset with a row number, a slice or a column name, not \(article(v.typeName))")
            }
        }
        t.describe = { o in
            let ds = (o.value as! DatasetBox).dataset
            let name = (ds.source as NSString).lastPathComponent
            return "<Dataset \(name): \(ds.count) rows, \(ds.kind.rawValue), columns \(ds.columns.joined(separator: ", "))>"
        }
    }
}

/// A dataset as a language object (datasets are values; the box gives them an identity).
final class DatasetBox {
    let dataset: Dataset
    init(_ d: Dataset) { dataset = d }
}
