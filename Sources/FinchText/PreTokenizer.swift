/// How text is cut into pieces before BPE, named as GGUF's `tokenizer.ggml.pre` names them.
public enum PreTokenizer: String, Sendable, CaseIterable {
    /// GPT-2's pattern: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
    case gpt2 = "gpt2"
    /// SmolLM: every digit is a piece of its own first (\p{N}), then GPT-2's pattern.
    case smollm = "smollm"

    /// The pieces of `text`, as ranges of its unicode scalars.
    public func split(_ scalars: [Unicode.Scalar]) -> [Range<Int>] {
        var out: [Range<Int>] = []
        out.reserveCapacity(scalars.count / 3 + 1)
        switch self {
        case .gpt2:
            GPT2Pattern.split(scalars, 0..<scalars.count, into: &out)
        case .smollm:
            var start = 0
            for (i, s) in scalars.enumerated() where CharacterClass.isNumber(s) {
                if start < i { GPT2Pattern.split(scalars, start..<i, into: &out) }
                out.append(i..<(i + 1))
                start = i + 1
            }
            if start < scalars.count { GPT2Pattern.split(scalars, start..<scalars.count, into: &out) }
        }
        return out
    }
}

/// Unicode classes as the reference's regular expressions see them.
enum CharacterClass {
    /// \p{L}
    @inline(__always) static func isLetter(_ s: Unicode.Scalar) -> Bool {
        if s.value < 0x80 { return (s.value | 0x20) >= 0x61 && (s.value | 0x20) <= 0x7A }
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return false
        }
    }

    /// \p{N}
    @inline(__always) static func isNumber(_ s: Unicode.Scalar) -> Bool {
        if s.value < 0x80 { return s.value >= 0x30 && s.value <= 0x39 }
        switch s.properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: return true
        default: return false
        }
    }

    /// \s
    @inline(__always) static func isSpace(_ s: Unicode.Scalar) -> Bool {
        if s.value < 0x80 { return s.value == 0x20 || (s.value >= 0x09 && s.value <= 0x0D) }
        return s.properties.isWhitespace
    }
}

/// GPT-2's pre-tokenizer pattern, matched by hand (first alternative that matches wins, as in the regex).
enum GPT2Pattern {
    static func split(_ s: [Unicode.Scalar], _ range: Range<Int>, into out: inout [Range<Int>]) {
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
    static func match(_ s: [Unicode.Scalar], _ i: Int, _ end: Int) -> Int {
        let c = s[i]
        // 's 't 're 've 'm 'll 'd
        if c == "'", i + 1 < end {
            let d = s[i + 1]
            if d == "s" || d == "t" || d == "m" || d == "d" { return 2 }
            if i + 2 < end {
                let e = s[i + 2]
                if (d == "r" && e == "e") || (d == "v" && e == "e") || (d == "l" && e == "l") { return 3 }
            }
        }
        // An optional space before a letter, number or other run.
        var j = i
        if c == " ", i + 1 < end { j = i + 1 }
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
