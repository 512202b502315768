import FinchIO
import Foundation

/// Hugging Face's tokenizer.json: read (BPE models with a byte-level
/// pre-tokenizer, with or without the digit split) and written so that the
/// `tokenizers` package loads it and encodes identically.
extension Tokenizer {
    /// Reads tokenizer.json, and tokenizer_config.json beside it when present (chat template, BOS/EOS flags).
    public convenience init(jsonFile path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw TokenizerError("\(path): cannot read the file") }
        try self.init(json: data, config: Tokenizer.config(besides: path), path: path)
    }

    /// Reads tokenizer.json's bytes; `config` is tokenizer_config.json's object, `path` names the file in errors.
    public convenience init(json data: Data, config: [String: Any] = [:], path: String) throws {
        func fail(_ why: String) -> TokenizerError { TokenizerError("\(path): \(why)") }
        guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { throw fail("not a JSON object") }
        guard let model = root["model"] as? [String: Any] else { throw fail("no \"model\"") }
        guard (model["type"] as? String ?? "BPE") == "BPE" else { throw fail("model type \(model["type"] ?? "?") is not supported (only BPE)") }
        guard let vocab = model["vocab"] as? [String: Any] else { throw fail("no model.vocab") }
        let addedTokens = root["added_tokens"] as? [Any] ?? []
        // Ids are dense: every one below the count of entries, so a wild id cannot make a huge table.
        let idLimit = vocab.count + addedTokens.count
        var tokens = [String?](repeating: nil, count: vocab.count)
        for (token, value) in vocab {
            guard let id = (value as? NSNumber)?.intValue, id >= 0 else { throw fail("vocabulary entry \(Tokenizer.show(token)) has no valid id") }
            guard id < idLimit else { throw fail("vocabulary entry \(Tokenizer.show(token)) has id \(id), beyond the \(idLimit) tokens the file holds") }
            if id >= tokens.count { tokens += [String?](repeating: nil, count: id - tokens.count + 1) }
            if let other = tokens[id] { throw fail("tokens \(Tokenizer.show(other)) and \(Tokenizer.show(token)) both have id \(id)") }
            tokens[id] = token
        }
        var specials: [Int] = []
        for case let added as [String: Any] in addedTokens {
            guard let id = (added["id"] as? NSNumber)?.intValue, let content = added["content"] as? String else { throw fail("an added token lacks id or content") }
            guard id >= 0, id < idLimit else { throw fail("added token \(Tokenizer.show(content)) has id \(id), outside the \(idLimit) tokens the file holds") }
            if id >= tokens.count { tokens += [String?](repeating: nil, count: id - tokens.count + 1) }
            if let existing = tokens[id], existing != content { throw fail("added token \(id) \(Tokenizer.show(content)) conflicts with \(Tokenizer.show(existing))") }
            tokens[id] = content
            if added["special"] as? Bool ?? false { specials.append(id) }
        }
        if let gap = tokens.firstIndex(where: { $0 == nil }) { throw fail("no token has id \(gap)") }
        let merges: [String] = try (model["merges"] as? [Any] ?? []).enumerated().map { i, m in
            if let s = m as? String { return s }
            if let pair = m as? [String], pair.count == 2 { return pair[0] + " " + pair[1] }
            throw fail("merge \(i) is neither \"a b\" nor [a, b]")
        }
        let pre = try Tokenizer.preTokenizer(from: root["pre_tokenizer"], fail: fail)
        func specialId(_ key: String) -> Int? {
            let content = (config[key] as? String) ?? ((config[key] as? [String: Any])?["content"] as? String)
            return content.flatMap { c in tokens.firstIndex(of: c) }
        }
        try self.init(tokens: tokens.map { $0! }, merges: merges, specialIds: specials, preTokenizer: pre,
                      bosId: specialId("bos_token"), eosId: specialId("eos_token"),
                      unknownId: (model["unk_token"] as? String).flatMap { tokens.firstIndex(of: $0) }, padId: specialId("pad_token"),
                      addBOS: config["add_bos_token"] as? Bool ?? false, addEOS: config["add_eos_token"] as? Bool ?? false,
                      chatTemplate: config["chat_template"] as? String, source: path)
    }

    private static func preTokenizer(from value: Any?, fail: (String) -> TokenizerError) throws -> PreTokenizer {
        guard let p = value as? [String: Any], let type = p["type"] as? String else { throw fail("no pre_tokenizer (a byte-level one is needed)") }
        if type == "ByteLevel" { return .gpt2 }
        if type == "Sequence", let steps = p["pretokenizers"] as? [[String: Any]] {
            let types = steps.compactMap { $0["type"] as? String }
            if types == ["Digits", "ByteLevel"], steps[0]["individual_digits"] as? Bool == true { return .smollm }
            if types == ["ByteLevel"] { return .gpt2 }
            throw fail("pre-tokenizer sequence \(types) is not supported (ByteLevel, or Digits(individual) then ByteLevel)")
        }
        throw fail("pre-tokenizer \(type) is not supported (ByteLevel, or Digits(individual) then ByteLevel)")
    }

    private static func config(besides path: String) -> [String: Any] {
        let url = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("tokenizer_config.json")
        guard let data = FileManager.default.contents(atPath: url.path),
              let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { return [:] }
        return object
    }

    /// Writes tokenizer.json (and tokenizer_config.json with the special tokens and chat template) into `directory`.
    public func save(directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let byteLevel: [String: Any] = ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true]
        let pre: [String: Any] = preTokenizer == .smollm
            ? ["type": "Sequence", "pretokenizers": [["type": "Digits", "individual_digits": true], byteLevel]]
            : byteLevel
        var vocab: [String: Int] = [:]
        for (i, t) in tokens.enumerated() { vocab[t] = i }  // special tokens too, as Hugging Face writes them
        let mergeList = self.mergeList.map { $0.split(separator: " ", maxSplits: 1).map(String.init) }
        let added: [[String: Any]] = specialIds.sorted().map {
            ["id": $0, "content": tokens[$0], "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true]
        }
        var model: [String: Any] = ["type": "BPE", "dropout": NSNull(), "unk_token": NSNull(), "continuing_subword_prefix": NSNull(),
                                    "end_of_word_suffix": NSNull(), "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
                                    "vocab": vocab, "merges": mergeList]
        if let u = unknownId, specialIds.contains(u) == false { model["unk_token"] = tokens[u] }
        let root: [String: Any] = ["version": "1.0", "truncation": NSNull(), "padding": NSNull(), "added_tokens": added,
                                   "normalizer": NSNull(), "pre_tokenizer": pre,
                                   "post_processor": ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true],
                                   "decoder": ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true],
                                   "model": model]
        let json = try JSONSerialization.data(withJSONObject: root, options: [.sortedKeys])
        try AtomicFile.write(json, to: directory + "/tokenizer.json")
        var config: [String: Any] = ["add_bos_token": addBOS, "add_eos_token": addEOS, "tokenizer_class": "GPT2Tokenizer"]
        if let b = bosId { config["bos_token"] = tokens[b] }
        if let e = eosId { config["eos_token"] = tokens[e] }
        if let p = padId { config["pad_token"] = tokens[p] }
        if let t = chatTemplate { config["chat_template"] = t }
        try AtomicFile.write(try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys, .prettyPrinted]),
                             to: directory + "/tokenizer_config.json")
    }
}
