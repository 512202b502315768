import FinchData
import FinchLang
import FinchTensor
import FinchText
import Foundation

/// A tokenised dataset and the tokenizer that made it (for previews).
final class TokenizedBox {
    let data: TokenizedDataset
    let tokenizer: Tokenizer
    init(_ data: TokenizedDataset, _ tokenizer: Tokenizer) {
        self.data = data
        self.tokenizer = tokenizer
    }
}

/// TokenizedDataset in the language: ids and labels per example, previews, batches, packing.
enum TokenizedBindings {
    static let type: NativeType = {
        let t = NativeType(name: "TokenizedDataset", doc: "Examples as token ids with labels (−100 where no loss is taken). Make one with ds.tokenize(tok).")
        define(t)
        return t
    }()

    static func wrap(_ b: TokenizedBox) -> Value { .object(NativeObject(type: type, value: b)) }

    static func register(in r: Registry) { r.register(type) }

    static func ints(_ xs: [Int]) -> Value { .list(xs.map { .number(Double($0)) }) }

    /// The color argument of a preview: as given, else on when standard output is a terminal (and NO_COLOR is unset).
    static func color(_ v: Value) -> Bool {
        if case .bool(let b) = v { return b }
        return isatty(1) != 0 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
    }

    private static func define(_ t: NativeType) {
        func method(_ name: String, _ params: [Param], returns: String, _ doc: String, _ example: String,
                    _ body: @escaping (TokenizedBox, Arguments) throws -> Value) {
            t.method(name, on: TokenizedBox.self, params, returns: returns, doc, example, body)
        }
        method("preview", [Param("i", .int, default: .number(0)),
                           Param("color", .optional(.bool), default: .nil, doc: "colour the trained tokens (default: when printing to a terminal)")],
               returns: "string", "Example i's tokens with the ones the model learns from marked: [in brackets], or green in a terminal.",
               "print(data.preview(0))") { box, a in
            .string(box.data.examples[try a.position("i", count: box.data.count, what: "example")].preview(box.tokenizer, color: color(a["color"])))
        }
        method("batch", [Param("start", .int, default: .number(0)), Param("size", .int, default: .number(8)),
                         Param("padding_side", .string, default: .string("right")),
                         Param("pad_id", .optional(.int), default: .nil, doc: "the id to pad with (default: the tokenizer's pad token, else its end-of-sequence token)")],
               returns: "dict", "{input_ids, labels, attention_mask}: tensors [size, longest] of examples start ..< start + size, padded (labels −100 and mask 0 on padding).",
               "b = data.batch(0, 4)") { box, a in
            guard let side = SequenceSide(rawValue: a.string("padding_side")) else { throw a.error("padding_side must be \"left\" or \"right\"") }
            let start = max(0, a.int("start")), end = min(box.data.count, start + max(0, a.int("size")))
            guard start < end else { throw a.error("no examples from \(a.int("start")) (there are \(box.data.count))") }
            if let p = a.optionalInt("pad_id"), p < 0 || p >= box.tokenizer.vocabSize { throw a.error("pad_id \(p) is not a token id (0..<\(box.tokenizer.vocabSize))") }
            let b = box.data.batch(start..<end, side: side, padId: a.optionalInt("pad_id"))
            func tensor(_ rows: [[Int]]) throws -> Value {
                TensorBindings.wrap(try Tensor(rows.flatMap { $0.map(Float.init) }, shape: [rows.count, rows.first?.count ?? 0]))
            }
            return .dict(try DictRef([(.string("input_ids"), try tensor(b.ids)), (.string("labels"), try tensor(b.labels)),
                                      (.string("attention_mask"), try tensor(b.mask))]))
        }
        method("pack", [Param("length", .int, doc: "tokens per packed sequence")], returns: "TokenizedDataset",
               "The examples end to end (each ends with EOS), cut into sequences of exactly `length`; packed examples can attend to one another.",
               "packed = data.pack(256)") { box, a in
            let (packed, dropped) = try box.data.packed(length: a.int("length"))
            if dropped > 0 { a.interpreter.output("pack: the last \(dropped) tokens did not fill a sequence of \(a.int("length")) and were left out\n") }
            return wrap(TokenizedBox(packed, box.tokenizer))
        }
        t.property("truncated", doc: "How many examples max_length cut.") { o in
            .number(Double((o.value as! TokenizedBox).data.examples.filter(\.truncated).count))
        }
        t.property("pad_id", doc: "The id used for padding.") { o in .number(Double((o.value as! TokenizedBox).data.padId)) }
        t.length = { ($0.value as! TokenizedBox).data.count }
        t.getIndex = { o, idx in
            let box = o.value as! TokenizedBox
            guard idx.count == 1, case .index(let n) = idx[0] else {
                throw FinchError(.runtime, "index a tokenized dataset with an example number")
            }
            let k = try Checked.position(n, count: box.data.count, what: "example")
            let e = box.data.examples[k]
            return .dict(try DictRef([(.string("input_ids"), ints(e.ids)), (.string("labels"), ints(e.labels))]))
        }
        t.describe = { o in
            let d = (o.value as! TokenizedBox).data
            let tokens = d.examples.reduce(0) { $0 + $1.ids.count }
            let trained = d.examples.reduce(0) { $0 + $1.labels.filter { $0 != TokenizedDataset.ignore }.count }
            return "<TokenizedDataset \((d.source as NSString).lastPathComponent): \(d.count) examples, \(tokens) tokens, \(trained) trained>"
        }
    }
}
