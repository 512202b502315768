import FinchModel
import FinchText
import Foundation
import Testing

/// SmolLM2's tokenizer, read from the GGUF, against ids from the Hugging Face
/// `tokenizers` package (scripts/reference/tokenizer_fixtures.py) on a corpus
/// of prose, code, numbers, whitespace, punctuation, other scripts and control characters.
@Suite struct SmolLM2TokenizerTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func tokenizer() throws -> Tokenizer {
        let path = ModelStore.smolLM2Path
        try #require(FileManager.default.fileExists(atPath: path), "run `make model` first: no \(path)")
        return try Tokenizer(gguf: GGUFFile(path: path))
    }

    static func lines(_ name: String) throws -> [[String: Any]] {
        let text = try String(contentsOf: fixtures.appendingPathComponent(name), encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
        }
    }

    @Test func idsMatchTheReferenceOnTheCorpus() throws {
        let tok = try Self.tokenizer()
        let corpus = try Self.lines("corpus.jsonl"), reference = try Self.lines("smollm2_ids.jsonl")
        #expect(corpus.count == reference.count)
        #expect(corpus.reduce(0) { $0 + ($1["text"] as! String).utf8.count } >= 1_000_000, "the corpus should hold at least 1 MB")
        var mismatches = 0
        for (doc, ref) in zip(corpus, reference) {
            let text = doc["text"] as! String
            let expected = (ref["ids"] as! [NSNumber]).map(\.intValue)
            let got = tok.encode(text, addSpecial: false)
            if got != expected {
                mismatches += 1
                if mismatches <= 3 {
                    let at = zip(got, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(got.count, expected.count)
                    Issue.record("document \(text.prefix(40).debugDescription): first difference at token \(at): got \(got[at..<min(at + 5, got.count)]), expected \(expected[at..<min(at + 5, expected.count)])")
                }
            }
            #expect(tok.decode(expected) == ref["decoded"] as! String, "decode differs for \(text.prefix(40).debugDescription)")
        }
        #expect(mismatches == 0, "\(mismatches) of \(corpus.count) documents differ")
    }

    @Test func metadataAndSpecials() throws {
        let tok = try Self.tokenizer()
        #expect(tok.vocabSize == 49152)
        #expect(tok.eosId == 2 && tok.bosId == 1 && !tok.addBOS)
        #expect(tok.preTokenizer.ggufName == "smollm")
        let ids = tok.encode("<|im_start|>user\nHi<|im_end|>", addSpecial: false)
        #expect(ids.first == tok.id(of: "<|im_start|>") && ids.last == tok.id(of: "<|im_end|>"))
        #expect(tok.decode(ids) == "<|im_start|>user\nHi<|im_end|>")
        #expect(tok.pieces("Hi, how are you?") == ["Hi", ",", " how", " are", " you", "?"])
    }

    @Test func decodeNeverFailsAndRoundTripsAnyText() throws {
        let tok = try Self.tokenizer()
        for text in ["", "a", "  \t\n\n   x", "🐦👩‍💻🇫🇷", "日本語のテキスト", "e\u{301}", "\u{0}\u{1}\u{7F}", String(repeating: " ", count: 300), "12345678901234567890"] {
            let ids = tok.encode(text, addSpecial: false)
            if text.unicodeScalars.allSatisfy({ $0.value >= 0x20 || $0 == "\n" || $0 == "\t" }) {
                #expect(tok.decode(ids) == text, "round trip of \(text.debugDescription)")
            }
        }
        // Any id sequence decodes: a lone continuation byte becomes U+FFFD.
        let lone = try #require(tok.id(of: String(ByteLevel.byteToScalar[0x80])))
        #expect(tok.decode([lone]) == "\u{FFFD}")
        #expect(tok.decode([-5, 999_999]) == "")
    }
}

/// tokenizer.json written from the GGUF's tokenizer reads back identical.
@Suite struct TokenizerJSONTests {
    @Test func saveAndLoadRoundTrip() throws {
        let tok = try SmolLM2TokenizerTests.tokenizer()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("finch-tokjson-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try tok.save(directory: dir)
        // The tokenizers package needs every token, special ones included, in model.vocab.
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/tokenizer.json"))) as! [String: Any]
        let vocab = (json["model"] as! [String: Any])["vocab"] as! [String: Any]
        #expect(vocab.count == 49152 && (vocab["<|im_start|>"] as? NSNumber)?.intValue == 1)
        let back = try Tokenizer(jsonFile: dir + "/tokenizer.json")
        #expect(back.vocabSize == tok.vocabSize && back.preTokenizer.ggufName == "smollm")
        #expect(back.eosId == tok.eosId && back.bosId == tok.bosId && back.chatTemplate == tok.chatTemplate)
        for doc in try SmolLM2TokenizerTests.lines("corpus.jsonl").prefix(30) {
            let text = doc["text"] as! String
            #expect(back.encode(text) == tok.encode(text))
        }
    }

    @Test func brokenTokenizerJSONSaysWhatIsWrong() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("finch-tokjson-bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("tokenizer.json").path
        func check(_ json: String, _ message: String) throws {
            try json.write(toFile: path, atomically: true, encoding: .utf8)
            do {
                _ = try Tokenizer(jsonFile: path)
                Issue.record("accepted: \(json)")
            } catch let e as TokenizerError {
                #expect(e.message.contains(message), "\(e.message)")
            }
        }
        let pre = #""pre_tokenizer": {"type": "ByteLevel"}"#
        try check(#"{"model": {"type": "Unigram", "vocab": {}}}"#, "model type Unigram is not supported")
        try check(#"{"model": {"vocab": {"a": 0, "b": 0}}, \#(pre)}"#, "both have id 0")
        try check(#"{"model": {"vocab": {"a": 0, "c": 2}}, "added_tokens": [{"id": 2, "content": "c"}], \#(pre)}"#, "no token has id 1")
        try check(#"{"model": {"vocab": {"a": 0, "c": 2}}, \#(pre)}"#, "vocabulary entry \"c\" has id 2, beyond the 2 tokens the file holds")
        try check(#"{"model": {"vocab": {"a": 0, "b": 4000000000}}, \#(pre)}"#, "has id 4000000000, beyond the 2 tokens")
        try check(#"{"model": {"vocab": {"a": 0}}, "added_tokens": [{"id": 1e300, "content": "x"}], \#(pre)}"#, "added token \"x\"")
        try check(#"{"model": {"vocab": {"a": 0, "b": 1}, "merges": ["a x"]}, \#(pre)}"#, "merge 0 names unknown token \"x\"")
        try check(#"{"model": {"vocab": {"a": 0}}, "pre_tokenizer": {"type": "Whitespace"}}"#, "pre-tokenizer Whitespace is not supported")
    }
}
