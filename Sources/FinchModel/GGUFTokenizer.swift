import FinchText

extension Tokenizer {
    /// The tokenizer a GGUF file describes (`tokenizer.ggml.*` metadata).
    public convenience init(gguf file: GGUFFile) throws {
        let m = file.metadata
        guard let model = m["tokenizer.ggml.model"]?.string else {
            throw TokenizerError("\(file.path): no tokenizer.ggml.model in the metadata")
        }
        guard model == "gpt2" else {
            throw TokenizerError("\(file.path): tokenizer model \"\(model)\" is not supported (only byte-level BPE, \"gpt2\")")
        }
        guard let tokens = m["tokenizer.ggml.tokens"]?.strings else { throw TokenizerError("\(file.path): no tokenizer.ggml.tokens") }
        guard let merges = m["tokenizer.ggml.merges"]?.strings else { throw TokenizerError("\(file.path): no tokenizer.ggml.merges") }
        let preName = m["tokenizer.ggml.pre"]?.string ?? "gpt2"
        guard let pre = PreTokenizer(rawValue: preName) else {
            let known = PreTokenizer.allCases.map(\.rawValue).joined(separator: ", ")
            throw TokenizerError("\(file.path): pre-tokenizer \"\(preName)\" is not supported (known: \(known))")
        }
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
        let specials = types.enumerated().filter { $0.element == 3 || $0.element == 4 }.map(\.offset)
        try self.init(tokens: tokens, merges: merges, specialIds: specials, preTokenizer: pre,
                      bosId: m["tokenizer.ggml.bos_token_id"]?.int, eosId: m["tokenizer.ggml.eos_token_id"]?.int,
                      unknownId: m["tokenizer.ggml.unknown_token_id"]?.int, padId: m["tokenizer.ggml.padding_token_id"]?.int,
                      addBOS: m["tokenizer.ggml.add_bos_token"]?.bool ?? false, addEOS: m["tokenizer.ggml.add_eos_token"]?.bool ?? false,
                      chatTemplate: m["tokenizer.chat_template"]?.string, source: file.path)
    }
}
