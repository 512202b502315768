import FinchLang
import Foundation
import FinchModel
import FinchTensor
import FinchText

/// Tokenizers in the language: `tokenizer("smollm2-135m")` and the Tokenizer type.
enum TextBindings {
    static let type: NativeType = {
        let t = NativeType(name: "Tokenizer", doc: "A byte-level BPE tokenizer: text to token ids and back. Load one with tokenizer().")
        define(t)
        return t
    }()

    static func wrap(_ t: Tokenizer) -> Value { .object(NativeObject(type: type, value: t)) }

    static func register(in r: Registry) {
        r.section("Text")
        r.register(NativeFunction("tokenizer", [Param("model", .string, default: .string("smollm2-135m"),
                                                      doc: "\"smollm2-135m\" (downloaded on first use), a .gguf file, or a tokenizer.json")],
                                  returns: "Tokenizer", doc: "The tokenizer of a model, read from its GGUF file or a Hugging Face tokenizer.json.",
                                  example: "tok = tokenizer(\"smollm2-135m\")") { a in
            let name = a.string("model")
            if name.hasSuffix(".json") { return wrap(try Tokenizer(jsonFile: name)) }
            return wrap(try Tokenizer(gguf: GGUFFile(path: try ModelStore.resolve(name))))
        })
        r.register(NativeFunction("bpe_train", [Param("texts", .list, doc: "the training texts"),
                                                Param("vocab", .int, default: .number(2000), doc: "tokens in the result, special and byte tokens included"),
                                                Param("special", .optional(.list), default: .nil, doc: "special tokens, given ids 0, 1, ... (the first is end-of-sequence)"),
                                                Param("pre", .string, default: .string("gpt2"), doc: "pre-tokenizer: \"gpt2\" or \"smollm\"")],
                                  returns: "Tokenizer",
                                  doc: "Trains a byte-level BPE vocabulary: the most frequent adjacent pair is merged until the vocabulary is full. Shows progress on inputs over 1 MB.",
                                  example: "small = bpe_train([\"the cat sat on the mat\"] * 100, vocab: 300, special: [\"<|end|>\"])") { a in
            let texts = try a.list("texts").map { v -> String in
                guard case .string(let s) = v else { throw a.error("texts must be strings, got \(article(v.typeName))") }
                return s
            }
            let special = try a.list("special").map { v -> String in
                guard case .string(let s) = v else { throw a.error("special tokens must be strings, got \(article(v.typeName))") }
                return s
            }
            guard let pre = try PreTokenizer.named(a.string("pre")) else {
                throw a.error("pre must be a GGUF pre-tokenizer name (gpt2, smollm, llama-bpe, qwen2, ...), got \(Value.quote(a.string("pre")))")
            }
            let big = texts.reduce(0) { $0 + $1.utf8.count } > 1 << 20
            let tok = try BPETrainer.train(texts: texts, vocabSize: a.int("vocab"), special: special, preTokenizer: pre) { done, total in
                if big {
                    FileHandle.standardError.write("\rbpe_train: \(done)/\(total) merges".data(using: .utf8)!)
                    if done == total || Interrupt.requested { FileHandle.standardError.write("\n".data(using: .utf8)!) }
                }
                try Interrupt.check()
            }
            return wrap(tok)
        })
        r.register(type)
    }

    private static func ids(_ v: Value) throws -> [Int] {
        switch v {
        case .list(let l):
            return try l.items.map { item in
                guard case .number(let n) = item, n == n.rounded(), abs(n) < 1e9 else { throw FinchError(.runtime, "token ids must be integers, got \(item.repr)") }
                return Int(n)
            }
        case .object(let o):
            guard let t = o.value as? Tensor else { throw FinchError(.runtime, "token ids must be a list or a tensor") }
            return try t.scalars.map { x in
                guard let id = Checked.int(Double(x)) else { throw FinchError(.runtime, "token ids must be integers, got \(x)") }
                return id
            }
        default: throw FinchError(.runtime, "token ids must be a list or a tensor, got \(article(v.typeName))")
        }
    }

    private static func side(_ a: Arguments, _ name: String) throws -> Side {
        guard let s = Side(rawValue: a.string(name)) else { throw a.error("\(name) must be \"left\" or \"right\", got \(Value.quote(a.string(name)))") }
        return s
    }

    private static func define(_ t: NativeType) {
        func method(_ name: String, _ params: [Param], returns: String, _ doc: String, _ example: String,
                    _ body: @escaping (Tokenizer, Arguments) throws -> Value) {
            t.method(name, on: Tokenizer.self, params, returns: returns, doc, example, body)
        }
        method("encode", [Param("text", .string), Param("add_special", .bool, default: .bool(true), doc: "add BOS/EOS as the model asks")],
               returns: "list", "The token ids of a text.", "tok.encode(\"Hi, how are you?\")") { tok, a in
            .list(tok.encode(a.string("text"), addSpecial: a.bool("add_special")).map { .number(Double($0)) })
        }
        method("decode", [Param("ids", .any, doc: "a list or tensor of ids"), Param("skip_special", .bool, default: .bool(false))],
               returns: "string", "The text of token ids; never fails (invalid UTF-8 becomes U+FFFD).", "tok.decode([19556, 28])") { tok, a in
            .string(tok.decode(try ids(a["ids"]), skipSpecial: a.bool("skip_special")))
        }
        method("tokens", [Param("text", .string)], returns: "list", "The pieces a text is cut into, one string per token.",
               "tok.tokens(\"Hi, how are you?\")") { tok, a in .list(tok.pieces(a.string("text")).map { .string($0) }) }
        method("show", [Param("text", .string)], returns: "string", "Each token of a text as piece(id), spaces shown as ·.",
               "print(tok.show(\"Hi, how are you?\"))") { tok, a in
            let ids = tok.encode(a.string("text"), addSpecial: false)
            return .string(zip(tok.pieces(ids: ids), ids).map { "\($0.replacingSpaces)(\($1))" }.joined(separator: " "))
        }
        method("batch", [Param("texts", .list), Param("padding", .bool, default: .bool(true)),
                         Param("max_length", .optional(.int), default: .nil), Param("truncation", .bool, default: .bool(false)),
                         Param("padding_side", .string, default: .string("right")), Param("truncation_side", .string, default: .string("right")),
                         Param("add_special", .bool, default: .bool(true))],
               returns: "dict", "Encodes texts together: {input_ids, attention_mask} as tensors [texts, length]; padding with the pad (else end-of-sequence) token.",
               "tok.batch([\"Hi, how are you?\", \"I'm good\", \"Yes\"], max_length: 3, truncation: true)") { tok, a in
            let texts = try a.list("texts").map { v -> String in
                guard case .string(let s) = v else { throw a.error("texts must be strings, got \(article(v.typeName))") }
                return s
            }
            let b = try tok.batch(texts, padding: a.bool("padding"), paddingSide: side(a, "padding_side"), truncation: a.bool("truncation"),
                                  maxLength: a.optionalInt("max_length"), truncationSide: side(a, "truncation_side"), addSpecial: a.bool("add_special"))
            func tensor(_ rows: [[Int]]) throws -> Value {
                let width = rows.map(\.count).max() ?? 0
                guard rows.allSatisfy({ $0.count == width }) else { return .list(rows.map { r in .list(r.map { .number(Double($0)) }) }) }
                return TensorBindings.wrap(try Tensor(rows.flatMap { $0.map(Float.init) }, shape: [rows.count, width]))
            }
            return .dict(try DictRef([(.string("input_ids"), try tensor(b.ids)), (.string("attention_mask"), try tensor(b.attentionMask))]))
        }
        // Its text feeds the lessons' data (see m.chat): unchanged while the template became executed Jinja.
        method("chat", [Param("messages", .list, doc: "dicts with role and content"), Param("add_generation_prompt", .bool, default: .bool(false))],
               returns: "string", "The conversation formatted with the model's chat template (ChatML for SmolLM2, with its default system prompt).",
               "tok.chat([{role: \"user\", content: \"Hi\"}], add_generation_prompt: true)") { tok, a in
            let messages = try ChatValues.messages(a["messages"], a)
            return .string(try tok.compiledChatTemplate().render(messages, addGenerationPrompt: a.bool("add_generation_prompt")))
        }
        method("save", [Param("directory", .string)], returns: "nil",
               "Writes tokenizer.json and tokenizer_config.json (Hugging Face's format) into a directory.",
               "tok.save(\"my-tokenizer\")") { tok, a in
            try tok.save(directory: a.string("directory"))
            return .nil
        }
        t.property("vocab_size", doc: "The number of tokens.") { o in .number(Double((o.value as! Tokenizer).vocabSize)) }
        t.property("eos_id", doc: "The end-of-sequence token id, or nil.") { o in (o.value as! Tokenizer).eosId.map { .number(Double($0)) } ?? .nil }
        t.property("bos_id", doc: "The beginning-of-sequence token id, or nil.") { o in (o.value as! Tokenizer).bosId.map { .number(Double($0)) } ?? .nil }
        t.property("pad_id", doc: "The padding token id (the end-of-sequence token when the model names none).") { o in
            let tok = o.value as! Tokenizer
            return (tok.padId ?? tok.eosId).map { .number(Double($0)) } ?? .nil
        }
        t.describe = { o in
            let tok = o.value as! Tokenizer
            let eos = tok.eosId.map { " eos \($0) \(tok.tokens[$0])" } ?? ""
            return "<Tokenizer: \(tok.vocabSize) tokens, pre-tokenizer \(tok.preTokenizer.summary)\(eos)>"
        }
    }
}

private extension String {
    var replacingSpaces: String { String(map { $0 == " " ? "·" : ($0 == "\n" ? "↵" : $0) }) }
}
