import FinchText

extension Tokenizer {
    /// The tokenizer a GGUF file describes (`tokenizer.ggml.*` metadata): byte-level BPE ("gpt2",
    /// split as `tokenizer.ggml.pre` names) or SentencePiece-style BPE with byte fallback ("llama").
    public convenience init(gguf file: GGUFFile) throws {
        let m = file.metadata
        guard let model = m["tokenizer.ggml.model"]?.string else {
            throw TokenizerError("\(file.path): no tokenizer.ggml.model in the metadata")
        }
        guard let tokens = m["tokenizer.ggml.tokens"]?.strings else { throw TokenizerError("\(file.path): no tokenizer.ggml.tokens") }
        // Control (3) and user-defined (4) tokens are matched before BPE.
        let types = m["tokenizer.ggml.token_type"]?.ints ?? []
        guard types.isEmpty || types.count == tokens.count else {
            throw TokenizerError("\(file.path): tokenizer.ggml.token_type has \(types.count) entries for \(tokens.count) tokens")
        }
        for key in ["bos", "eos", "unknown", "padding"] {
            if let id = m["tokenizer.ggml.\(key)_token_id"]?.int, id >= tokens.count {
                throw TokenizerError("\(file.path): tokenizer.ggml.\(key)_token_id \(id) is not among the \(tokens.count) tokens")
            }
        }
        let bos = m["tokenizer.ggml.bos_token_id"]?.int, eos = m["tokenizer.ggml.eos_token_id"]?.int
        let unknown = m["tokenizer.ggml.unknown_token_id"]?.int, pad = m["tokenizer.ggml.padding_token_id"]?.int
        let template = m["tokenizer.chat_template"]?.string
        switch model {
        case "gpt2":
            guard let merges = m["tokenizer.ggml.merges"]?.strings else { throw TokenizerError("\(file.path): no tokenizer.ggml.merges") }
            let preName = m["tokenizer.ggml.pre"]?.string ?? "default"
            guard let pre = try PreTokenizer.named(preName) else {
                throw TokenizerError("\(file.path): pre-tokenizer \"\(preName)\" (tokenizer.ggml.pre) is not one Finch knows (known: \(PreTokenizer.knownNames.joined(separator: ", ")))")
            }
            let specials = types.enumerated().filter { $0.element == 3 || $0.element == 4 }.map(\.offset)
            try self.init(tokens: tokens, merges: merges, specialIds: specials, preTokenizer: pre, bosId: bos, eosId: eos,
                          unknownId: unknown, padId: pad,
                          addBOS: m["tokenizer.ggml.add_bos_token"]?.bool ?? false, addEOS: m["tokenizer.ggml.add_eos_token"]?.bool ?? false,
                          chatTemplate: template, source: file.path)
        case "llama":
            guard let scores = m["tokenizer.ggml.scores"]?.array?.map({ Float($0.double ?? 0) }) else {
                throw TokenizerError("\(file.path): a SentencePiece (\"llama\") tokenizer needs tokenizer.ggml.scores")
            }
            try self.init(sentencePiece: tokens, scores: scores, types: types, bosId: bos, eosId: eos, unknownId: unknown, padId: pad,
                          addBOS: m["tokenizer.ggml.add_bos_token"]?.bool ?? true, addEOS: m["tokenizer.ggml.add_eos_token"]?.bool ?? false,
                          addSpacePrefix: m["tokenizer.ggml.add_space_prefix"]?.bool ?? true, chatTemplate: template, source: file.path)
        default:
            throw TokenizerError("\(file.path): tokenizer model \"\(model)\" is not supported (byte-level BPE \"gpt2\" or SentencePiece BPE \"llama\")")
        }
    }
}
