/// How text is cut into pieces before BPE (tokenizer.json's "pre_tokenizer").
/// Each step cuts every piece the previous step left; some also rewrite the text
/// (Metaspace turns spaces into "▁", ByteLevel may add a leading space).
public indirect enum PreTokenizer: Sendable {
    /// GPT-2's byte-level step: optionally a space in front, optionally GPT-2's pattern; BPE then sees bytes.
    case byteLevel(addPrefixSpace: Bool, useRegex: Bool)
    /// Cuts at a pattern's matches, keeping them as `behavior` says; `invert` swaps matches and gaps.
    case split(TextPattern, behavior: SplitBehavior, invert: Bool)
    /// Numbers apart from the rest: each digit alone, or runs of digits.
    case digits(individual: Bool)
    /// Spaces become `replacement` (SentencePiece's "▁"), one is put in front as the scheme says, and the text is cut before each.
    case metaspace(replacement: UInt32, prependScheme: PrependScheme, split: Bool)
    /// Cut at whitespace, which is dropped.
    case whitespaceSplit
    case sequence([PreTokenizer])

    /// GPT-2's pattern, run by the hand-written matcher below.
    public static let gpt2 = PreTokenizer.byteLevel(addPrefixSpace: false, useRegex: true)
    /// SmolLM2's: every digit alone, then GPT-2's pattern.
    public static let smollm = PreTokenizer.sequence([.digits(individual: true), .gpt2])

    public static let gpt2Pattern = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
    /// Llama 3's pattern (tiktoken's cl100k).
    public static let llama3Pattern = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    /// Qwen2's: Llama 3's with single digits.
    public static let qwen2Pattern = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    /// A byte-level split by a pattern, then bytes (how Llama 3 and Qwen2 describe theirs).
    public static func byteLevelSplit(_ pattern: String) throws -> PreTokenizer {
        .sequence([.split(.regex(try Regex(pattern)), behavior: .isolated, invert: false), .byteLevel(addPrefixSpace: false, useRegex: false)])
    }

    /// The pre-tokenizer a GGUF `tokenizer.ggml.pre` name stands for, as llama.cpp maps the names.
    public static func named(_ name: String) throws -> PreTokenizer? {
        switch name {
        case "gpt2", "gpt-2", "default", "phi-2", "roberta-bpe", "mpt", "olmo", "jina-es", "jina-de": return .gpt2
        case "smollm", "starcoder", "refact", "command-r", "codeshell", "exaone": return .smollm
        case "llama3", "llama-v3", "llama-bpe", "falcon3", "pixtral", "dbrx", "smaug-bpe", "chatglm-bpe": return try byteLevelSplit(llama3Pattern)
        case "qwen2", "deepseek-r1-qwen", "megrez", "stablelm2", "hunyuan": return try byteLevelSplit(qwen2Pattern)
        default: return nil
        }
    }

    /// The names `named` knows, for messages.
    public static let knownNames = ["gpt2", "gpt-2", "smollm", "llama-bpe", "llama3", "qwen2", "deepseek-r1-qwen", "stablelm2", "starcoder", "phi-2", "..."]

    /// The name GGUF files use for this pre-tokenizer, when it is one llama.cpp knows.
    public var ggufName: String? {
        switch self {
        case .byteLevel(false, true): return "gpt-2"
        case .sequence(let steps):
            if steps.count == 2, case .digits(true) = steps[0], case .byteLevel(false, true) = steps[1] { return "smollm" }
            if steps.count == 2, case .split(.regex(let r), .isolated, false) = steps[0], case .byteLevel(false, false) = steps[1] {
                if r.pattern == PreTokenizer.llama3Pattern { return "llama-bpe" }
                if r.pattern == PreTokenizer.qwen2Pattern { return "qwen2" }
            }
            return nil
        default: return nil
        }
    }

    /// Whether BPE sees the pieces' bytes (a ByteLevel step is present) rather than their characters.
    public var isByteLevel: Bool {
        switch self {
        case .byteLevel: return true
        case .sequence(let steps): return steps.contains(where: \.isByteLevel)
        default: return false
        }
    }

    /// A short description for the REPL.
    public var summary: String {
        if case .byteLevel(false, true) = self { return "gpt2" }
        if let n = ggufName { return n }
        switch self {
        case .byteLevel(let prefix, let regex): return "ByteLevel(\(regex ? "GPT-2 pattern" : "no pattern")\(prefix ? ", prefix space" : ""))"
        case .split(let p, let behavior, _):
            if case .regex(let r) = p { return "Split(\(Tokenizer.show(r.pattern)), \(behavior.rawValue))" }
            if case .string(let s) = p { return "Split(\(Tokenizer.show(s)), \(behavior.rawValue))" }
            return "Split"
        case .digits(let individual): return individual ? "Digits(individual)" : "Digits"
        case .metaspace(_, let scheme, let split): return "Metaspace(\(scheme.rawValue)\(split ? ", split" : ""))"
        case .whitespaceSplit: return "WhitespaceSplit"
        case .sequence(let steps): return steps.map(\.summary).joined(separator: " + ")
        }
    }

    /// The pieces of `text`, as ranges of its unicode scalars (the hand-matched GPT-2 and SmolLM paths; `split` in general).
    public func split(_ scalars: [Unicode.Scalar]) -> [Range<Int>] {
        var buffer = scalars.map(\.value)
        var pieces = [0..<buffer.count]
        var stack: [Regex.Backtrack] = []
        apply(&buffer, &pieces, atTextStart: true, stack: &stack)
        return pieces
    }

    /// Cuts each of `pieces` (ranges of `text`), rewriting `text` where the step changes characters.
    func apply(_ text: inout [UInt32], _ pieces: inout [Range<Int>], atTextStart: Bool, stack: inout [Regex.Backtrack]) {
        switch self {
        case .sequence(let steps):
            for s in steps { s.apply(&text, &pieces, atTextStart: atTextStart, stack: &stack) }
        case .byteLevel(let addPrefixSpace, let useRegex):
            if addPrefixSpace { rewrite(&text, &pieces) { piece, _ in piece.first == 0x20 ? piece : [0x20] + piece } }
            if useRegex {
                var out: [Range<Int>] = []
                out.reserveCapacity(text.count / 3 + 1)
                text.withUnsafeBufferPointer { s in for p in pieces where !p.isEmpty { GPT2Pattern.split(s, p, into: &out) } }
                pieces = out
            }
        case .digits(let individual):
            var out: [Range<Int>] = []
            text.withUnsafeBufferPointer { s in
                for p in pieces {
                    var start = p.lowerBound
                    var i = p.lowerBound
                    while i < p.upperBound {
                        guard CharacterClass.isNumber(s[i]) else { i += 1; continue }
                        var j = i + 1
                        if !individual { while j < p.upperBound, CharacterClass.isNumber(s[j]) { j += 1 } }
                        if start < i { out.append(start..<i) }
                        out.append(i..<j)
                        start = j
                        i = j
                    }
                    if start < p.upperBound { out.append(start..<p.upperBound) }
                }
            }
            pieces = out
        case .split(let pattern, let behavior, let invert):
            var out: [Range<Int>] = []
            var found: [Range<Int>] = []
            text.withUnsafeBufferPointer { s in
                for p in pieces where !p.isEmpty {
                    found.removeAll(keepingCapacity: true)
                    pattern.ranges(in: s, p, stack: &stack, into: &found)
                    behavior.cut(p, matches: found, invert: invert, into: &out)
                }
            }
            pieces = out
        case .whitespaceSplit:
            var out: [Range<Int>] = []
            text.withUnsafeBufferPointer { s in
                for p in pieces {
                    var i = p.lowerBound
                    while i < p.upperBound {
                        while i < p.upperBound, CharacterClass.isSpace(s[i]) { i += 1 }
                        let start = i
                        while i < p.upperBound, !CharacterClass.isSpace(s[i]) { i += 1 }
                        if start < i { out.append(start..<i) }
                    }
                }
            }
            pieces = out
        case .metaspace(let replacement, let scheme, let split):
            rewrite(&text, &pieces) { piece, start in
                var out = piece.map { $0 == 0x20 ? replacement : $0 }
                let prepend = scheme == .always || (scheme == .first && atTextStart && start == 0)
                if prepend, out.first != replacement { out.insert(replacement, at: 0) }
                return out
            }
            if split {
                var out: [Range<Int>] = []
                text.withUnsafeBufferPointer { s in
                    for p in pieces where !p.isEmpty {
                        let found = p.filter { s[$0] == replacement }.map { $0..<($0 + 1) }
                        SplitBehavior.mergedWithNext.cut(p, matches: found, invert: false, into: &out)
                    }
                }
                pieces = out
            }
        }
    }

    /// Replaces each piece's characters by `transform(piece, original start)`, rebuilding the text and ranges.
    private func rewrite(_ text: inout [UInt32], _ pieces: inout [Range<Int>], _ transform: ([UInt32], Int) -> [UInt32]) {
        var newText: [UInt32] = []
        newText.reserveCapacity(text.count + pieces.count)
        var newPieces: [Range<Int>] = []
        newPieces.reserveCapacity(pieces.count)
        for p in pieces {
            let t = transform(Array(text[p]), p.lowerBound)
            newPieces.append(newText.count..<(newText.count + t.count))
            newText += t
        }
        text = newText
        pieces = newPieces
    }
}

/// Where a leading "▁" goes: before every piece, only at the start of the text, or nowhere.
public enum PrependScheme: String, Sendable { case always, first, never }

/// What a split keeps of its matches (the `tokenizers` package's SplitDelimiterBehavior).
public enum SplitBehavior: String, Sendable {
    case removed = "Removed", isolated = "Isolated", mergedWithPrevious = "MergedWithPrevious"
    case mergedWithNext = "MergedWithNext", contiguous = "Contiguous"

    /// Cuts `piece` given its matches (sorted, non-overlapping), appending the resulting ranges.
    func cut(_ piece: Range<Int>, matches: [Range<Int>], invert: Bool, into out: inout [Range<Int>]) {
        // Every part of the piece, in order, flagged as match or gap.
        var parts: [(Range<Int>, Bool)] = []
        var at = piece.lowerBound
        for m in matches {
            if at < m.lowerBound { parts.append((at..<m.lowerBound, invert)) }
            parts.append((m, !invert))
            at = m.upperBound
        }
        if at < piece.upperBound { parts.append((at..<piece.upperBound, invert)) }
        switch self {
        case .removed: for (r, isMatch) in parts where !isMatch { out.append(r) }
        case .isolated: for (r, _) in parts { out.append(r) }
        case .contiguous:
            var previous: Bool?
            for (r, isMatch) in parts {
                if previous == isMatch, let last = out.last { out[out.count - 1] = last.lowerBound..<r.upperBound } else { out.append(r) }
                previous = isMatch
            }
        case .mergedWithPrevious:
            var previousMatch = false
            let first = out.count
            for (r, isMatch) in parts {
                if isMatch && !previousMatch && out.count > first { out[out.count - 1] = out[out.count - 1].lowerBound..<r.upperBound } else { out.append(r) }
                previousMatch = isMatch
            }
        case .mergedWithNext:
            var merged: [Range<Int>] = []
            var previousMatch = false
            for (r, isMatch) in parts.reversed() {
                if isMatch && !previousMatch && !merged.isEmpty { merged[merged.count - 1] = r.lowerBound..<merged[merged.count - 1].upperBound } else { merged.append(r) }
                previousMatch = isMatch
            }
            out += merged.reversed()
        }
    }
}

/// Unicode classes as the reference's regular expressions see them.
enum CharacterClass {
    /// \p{L}
    @inline(__always) static func isLetter(_ v: UInt32) -> Bool {
        if v < 0x80 { return (v | 0x20) >= 0x61 && (v | 0x20) <= 0x7A }
        return UnicodeTable.lookup(v) & 0x1F <= 4
    }

    /// \p{N}
    @inline(__always) static func isNumber(_ v: UInt32) -> Bool {
        if v < 0x80 { return v >= 0x30 && v <= 0x39 }
        let c = UnicodeTable.lookup(v) & 0x1F
        return c >= 8 && c <= 10
    }

    /// \s
    @inline(__always) static func isSpace(_ v: UInt32) -> Bool {
        if v < 0x80 { return v == 0x20 || (v >= 0x09 && v <= 0x0D) }
        return UnicodeTable.lookup(v) & 0x80 != 0
    }
}

/// GPT-2's pre-tokenizer pattern, matched by hand (first alternative that matches wins, as in the regex).
enum GPT2Pattern {
    static func split(_ s: UnsafeBufferPointer<UInt32>, _ range: Range<Int>, into out: inout [Range<Int>]) {
        var i = range.lowerBound
        let end = range.upperBound
        while i < end {
            let n = match(s, i, end)
            out.append(i..<(i + n))
            i += n
        }
    }

    /// Length of the match starting at i (always at least 1).
    @inline(__always)
    static func match(_ s: UnsafeBufferPointer<UInt32>, _ i: Int, _ end: Int) -> Int {
        let c = s[i]
        let quote: UInt32 = 0x27
        // 's 't 're 've 'm 'll 'd
        if c == quote, i + 1 < end {
            let d = s[i + 1]
            if d == 0x73 || d == 0x74 || d == 0x6D || d == 0x64 { return 2 }
            if i + 2 < end {
                let e = s[i + 2]
                if (d == 0x72 && e == 0x65) || (d == 0x76 && e == 0x65) || (d == 0x6C && e == 0x6C) { return 3 }
            }
        }
        // An optional space before a letter, number or other run.
        var j = i
        if c == 0x20, i + 1 < end { j = i + 1 }
        let first = s[j]
        if CharacterClass.isLetter(first) {
            var k = j + 1
            while k < end, CharacterClass.isLetter(s[k]) { k += 1 }
            return k - i
        }
        if CharacterClass.isNumber(first) {
            var k = j + 1
            while k < end, CharacterClass.isNumber(s[k]) { k += 1 }
            return k - i
        }
        if !CharacterClass.isSpace(first) {
            var k = j + 1
            while k < end, !CharacterClass.isSpace(s[k]), !CharacterClass.isLetter(s[k]), !CharacterClass.isNumber(s[k]) { k += 1 }
            return k - i
        }
        // Whitespace: \s+(?!\S) keeps the last space for the next word; \s+ otherwise.
        var k = i + 1
        while k < end, CharacterClass.isSpace(s[k]) { k += 1 }
        if k < end, k - i > 1 { return k - i - 1 }
        return k - i
    }
}
