import FinchText

/// Which end of a sequence loses tokens (truncation) or gains padding.
public enum SequenceSide: String, Sendable {
    case left, right
}

/// One example as the model trains on it: token ids and, per position, the id it
/// learns to predict there or `TokenizedDataset.ignore` where no loss is taken.
public struct TokenizedExample: Sendable, Equatable {
    public var ids: [Int]
    /// The same length as ids: the target at each position (before the shift of next-token
    /// prediction, as Hugging Face's labels are), or `ignore` for masked positions.
    public var labels: [Int]
    /// How many of the ids belong to the prompt (after truncation).
    public var promptLength: Int
    /// Whether tokens were cut to fit max_length.
    public var truncated: Bool

    public init(ids: [Int], labels: [Int], promptLength: Int, truncated: Bool) {
        self.ids = ids
        self.labels = labels
        self.promptLength = promptLength
        self.truncated = truncated
    }
}

/// A dataset turned into token ids with labels, ready to batch.
public struct TokenizedDataset: Sendable {
    /// Label of positions whose prediction is not trained (PyTorch's cross-entropy ignore_index).
    public static let ignore = -100
    public var examples: [TokenizedExample]
    /// The id padding uses (the tokenizer's pad token, else its end-of-sequence token).
    public let padId: Int
    public let source: String

    public var count: Int { examples.count }

    public init(examples: [TokenizedExample], padId: Int, source: String) {
        self.examples = examples
        self.padId = padId
        self.source = source
    }

    /// Examples `range` padded to the longest of them: (ids, labels, attention mask), each rows × length.
    /// Padding positions (`padId`, default the dataset's) have label `ignore` and mask 0.
    public func batch(_ range: Range<Int>, side: SequenceSide = .right, padId: Int? = nil) -> (ids: [[Int]], labels: [[Int]], mask: [[Int]]) {
        batch(Array(range), side: side, padId: padId)
    }

    /// The examples at `indices` (in that order), padded the same way.
    public func batch(_ indices: [Int], side: SequenceSide = .right, padId: Int? = nil) -> (ids: [[Int]], labels: [[Int]], mask: [[Int]]) {
        let padId = padId ?? self.padId
        let rows = indices.map { examples[$0] }
        let width = rows.map(\.ids.count).max() ?? 0
        var ids: [[Int]] = [], labels: [[Int]] = [], mask: [[Int]] = []
        for e in rows {
            let pad = width - e.ids.count
            let padIds = [Int](repeating: padId, count: pad), padLabels = [Int](repeating: Self.ignore, count: pad)
            let ones = [Int](repeating: 1, count: e.ids.count), zeros = [Int](repeating: 0, count: pad)
            if side == .right {
                ids.append(e.ids + padIds); labels.append(e.labels + padLabels); mask.append(ones + zeros)
            } else {
                ids.append(padIds + e.ids); labels.append(padLabels + e.labels); mask.append(zeros + ones)
            }
        }
        return (ids, labels, mask)
    }

    /// The examples concatenated (each already ends with EOS) and cut into sequences of exactly
    /// `length` tokens; the tail that does not fill a sequence is dropped and counted.
    /// Packed examples are not kept from attending to one another: a sequence is one causal
    /// stream, as in Hugging Face's packing, and EOS tells the model where one example ends.
    public func packed(length: Int) throws -> (dataset: TokenizedDataset, droppedTokens: Int) {
        guard length > 0 else { throw DataError("pack length must be positive, got \(length)") }
        var ids: [Int] = [], labels: [Int] = []
        for e in examples { ids += e.ids; labels += e.labels }
        var out: [TokenizedExample] = []
        var start = 0
        while start + length <= ids.count {
            out.append(TokenizedExample(ids: Array(ids[start..<(start + length)]), labels: Array(labels[start..<(start + length)]),
                                        promptLength: 0, truncated: false))
            start += length
        }
        return (TokenizedDataset(examples: out, padId: padId, source: source), ids.count - start)
    }
}

extension Dataset {
    /// Each row through `template` (default: the kind's), tokenised: prompt ids + completion ids
    /// + EOS (when `addEOS`), labels equal to the ids except the prompt's when `maskPrompt`,
    /// then cut to `maxLength` from `truncation`'s side.
    public func tokenized(_ tokenizer: Tokenizer, template: PromptTemplate? = nil, maxLength: Int? = nil,
                          truncation: SequenceSide = .right, maskPrompt: Bool = true, addEOS: Bool = true) throws -> TokenizedDataset {
        guard let template = template ?? PromptTemplate.standard(for: kind, chat: try? tokenizer.compiledChatTemplate()) else {
            throw DataError("\(source): no template for \(kind.rawValue) data (columns: \(columns.joined(separator: ", "))); give one")
        }
        if let m = maxLength, m <= 0 { throw DataError("max_length must be positive, got \(m)") }
        guard !addEOS || tokenizer.eosId != nil else { throw DataError("the tokenizer has no end-of-sequence token to append") }
        let bos = tokenizer.addBOS ? tokenizer.bosId.map { [$0] } ?? [] : []
        var examples: [TokenizedExample] = []
        examples.reserveCapacity(count)
        for (i, row) in rows.enumerated() {
            var ids: [Int], labels: [Int], promptLength: Int
            if case .chat(let chat) = template {
                // The whole conversation as the template writes it (BOS and end-of-turn tokens
                // included); every assistant turn is trained, found by rendering prefix by prefix.
                let (all, trained) = try Self.chatTokens(row, i, chat, tokenizer, source: source)
                ids = all
                labels = maskPrompt ? zip(all, trained).map { $1 ? $0 : TokenizedDataset.ignore } : all
                promptLength = trained.firstIndex(of: true) ?? all.count
            } else {
                let (prompt, completion) = try template.render(row, index: i, source: source)
                let p = bos + tokenizer.encode(prompt, addSpecial: false)
                let c = tokenizer.encode(completion, addSpecial: false) + (addEOS ? [tokenizer.eosId!] : [])
                ids = p + c
                labels = (maskPrompt ? [Int](repeating: TokenizedDataset.ignore, count: p.count) : p) + c
                promptLength = p.count
            }
            var truncated = false
            if let m = maxLength, ids.count > m {
                truncated = true
                if truncation == .right {
                    ids.removeLast(ids.count - m); labels.removeLast(labels.count - m)
                    promptLength = Swift.min(promptLength, m)
                } else {
                    let cut = ids.count - m
                    ids.removeFirst(cut); labels.removeFirst(cut)
                    promptLength = Swift.max(0, promptLength - cut)
                }
            }
            examples.append(TokenizedExample(ids: ids, labels: labels, promptLength: promptLength, truncated: truncated))
        }
        return TokenizedDataset(examples: examples, padId: tokenizer.padId ?? tokenizer.eosId ?? 0, source: source)
    }

    private static func chatTokens(_ row: Row, _ index: Int, _ chat: ChatTemplate, _ tokenizer: Tokenizer,
                                   source: String) throws -> (ids: [Int], trained: [Bool]) {
        let messages = try PromptTemplate.messages(row, index: index, source: source)
        guard messages.contains(where: { $0.role == "assistant" }) else {
            throw DataError("\(source) row \(index): the conversation has no assistant message, so there is nothing to learn")
        }
        do { return try tokenizer.encodeChat(messages, template: chat) } catch let e as TokenizerError {
            throw DataError("\(source) row \(index): \(e.message)")
        }
    }
}

extension Dataset {
    /// Characters of each row's prompt and completion through `template` (what `stats` and `histogram` measure without a tokenizer).
    public func characterLengths(template: PromptTemplate) throws -> [Int] {
        try rows.enumerated().map { i, row in
            let (p, c) = try template.render(row, index: i, source: source)
            return (p + c).count
        }
    }
}

/// Lengths summarised: min, median, mean, 95th percentile, max.
public struct LengthStats: Sendable, Equatable {
    public let min: Int, median: Double, mean: Double, p95: Double, max: Int

    public init(_ values: [Int]) {
        let s = values.sorted()
        func quantile(_ q: Double) -> Double {
            guard !s.isEmpty else { return 0 }
            let pos = q * Double(s.count - 1), lo = Int(pos), hi = Swift.min(lo + 1, s.count - 1)
            return Double(s[lo]) + (pos - Double(lo)) * Double(s[hi] - s[lo])
        }
        min = s.first ?? 0
        max = s.last ?? 0
        median = quantile(0.5)
        p95 = quantile(0.95)
        mean = s.isEmpty ? 0 : Double(s.reduce(0, +)) / Double(s.count)
    }

    /// `bins` equal-width bins from min to max: (lower edges, counts).
    public static func histogram(_ values: [Int], bins: Int) -> (edges: [Double], counts: [Int]) {
        guard let lo = values.min(), let hi = values.max(), bins > 0 else { return ([], []) }
        let width = Swift.max(1, Double(hi - lo + 1) / Double(bins))
        var counts = [Int](repeating: 0, count: bins)
        for v in values { counts[Swift.min(bins - 1, Int(Double(v - lo) / width))] += 1 }
        return ((0..<bins).map { Double(lo) + Double($0) * width }, counts)
    }
}

extension TokenizedExample {
    /// The example's tokens with the trained ones marked: `[piece]` in plain text, or coloured
    /// (green) for a terminal; masked tokens are shown as they are.
    public func preview(_ tokenizer: Tokenizer, color: Bool) -> String {
        let pieces = tokenizer.pieces(ids: ids)
        var out = ""
        for (k, piece) in pieces.enumerated() {
            let shown = piece.replacingOccurrences(of: "\n", with: "↵\n")
            if labels[k] == TokenizedDataset.ignore {
                out += shown
            } else {
                out += color ? "\u{1B}[42;30m" + shown + "\u{1B}[0m" : "[" + shown + "]"
            }
        }
        return out
    }
}
