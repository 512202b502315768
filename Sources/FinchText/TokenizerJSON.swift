import FinchIO
import Foundation

/// Hugging Face's tokenizer.json, read in full for BPE models (normalizer,
/// pre-tokenizer, model options, added tokens, post-processor, decoder) and
/// written back so that the `tokenizers` package loads it and encodes identically.
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
        let addedList = root["added_tokens"] as? [Any] ?? []
        // Ids are dense: every one below the count of entries, so a wild id cannot make a huge table.
        let idLimit = vocab.count + addedList.count
        var tokens = [String?](repeating: nil, count: vocab.count)
        for (token, value) in vocab {
            guard let id = (value as? NSNumber)?.intValue, id >= 0 else { throw fail("vocabulary entry \(Tokenizer.show(token)) has no valid id") }
            guard id < idLimit else { throw fail("vocabulary entry \(Tokenizer.show(token)) has id \(id), beyond the \(idLimit) tokens the file holds") }
            if id >= tokens.count { tokens += [String?](repeating: nil, count: id - tokens.count + 1) }
            if let other = tokens[id] { throw fail("tokens \(Tokenizer.show(other)) and \(Tokenizer.show(token)) both have id \(id)") }
            tokens[id] = token
        }
        var added: [AddedToken] = []
        for case let a as [String: Any] in addedList {
            guard let id = (a["id"] as? NSNumber)?.intValue, let content = a["content"] as? String else { throw fail("an added token lacks id or content") }
            guard id >= 0, id < idLimit else { throw fail("added token \(Tokenizer.show(content)) has id \(id), outside the \(idLimit) tokens the file holds") }
            if id >= tokens.count { tokens += [String?](repeating: nil, count: id - tokens.count + 1) }
            if let existing = tokens[id], existing != content { throw fail("added token \(id) \(Tokenizer.show(content)) conflicts with \(Tokenizer.show(existing))") }
            tokens[id] = content
            added.append(AddedToken(id: id, content: content, special: a["special"] as? Bool ?? false, lstrip: a["lstrip"] as? Bool ?? false,
                                    rstrip: a["rstrip"] as? Bool ?? false, singleWord: a["single_word"] as? Bool ?? false,
                                    normalized: a["normalized"] as? Bool ?? !(a["special"] as? Bool ?? false)))
        }
        if let gap = tokens.firstIndex(where: { $0 == nil }) { throw fail("no token has id \(gap)") }
        let all = tokens.map { $0! }
        let merges: [(String, String)] = try (model["merges"] as? [Any] ?? []).enumerated().map { i, m in
            if let pair = m as? [String], pair.count == 2 { return (pair[0], pair[1]) }
            let scalars = Array((m as? String ?? "").unicodeScalars)
            guard let at = scalars.firstIndex(of: " "), !scalars[(at + 1)...].contains(" ") else { throw fail("merge \(i) is neither \"a b\" nor [a, b]") }
            return (ByteFallback.string(scalars[..<at].map(\.value)), ByteFallback.string(scalars[(at + 1)...].map(\.value)))
        }
        let reader = PipelineReader(path: path, ids: Dictionary(all.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a }))
        let normalizer = try reader.normalizer(root["normalizer"])
        let pre = try reader.preTokenizer(root["pre_tokenizer"]) ?? .sequence([])
        let decoder = try reader.decoder(root["decoder"])
        func specialId(_ key: String) -> Int? {
            let content = (config[key] as? String) ?? ((config[key] as? [String: Any])?["content"] as? String)
            return content.flatMap { reader.ids[$0] }
        }
        let bos = specialId("bos_token"), eos = specialId("eos_token")
        var post = try reader.postProcessor(root["post_processor"])
        if post == nil {
            // No template in the file: tokenizer_config.json's flags say what is added.
            post = PostProcessor(prefix: (config["add_bos_token"] as? Bool ?? false) ? bos.map { [$0] } ?? [] : [],
                                 suffix: (config["add_eos_token"] as? Bool ?? false) ? eos.map { [$0] } ?? [] : [])
        }
        func optionalString(_ key: String) -> String? { model[key] as? String }
        let options = BPEOptions(byteFallback: model["byte_fallback"] as? Bool ?? false, ignoreMerges: model["ignore_merges"] as? Bool ?? false,
                                 fuseUnknown: model["fuse_unk"] as? Bool ?? false, continuingSubwordPrefix: optionalString("continuing_subword_prefix"),
                                 endOfWordSuffix: optionalString("end_of_word_suffix"))
        try self.init(tokens: all, mergePairs: merges, added: added, normalizer: normalizer, preTokenizer: pre, decoder: decoder,
                      options: options, postProcessor: post!, bosId: bos, eosId: eos,
                      unknownId: optionalString("unk_token").flatMap { reader.ids[$0] }, padId: specialId("pad_token"),
                      chatTemplate: Tokenizer.chatTemplate(in: config), source: path)
    }

    /// tokenizer_config.json's chat template: a string, or a list of named templates ("default" first).
    static func chatTemplate(in config: [String: Any]) -> String? {
        if let t = config["chat_template"] as? String { return t }
        if let list = config["chat_template"] as? [[String: Any]] {
            let named = list.first { $0["name"] as? String == "default" } ?? list.first
            return named?["template"] as? String
        }
        return nil
    }

    private static func config(besides path: String) -> [String: Any] {
        let url = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("tokenizer_config.json")
        guard let data = FileManager.default.contents(atPath: url.path),
              let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { return [:] }
        return object
    }

    /// Writes tokenizer.json (and tokenizer_config.json with the special tokens and chat template) into `directory`.
    public func save(directory: String) throws {
        try AtomicFile.makeDirectory(directory)
        var vocab: [String: Int] = [:]
        for (i, t) in tokens.enumerated() { vocab[t] = i }  // added tokens too, as Hugging Face writes them
        let mergeList = mergePairs.map { [$0.0, $0.1] }
        let added: [[String: Any]] = addedTokens.map {
            ["id": $0.id, "content": $0.content, "single_word": $0.singleWord, "lstrip": $0.lstrip, "rstrip": $0.rstrip,
             "normalized": $0.normalized, "special": $0.special]
        }
        let null = NSNull()
        var model: [String: Any] = ["type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": options.continuingSubwordPrefix ?? null,
                                    "end_of_word_suffix": options.endOfWordSuffix ?? null, "fuse_unk": options.fuseUnknown,
                                    "byte_fallback": options.byteFallback, "ignore_merges": options.ignoreMerges,
                                    "vocab": vocab, "merges": mergeList]
        if let u = unknownId { model["unk_token"] = tokens[u] }
        var post: Any = null
        if !postProcessor.prefix.isEmpty || !postProcessor.suffix.isEmpty {
            func piece(_ id: Int) -> [String: Any] { ["SpecialToken": ["id": tokens[id], "type_id": 0]] }
            let ids = Set(postProcessor.prefix + postProcessor.suffix)
            let single = postProcessor.prefix.map(piece) + [["Sequence": ["id": "A", "type_id": 0]]] + postProcessor.suffix.map(piece)
            post = ["type": "TemplateProcessing", "single": single, "pair": single,
                    "special_tokens": Dictionary(uniqueKeysWithValues: ids.map { (tokens[$0], ["id": tokens[$0], "ids": [$0], "tokens": [tokens[$0]]] as [String: Any]) })]
        } else if byteLevel {
            post = ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true]
        }
        let root: [String: Any] = ["version": "1.0", "truncation": null, "padding": null, "added_tokens": added,
                                   "normalizer": normalizer.map(PipelineWriter.normalizer) ?? null,
                                   "pre_tokenizer": PipelineWriter.preTokenizer(preTokenizer),
                                   "post_processor": post, "decoder": decoder.map(PipelineWriter.decoder) ?? null, "model": model]
        let json = try JSONSerialization.data(withJSONObject: root, options: [.sortedKeys])
        try AtomicFile.write(json, to: directory + "/tokenizer.json")
        var config: [String: Any] = ["add_bos_token": addBOS, "add_eos_token": addEOS,
                                     "tokenizer_class": byteLevel ? "GPT2Tokenizer" : "PreTrainedTokenizerFast"]
        if let b = bosId { config["bos_token"] = tokens[b] }
        if let e = eosId { config["eos_token"] = tokens[e] }
        if let p = padId { config["pad_token"] = tokens[p] }
        if let t = chatTemplate { config["chat_template"] = t }
        try AtomicFile.write(try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys, .prettyPrinted]),
                             to: directory + "/tokenizer_config.json")
    }
}

/// Reads the pipeline sections of tokenizer.json; every unknown type is an error naming it.
struct PipelineReader {
    let path: String
    let ids: [String: Int]

    func fail(_ why: String) -> TokenizerError { TokenizerError("\(path): \(why)") }

    private func object(_ value: Any?, _ what: String) throws -> [String: Any]? {
        if value == nil || value is NSNull { return nil }
        guard let o = value as? [String: Any], o["type"] is String else { throw fail("\(what) is not an object with a \"type\"") }
        return o
    }

    private func pattern(_ value: Any?, _ what: String) throws -> TextPattern {
        guard let p = value as? [String: Any] else { throw fail("\(what) has no pattern") }
        if let s = p["String"] as? String { return .string(s) }
        if let r = p["Regex"] as? String {
            do { return .regex(try Regex(r)) } catch let e as RegexError { throw fail("\(what): \(e.description)") }
        }
        throw fail("\(what)'s pattern is neither {\"String\": ...} nor {\"Regex\": ...}")
    }

    private func scalar(_ value: Any?, _ what: String) throws -> UInt32 {
        guard let s = value as? String, s.unicodeScalars.count == 1 else { throw fail("\(what) must be one character") }
        return s.unicodeScalars.first!.value
    }

    private func scheme(_ o: [String: Any]) throws -> PrependScheme {
        if let s = o["prepend_scheme"] as? String {
            guard let p = PrependScheme(rawValue: s) else { throw fail("prepend_scheme \(Tokenizer.show(s)) is not always, first or never") }
            return p
        }
        return (o["add_prefix_space"] as? Bool ?? true) ? .always : .never
    }

    func normalizer(_ value: Any?) throws -> Normalizer? {
        guard let o = try object(value, "the normalizer") else { return nil }
        let type = o["type"] as! String
        switch type {
        case "NFC": return .nfc
        case "NFD": return .nfd
        case "NFKC": return .nfkc
        case "NFKD": return .nfkd
        case "Lowercase": return .lowercase
        case "Prepend":
            guard let p = o["prepend"] as? String else { throw fail("the Prepend normalizer has no \"prepend\" string") }
            return .prepend(p)
        case "Replace":
            guard let c = o["content"] as? String else { throw fail("the Replace normalizer has no \"content\" string") }
            return .replace(try pattern(o["pattern"], "the Replace normalizer"), c)
        case "Strip": return .strip(left: o["strip_left"] as? Bool ?? true, right: o["strip_right"] as? Bool ?? true)
        case "Sequence":
            guard let list = o["normalizers"] as? [Any] else { throw fail("the normalizer Sequence has no \"normalizers\" list") }
            return .sequence(try list.compactMap { try normalizer($0) })
        default:
            throw fail("normalizer \(type) is not supported (NFC, NFD, NFKC, NFKD, Lowercase, Prepend, Replace, Strip, Sequence)")
        }
    }

    func preTokenizer(_ value: Any?) throws -> PreTokenizer? {
        guard let o = try object(value, "the pre-tokenizer") else { return nil }
        let type = o["type"] as! String
        switch type {
        case "ByteLevel": return .byteLevel(addPrefixSpace: o["add_prefix_space"] as? Bool ?? true, useRegex: o["use_regex"] as? Bool ?? true)
        case "Split":
            let behavior = o["behavior"] as? String ?? "Isolated"
            guard let b = SplitBehavior(rawValue: behavior) else { throw fail("Split behavior \(Tokenizer.show(behavior)) is not one of Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous") }
            return .split(try pattern(o["pattern"], "the Split pre-tokenizer"), behavior: b, invert: o["invert"] as? Bool ?? false)
        case "Digits": return .digits(individual: o["individual_digits"] as? Bool ?? false)
        case "Metaspace":
            return .metaspace(replacement: try scalar(o["replacement"] ?? "▁", "Metaspace's replacement"), prependScheme: try scheme(o),
                              split: o["split"] as? Bool ?? true)
        case "WhitespaceSplit": return .whitespaceSplit
        case "Sequence":
            guard let list = o["pretokenizers"] as? [Any] else { throw fail("the pre-tokenizer Sequence has no \"pretokenizers\" list") }
            return .sequence(try list.compactMap { try preTokenizer($0) })
        default:
            throw fail("pre-tokenizer \(type) is not supported (ByteLevel, Split, Digits, Metaspace, WhitespaceSplit, Sequence)")
        }
    }

    func decoder(_ value: Any?) throws -> TokenDecoder? {
        guard let o = try object(value, "the decoder") else { return nil }
        let type = o["type"] as! String
        switch type {
        case "ByteLevel": return .byteLevel
        case "Metaspace": return .metaspace(replacement: try scalar(o["replacement"] ?? "▁", "Metaspace's replacement"), prependScheme: try scheme(o))
        case "ByteFallback": return .byteFallback
        case "Fuse": return .fuse
        case "Strip":
            return .strip(content: try scalar(o["content"], "Strip's content"), start: (o["start"] as? NSNumber)?.intValue ?? 0,
                          stop: (o["stop"] as? NSNumber)?.intValue ?? 0)
        case "Replace":
            guard let c = o["content"] as? String else { throw fail("the Replace decoder has no \"content\" string") }
            return .replace(try pattern(o["pattern"], "the Replace decoder"), c)
        case "BPEDecoder": return .bpeSuffix(o["suffix"] as? String ?? "</w>")
        case "Sequence":
            guard let list = o["decoders"] as? [Any] else { throw fail("the decoder Sequence has no \"decoders\" list") }
            return .sequence(try list.compactMap { try decoder($0) })
        default:
            throw fail("decoder \(type) is not supported (ByteLevel, Metaspace, ByteFallback, Fuse, Strip, Replace, BPEDecoder, Sequence)")
        }
    }

    /// nil when the file has none, or only steps that add no tokens (ByteLevel).
    func postProcessor(_ value: Any?) throws -> PostProcessor? {
        guard let o = try object(value, "the post-processor") else { return nil }
        let type = o["type"] as! String
        func id(of token: Any?) throws -> Int {
            guard let t = token as? String, let id = ids[t] else { throw fail("the post-processor names token \(token ?? "nil"), which is not in the vocabulary") }
            return id
        }
        switch type {
        case "ByteLevel": return nil
        case "TemplateProcessing":
            guard let single = o["single"] as? [[String: Any]] else { throw fail("TemplateProcessing has no \"single\" template") }
            let specials = o["special_tokens"] as? [String: Any] ?? [:]
            var result = PostProcessor()
            var seenSequence = false
            for piece in single {
                if piece["Sequence"] != nil { seenSequence = true; continue }
                guard let s = piece["SpecialToken"] as? [String: Any], let name = s["id"] as? String else { throw fail("TemplateProcessing has a piece that is neither Sequence nor SpecialToken") }
                let list: [Int]
                if let entry = specials[name] as? [String: Any], let ids = entry["ids"] as? [NSNumber] { list = ids.map(\.intValue) } else { list = [try id(of: name)] }
                if seenSequence { result.suffix += list } else { result.prefix += list }
            }
            return result
        case "RobertaProcessing", "BertProcessing":
            guard let cls = (o["cls"] as? [Any])?.first, let sep = (o["sep"] as? [Any])?.first else { throw fail("\(type) needs cls and sep") }
            return PostProcessor(prefix: [try id(of: cls)], suffix: [try id(of: sep)])
        case "Sequence":
            guard let list = o["processors"] as? [Any] else { throw fail("the post-processor Sequence has no \"processors\" list") }
            let parts = try list.compactMap { try postProcessor($0) }
            return parts.isEmpty ? nil : PostProcessor(prefix: parts.flatMap(\.prefix), suffix: parts.flatMap(\.suffix))
        default:
            throw fail("post-processor \(type) is not supported (TemplateProcessing, ByteLevel, RobertaProcessing, BertProcessing, Sequence)")
        }
    }
}

/// The pipeline written back as tokenizer.json sections.
enum PipelineWriter {
    static func pattern(_ p: TextPattern) -> [String: Any] {
        switch p {
        case .string(let s): return ["String": s]
        case .regex(let r): return ["Regex": r.pattern]
        }
    }

    static func char(_ v: UInt32) -> String { ByteFallback.string([v]) }

    static func normalizer(_ n: Normalizer) -> [String: Any] {
        switch n {
        case .nfc: return ["type": "NFC"]
        case .nfd: return ["type": "NFD"]
        case .nfkc: return ["type": "NFKC"]
        case .nfkd: return ["type": "NFKD"]
        case .lowercase: return ["type": "Lowercase"]
        case .prepend(let p): return ["type": "Prepend", "prepend": p]
        case .replace(let p, let c): return ["type": "Replace", "pattern": pattern(p), "content": c]
        case .strip(let l, let r): return ["type": "Strip", "strip_left": l, "strip_right": r]
        case .sequence(let steps): return ["type": "Sequence", "normalizers": steps.map(normalizer)]
        }
    }

    static func preTokenizer(_ p: PreTokenizer) -> [String: Any] {
        switch p {
        case .byteLevel(let prefix, let regex): return ["type": "ByteLevel", "add_prefix_space": prefix, "trim_offsets": true, "use_regex": regex]
        case .split(let pat, let behavior, let invert): return ["type": "Split", "pattern": pattern(pat), "behavior": behavior.rawValue, "invert": invert]
        case .digits(let individual): return ["type": "Digits", "individual_digits": individual]
        case .metaspace(let r, let scheme, let split): return ["type": "Metaspace", "replacement": char(r), "prepend_scheme": scheme.rawValue, "split": split]
        case .whitespaceSplit: return ["type": "WhitespaceSplit"]
        case .sequence(let steps): return ["type": "Sequence", "pretokenizers": steps.map(preTokenizer)]
        }
    }

    static func decoder(_ d: TokenDecoder) -> [String: Any] {
        switch d {
        case .byteLevel: return ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true]
        case .metaspace(let r, let scheme): return ["type": "Metaspace", "replacement": char(r), "prepend_scheme": scheme.rawValue, "split": true]
        case .byteFallback: return ["type": "ByteFallback"]
        case .fuse: return ["type": "Fuse"]
        case .strip(let c, let start, let stop): return ["type": "Strip", "content": char(c), "start": start, "stop": stop]
        case .replace(let p, let c): return ["type": "Replace", "pattern": pattern(p), "content": c]
        case .bpeSuffix(let s): return ["type": "BPEDecoder", "suffix": s]
        case .sequence(let steps): return ["type": "Sequence", "decoders": steps.map(decoder)]
        }
    }
}
