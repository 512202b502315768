import FinchText
import Testing

/// The byte-level BPE core on small, hand-checked vocabularies.
@Suite struct TokenizerTests {
    /// The 256 byte tokens plus merges building "hello" and " world".
    func tiny() throws -> Tokenizer {
        var tokens = ByteLevel.byteToScalar.map { String($0) }
        let merges = ["h e", "l l", "he ll", "hell o", "Ġ w", "o r", "Ġw or", "Ġwor l", "Ġworl d"]
        for m in merges { tokens.append(m.split(separator: " ").joined()) }
        tokens.append("<|end|>")
        return try Tokenizer(tokens: tokens, merges: merges, specialIds: [tokens.count - 1], eosId: tokens.count - 1)
    }

    @Test func byteLevelMapIsGPT2s() {
        #expect(ByteLevel.byteToScalar[0x20] == "Ġ")
        #expect(ByteLevel.byteToScalar[0x0A] == "Ċ")
        #expect(ByteLevel.byteToScalar[0x41] == "A")
        #expect(Set(ByteLevel.byteToScalar).count == 256)
        #expect(ByteLevel.bytes(of: ByteLevel.encode("héllo 🐦")) == Array("héllo 🐦".utf8))
    }

    @Test func mergesApplyByRank() throws {
        let t = try tiny()
        let ids = t.encode("hello world", addSpecial: false)
        #expect(ids.map { t.tokens[$0] } == ["hello", "Ġworld"])
        #expect(t.decode(ids) == "hello world")
        #expect(t.encode("hello<|end|>", addSpecial: false).last == t.eosId)
    }

    @Test func gpt2PatternSplitsLikeTheRegex() {
        func pieces(_ s: String, _ p: PreTokenizer = .gpt2) -> [String] {
            let scalars = Array(s.unicodeScalars)
            return p.split(scalars).map { r in String(String.UnicodeScalarView(scalars[r])) }
        }
        #expect(pieces("Hello, world!") == ["Hello", ",", " world", "!"])
        #expect(pieces("I'm they've DON'T") == ["I", "'m", " they", "'ve", " DON", "'", "T"])
        #expect(pieces("a  b") == ["a", " ", " b"])
        #expect(pieces("x   \n") == ["x", "   \n"])
        #expect(pieces("2024-11-25") == ["2024", "-", "11", "-", "25"])
        #expect(pieces("2024-11-25", .smollm) == ["2", "0", "2", "4", "-", "1", "1", "-", "2", "5"])
        #expect(pieces("a 12", .smollm) == ["a", " ", "1", "2"])
    }

    @Test func badFilesSayWhatIsWrong() {
        #expect(throws: TokenizerError("t: token 1 \"a\" duplicates token 0")) { try Tokenizer(tokens: ["a", "a"], merges: [], source: "t") }
        #expect(throws: TokenizerError("t: merge 0 names unknown token \"x\"")) { try Tokenizer(tokens: ["a", "b", "ab"], merges: ["x b"], source: "t") }
        #expect(throws: TokenizerError("t: merge 0 makes \"ba\", which is not in the vocabulary")) {
            try Tokenizer(tokens: ["a", "b", "ab"], merges: ["b a"], source: "t")
        }
        #expect(throws: TokenizerError("t: merge 0 \"ab\" is not two tokens separated by one space")) {
            try Tokenizer(tokens: ["a", "b", "ab"], merges: ["ab"], source: "t")
        }
        #expect(throws: TokenizerError("t: the eos token id 9 is out of range for 2 tokens")) {
            try Tokenizer(tokens: ["a", "b"], merges: [], eosId: 9, source: "t")
        }
    }
}
