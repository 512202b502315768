/// A token matched in the text before anything else (tokenizer.json's "added_tokens"):
/// special tokens like <|im_start|>, and words a model was taught whole.
public struct AddedToken: Sendable, Equatable {
    public var id: Int
    public var content: String
    /// Skipped when decoding with skip_special.
    public var special: Bool
    /// Also takes the whitespace before it / after it.
    public var lstrip: Bool
    public var rstrip: Bool
    /// Matches only where it is not part of a longer word.
    public var singleWord: Bool
    /// Matched in the normalized text rather than the raw text.
    public var normalized: Bool

    public init(id: Int, content: String, special: Bool = true, lstrip: Bool = false, rstrip: Bool = false,
                singleWord: Bool = false, normalized: Bool = false) {
        self.id = id
        self.content = content
        self.special = special
        self.lstrip = lstrip
        self.rstrip = rstrip
        self.singleWord = singleWord
        self.normalized = normalized
    }
}

/// Finds added tokens in text: leftmost match first, the longest there, as the reference's
/// Aho-Corasick automaton does; then single_word, lstrip and rstrip as each token asks.
struct AddedTokenMatcher: Sendable {
    let tokens: [(text: [UInt32], token: AddedToken)]
    /// ASCII scalars some token starts with (the check runs for every character of the text).
    let startsASCII: [Bool]
    let starts: Set<UInt32>

    init(_ added: [AddedToken], normalize: ((String) -> [UInt32])?) {
        tokens = added.map { t in (normalize.map { $0(t.content) } ?? t.content.unicodeScalars.map(\.value), t) }
            .filter { !$0.text.isEmpty }
            .sorted { $0.text.count > $1.text.count }
        let first = Set(tokens.map { $0.text[0] })
        starts = first
        startsASCII = (0..<128).map { first.contains(UInt32($0)) }
    }

    var isEmpty: Bool { tokens.isEmpty }

    /// Cuts `s[range]` into text gaps (token nil) and matched tokens.
    func split(_ s: UnsafeBufferPointer<UInt32>, _ range: Range<Int>) -> [(Range<Int>, AddedToken?)] {
        var out: [(Range<Int>, AddedToken?)] = []
        var gapStart = range.lowerBound
        var i = range.lowerBound
        let end = range.upperBound
        while i < end {
            let c = s[i]
            guard c < 128 ? startsASCII[Int(c)] : starts.contains(c), let (length, token) = longest(s, i, end) else { i += 1; continue }
            var lo = i, hi = i + length
            if token.singleWord {
                let before = lo > range.lowerBound && AddedTokenMatcher.isWordCharacter(s[lo - 1])
                let after = hi < end && AddedTokenMatcher.isWordCharacter(s[hi])
                if before || after { i += 1; continue }
            }
            if token.lstrip { while lo > gapStart, CharacterClass.isSpace(s[lo - 1]) { lo -= 1 } }
            if token.rstrip { while hi < end, CharacterClass.isSpace(s[hi]) { hi += 1 } }
            if gapStart < lo { out.append((gapStart..<lo, nil)) }
            out.append((lo..<hi, token))
            gapStart = hi
            i = hi
        }
        if gapStart < end { out.append((gapStart..<end, nil)) }
        return out
    }

    private func longest(_ s: UnsafeBufferPointer<UInt32>, _ i: Int, _ end: Int) -> (Int, AddedToken)? {
        for (text, token) in tokens where i + text.count <= end {
            var k = 0
            while k < text.count, s[i + k] == text[k] { k += 1 }
            if k == text.count { return (k, token) }
        }
        return nil
    }

    /// Letters, numbers and '_' (what single_word treats as part of a word).
    static func isWordCharacter(_ v: UInt32) -> Bool {
        v == 0x5F || CharacterClass.isLetter(v) || CharacterClass.isNumber(v) || (UnicodeTable.lookup(v) & 0x1F) <= 7
    }
}
