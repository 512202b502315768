import FinchData
import Foundation
import Testing

/// One scratch directory for the test process, removed when it exits.
enum DataScratch {
    static let root: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("finch-data-tests-\(getpid())")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(at: DataScratch.root) }
        return url
    }()
}

/// Reading JSONL, JSON, CSV and text, and every kind of bad input the issue lists.
@Suite struct LoadingTests {
    /// Writes `bytes` to a fresh temporary file with `name` and returns its path.
    static func file(_ name: String, _ bytes: [UInt8]) throws -> String {
        let dir = DataScratch.root.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }
    static func file(_ name: String, _ text: String) throws -> String { try file(name, Array(text.utf8)) }

    func error(_ body: () throws -> Any) -> String {
        do { _ = try body(); return "no error" } catch { return "\(error)" }
    }

    @Test func jsonlRowsKeepTheirFieldOrder() throws {
        let path = try Self.file("qa.jsonl", "{\"question\": \"What is Finch?\", \"answer\": \"A lab.\", \"id\": 1}\n\n{\"answer\": \"é \\u00e9 \\ud83d\\ude00\", \"question\": \"Q2\"}\n")
        let ds = try Dataset.load(path)
        #expect(ds.count == 2 && ds.columns == ["question", "answer", "id"])
        #expect(ds.rows[1].map(\.name) == ["answer", "question"])
        #expect(ds.rows[1][field: "answer"] == .string("é é 😀"))
        #expect(ds.rows[0][field: "id"] == .number(1))
        #expect(ds.kind == .questionAnswer)
    }

    @Test func byteOrderMarkCRLFAndLongLines() throws {
        let long = String(repeating: "x", count: 2_000_000)
        let path = try Self.file("b.jsonl", [0xEF, 0xBB, 0xBF] + Array("{\"text\": \"a\"}\r\n{\"text\": \"\(long)\"}\r\n".utf8))
        let ds = try Dataset.load(path)
        #expect(ds.count == 2 && ds.rows[0][field: "text"] == .string("a"))
        #expect(ds.rows[1][field: "text"]?.string?.count == 2_000_000)
        #expect(try Dataset.load(try Self.file("empty.jsonl", "")).count == 0)
    }

    @Test func aMalformedLineIsNamedByLineAndColumn() throws {
        let path = try Self.file("bad.jsonl", "{\"a\": 1}\n{\"a\": 2}\n{\"a\": 3,, \"b\": 4}\n{\"a\": 5}\n[1, 2]\n")
        let message = error { try Dataset.load(path) }
        #expect(message.contains("bad.jsonl:3:9: expected a key in quotes"), "\(message)")
        #expect(message.contains("{\"a\": 3,, \"b\": 4}"), "the offending text is shown")
        let skipped = try Dataset.load(path, onError: .skip)
        #expect(skipped.count == 3 && skipped.skipped == 2 && skipped.skippedLines == [3, 5])
        #expect(error { try Dataset.load(try Self.file("arr.jsonl", "[1, 2]\n")) }.contains("arr.jsonl:1:1: each line must be a JSON object, this one is an array"))
        #expect(error { try Dataset.load(try Self.file("open.jsonl", "{\"a\": \"unclosed}\n")) }.contains("open.jsonl:1:"))
    }

    @Test func invalidUTF8IsAnErrorNotAReplacement() throws {
        let path = try Self.file("u.jsonl", Array("{\"text\": \"ok\"}\n{\"text\": \"".utf8) + [0xC3, 0x28] + Array("\"}\n".utf8))
        #expect(error { try Dataset.load(path) }.contains("u.jsonl:2:11: the string is not valid UTF-8"))
        let text = try Self.file("u.txt", Array("fine\n".utf8) + [0xFF, 0x41, 0x0A])
        #expect(error { try Dataset.load(text) }.contains("u.txt:2: the text is not valid UTF-8"))
    }

    @Test func jsonArraysOfObjects() throws {
        let ds = try Dataset.load(try Self.file("a.json", "[{\"instruction\": \"Add\", \"input\": \"2 and 3\", \"output\": \"5\"},\n {\"instruction\": \"Say hi\", \"output\": \"hi\"}]"))
        #expect(ds.count == 2 && ds.kind == .instruction)
        #expect(error { try Dataset.load(try Self.file("o.json", "{\"a\": 1}")) }.contains("must be an array of objects"))
        #expect(error { try Dataset.load(try Self.file("t.json", "[{\"a\": 1},\n {\"a\": tru}]")) }.contains("t.json:2:8: expected true"))
    }

    @Test func csvWithQuotesCommasAndLineBreaks() throws {
        let path = try Self.file("d.csv", "input,output\r\n\"a, b\",\"say \"\"hi\"\"\"\r\n\"two\nlines\",x\r\n")
        let ds = try Dataset.load(path)
        #expect(ds.count == 2 && ds.kind == .inputOutput)
        #expect(ds.rows[0][field: "input"] == .string("a, b") && ds.rows[0][field: "output"] == .string("say \"hi\""))
        #expect(ds.rows[1][field: "input"] == .string("two\nlines"))
        let bad = try Self.file("bad.csv", "a,b\n1,2\n3\n4,5\n")
        #expect(error { try Dataset.load(bad) }.contains("bad.csv:3: 1 fields, but the header has 2"))
        let skipped = try Dataset.load(bad, onError: .skip)
        #expect(skipped.count == 2 && skipped.skipped == 1 && skipped.skippedLines == [3])
        #expect(error { try Dataset.load(try Self.file("q.csv", "a\n\"open\n")) }.contains("q.csv:2: a quoted field is not closed"))
    }

    @Test func textByLineOrWhole() throws {
        let path = try Self.file("corpus.txt", "first line\r\n\nsecond line\n")
        let lines = try Dataset.load(path)
        #expect(lines.count == 2 && lines.skipped == 0 && lines.kind == .text)
        #expect(lines.rows[1][field: "text"] == .string("second line"))
        let whole = try Dataset.load(path, wholeText: true)
        #expect(whole.count == 1 && whole.rows[0][field: "text"] == .string("first line\r\n\nsecond line\n"))
        #expect(error { try Dataset.load("/no/such/file.jsonl") }.contains("/no/such/file.jsonl: cannot read the file"))
    }
}
