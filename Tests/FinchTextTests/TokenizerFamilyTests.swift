import Foundation
import Testing
@testable import FinchText

/// Tokenizers in each family's configuration, trained and run by the `tokenizers` package
/// (scripts/reference/make_tokenizer_families.py): Finch must give the same ids and the same
/// decoded text on every document of the 1.1 MB corpus and on the short edge cases.
struct TokenizerFamilyTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/tokenizers")
    static let corpus: [String] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("FinchModelTests/Fixtures/corpus.jsonl")
        return try! String(contentsOf: url, encoding: .utf8).split(separator: "\n").map { line in
            (try! JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any])["text"] as! String
        }
    }()

    static func fnv(_ bytes: some Sequence<UInt8>) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        let hex = String(h, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    @Test(arguments: ["llama3", "qwen2", "sentencepiece", "metaspace", "normalized"])
    func idsAndDecodesMatchTheReference(_ name: String) throws {
        let tok = try Tokenizer(jsonFile: Self.fixtures.appendingPathComponent("\(name)/tokenizer.json").path)
        let rows = try String(contentsOf: Self.fixtures.appendingPathComponent("\(name).ids.jsonl"), encoding: .utf8)
            .split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        #expect(rows.count > Self.corpus.count)
        var idMismatches: [String] = []
        var decodeMismatches: [String] = []
        for (i, row) in rows.enumerated() {
            let text = i < Self.corpus.count ? Self.corpus[i] : row["text"] as! String
            let ids = tok.encode(text)
            let decoded = tok.decode(ids)
            if Self.fnv(ids.map(String.init).joined(separator: ",").utf8) != row["ids"] as! String {
                let expected = (row["full_ids"] as? [Int]).map { " expected \($0)" } ?? ""
                idMismatches.append("\(i) \(Tokenizer.show(String(text.prefix(60)))): \(Array(ids.prefix(40)))\(expected)")
            }
            if Self.fnv(decoded.utf8) != row["decoded"] as! String {
                let expected = (row["full_decoded"] as? String).map { " expected \(Tokenizer.show($0))" } ?? ""
                decodeMismatches.append("\(i): \(Tokenizer.show(String(decoded.prefix(60))))\(expected)")
            }
        }
        #expect(idMismatches.isEmpty, "\(name): \(idMismatches.count) of \(rows.count) differ in ids: \(idMismatches.prefix(4).joined(separator: "\n"))")
        #expect(decodeMismatches.isEmpty, "\(name): \(decodeMismatches.count) differ when decoded: \(decodeMismatches.prefix(4).joined(separator: "\n"))")
    }

    @Test(arguments: ["llama3", "qwen2", "sentencepiece", "metaspace", "normalized"])
    func savedTokenizerJSONEncodesTheSame(_ name: String) throws {
        let tok = try Tokenizer(jsonFile: Self.fixtures.appendingPathComponent("\(name)/tokenizer.json").path)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("finch-tok-\(name)-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try tok.save(directory: dir)
        let back = try Tokenizer(jsonFile: dir + "/tokenizer.json")
        for text in Self.corpus.prefix(40) { #expect(back.encode(text) == tok.encode(text)) }
    }

    @Test func regexMatchesLikeOniguruma() throws {
        let r = try Regex(PreTokenizer.llama3Pattern)
        #expect(r.matches(in: "I'LL see 12345 you\n\n  there!!\n") == ["I", "'LL", " see", " ", "123", "45", " you", "\n\n", " ", " there", "!!\n"])
        #expect(try Regex(#"a{2,3}?b|(?:x|y)+"#).matches(in: "aaab xyx") == ["aaab", "xyx"])
        #expect(try Regex(#"\s+(?!\S)|\s+"#).matches(in: "a   b") == ["  ", " "])
        for bad in ["(a", "a)", "[a", "(?<=a)b", "\\p{Nope}", "(a*)*", "x{3,1}"] {
            #expect(throws: RegexError.self) { try Regex(bad) }
        }
    }
}

extension TokenizerFamilyTests {
    /// GGUF keeps SentencePiece models as tokens, scores and types (llama.cpp's form); the scores Finch
    /// writes must bring back the same merges, so the tokenizer read from them encodes the same.
    @Test func sentencePieceScoresReproduceTheMerges() throws {
        let tok = try Tokenizer(jsonFile: Self.fixtures.appendingPathComponent("sentencepiece/tokenizer.json").path)
        let back = try Tokenizer(sentencePiece: tok.tokens, scores: tok.sentencePieceScores, types: tok.tokenTypes,
                                 bosId: 1, eosId: 2, unknownId: 0, padId: nil, addBOS: true, addEOS: false, addSpacePrefix: tok.addsSpacePrefix,
                                 chatTemplate: nil, source: "test")
        var same = 0
        for text in Self.corpus.prefix(300) where back.encode(text) == tok.encode(text) && back.decode(back.encode(text)) == tok.decode(tok.encode(text)) { same += 1 }
        #expect(same == 300)
    }
}

extension TokenizerFamilyTests {
    @Test(.enabled(if: ProcessInfo.processInfo.environment["FINCH_TOKENIZER_SPEED"] != nil))
    func speedByHand() throws {
        for name in ["llama3", "qwen2", "sentencepiece"] {
            let tok = try Tokenizer(jsonFile: Self.fixtures.appendingPathComponent("\(name)/tokenizer.json").path)
            let bytes = Double(Self.corpus.reduce(0) { $0 + $1.utf8.count })
            for _ in 0..<3 {
                let t = Date()
                for d in Self.corpus { _ = tok.encode(d) }
                print("\(name) finch \(bytes / Date().timeIntervalSince(t) / 1e6) MB/s")
            }
        }
    }
}
