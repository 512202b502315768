/// SentencePiece's BPE as GGUF files keep it (`tokenizer.ggml.model` "llama"):
/// tokens with scores instead of merges. llama.cpp merges the adjacent pair whose
/// joined text is a token with the highest score, leftmost first; the same order
/// comes from a merge table ranked by score, so one BPE engine serves both.
extension Tokenizer {
    /// GGUF token types.
    public enum TokenType: Int { case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6 }

    /// A SentencePiece-style tokenizer: spaces become "▁" (one added in front when `addSpacePrefix`),
    /// characters outside the vocabulary fall back to <0xAB> byte tokens.
    public convenience init(sentencePiece tokens: [String], scores: [Float], types: [Int], bosId: Int?, eosId: Int?,
                            unknownId: Int?, padId: Int?, addBOS: Bool, addEOS: Bool, addSpacePrefix: Bool,
                            chatTemplate: String?, source: String) throws {
        guard scores.count == tokens.count else { throw TokenizerError("\(source): \(scores.count) scores for \(tokens.count) tokens") }
        guard types.isEmpty || types.count == tokens.count else { throw TokenizerError("\(source): \(types.count) token types for \(tokens.count) tokens") }
        func type(_ i: Int) -> Int { types.isEmpty ? TokenType.normal.rawValue : types[i] }
        var ids: [String: Int] = [:]
        for (i, t) in tokens.enumerated() where ids[t] == nil { ids[t] = i }
        // Every way a mergeable token splits into two tokens is a merge, ranked by the token's score.
        var candidates: [(left: String, right: String, score: Float, id: Int)] = []
        for (i, t) in tokens.enumerated() where type(i) == TokenType.normal.rawValue || type(i) == TokenType.userDefined.rawValue {
            let scalars = Array(t.unicodeScalars)
            guard scalars.count >= 2 else { continue }
            for k in 1..<scalars.count {
                let l = ByteFallback.string(scalars[..<k].map(\.value)), r = ByteFallback.string(scalars[k...].map(\.value))
                if let a = ids[l], let b = ids[r], type(a) != TokenType.control.rawValue, type(b) != TokenType.control.rawValue {
                    candidates.append((l, r, scores[i], i))
                }
            }
        }
        candidates.sort { $0.score != $1.score ? $0.score > $1.score : $0.id < $1.id }
        var ranks: [Int] = []
        var rank = -1
        var last: Float?
        for c in candidates {
            if c.score != last { rank += 1; last = c.score }
            ranks.append(rank)
        }
        let added = tokens.indices.filter { type($0) == TokenType.control.rawValue || type($0) == TokenType.userDefined.rawValue && tokens[$0].unicodeScalars.count > 1 }
            .map { AddedToken(id: $0, content: tokens[$0], special: type($0) == TokenType.control.rawValue) }
        let marker = "\u{2581}"
        let replace = Normalizer.replace(.string(" "), marker)
        let toSpace = TokenDecoder.replace(.string(marker), " ")
        try self.init(tokens: tokens, merges: candidates.map { $0.left + " " + $0.right }, added: added,
                      normalizer: addSpacePrefix ? .sequence([.prepend(marker), replace]) : replace,
                      preTokenizer: .sequence([]),
                      decoder: .sequence([toSpace, .byteFallback, .fuse] + (addSpacePrefix ? [.strip(content: 0x20, start: 1, stop: 0)] : [])),
                      options: BPEOptions(byteFallback: true, fuseUnknown: true),
                      postProcessor: PostProcessor(prefix: addBOS ? bosId.map { [$0] } ?? [] : [], suffix: addEOS ? eosId.map { [$0] } ?? [] : []),
                      bosId: bosId, eosId: eosId, unknownId: unknownId, padId: padId, chatTemplate: chatTemplate,
                      mergeRanks: ranks, source: source)
    }

    /// Whether a space goes in front of the text ("▁" prepended by the normalizer or the pre-tokenizer).
    public var addsSpacePrefix: Bool {
        func n(_ x: Normalizer) -> Bool {
            if case .prepend = x { return true }
            if case .sequence(let steps) = x { return steps.contains(where: n) }
            return false
        }
        func p(_ x: PreTokenizer) -> Bool {
            if case .metaspace(_, let scheme, _) = x { return scheme != .never }
            if case .sequence(let steps) = x { return steps.contains(where: p) }
            return false
        }
        return normalizer.map(n) ?? false || p(preTokenizer)
    }

    /// Scores for GGUF's SentencePiece form: a merged token scores minus the rank of its merge, so
    /// llama.cpp's highest-score-first order is this tokenizer's lowest-rank-first order.
    public var sentencePieceScores: [Float] {
        var scores = [Float](repeating: 0, count: tokens.count)
        var seen = [Bool](repeating: false, count: tokens.count)
        for (_, value) in merges.entries.sorted(by: { $0.value >> 32 < $1.value >> 32 }) {
            let id = Int(value & 0xFFFF_FFFF)
            if !seen[id] { seen[id] = true; scores[id] = -Float(value >> 32) - 1 }
        }
        return scores
    }

    /// GGUF token types: control for special added tokens, user-defined for other added ones, byte for <0xAB>.
    public var tokenTypes: [Int] {
        tokens.indices.map { i in
            if isSpecial[i] { return TokenType.control.rawValue }
            if isAdded[i] { return TokenType.userDefined.rawValue }
            if i == unknownId { return TokenType.unknown.rawValue }
            if !byteLevel, ByteFallback.byte(of: tokens[i]) != nil { return TokenType.byte.rawValue }
            return TokenType.normal.rawValue
        }
    }
}
