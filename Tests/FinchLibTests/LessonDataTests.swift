import FinchLang
import FinchLib
import Foundation
import Testing

/// The lessons' data in Notebooks/data: what the issue asks of each file.
@Suite struct LessonDataTests {
    static let data = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Notebooks/data")
    static let path = data.appendingPathComponent("finch_docs.jsonl").path

    func run(_ code: String) throws -> String { try runFinch(code).output }

    @Test func instructionsInTheAlpacaFormat() throws {
        let out = try run("""
        ds = load_dataset("\(Self.data.path)/instructions.jsonl")
        print(len(ds), ds.kind, len(ds.filter(fn(r) { r.input != "" })), len(ds.filter(fn(r) { r.input == "" })), len(ds.dedupe()))
        print(ds.format(0).prompt.contains("### Instruction:"))
        """)
        let n = out.split(separator: "\n")[0].split(separator: " ")
        #expect(Int(n[0])! >= 200 && n[1] == "instruction" && Int(n[2])! > 0 && Int(n[3])! > 0 && n[4] == n[0])
        #expect(out.hasSuffix("true\n"))
    }

    @Test func multipleChoiceInTheARCSchema() throws {
        let out = try run("""
        ds = load_dataset("\(Self.data.path)/science_mc.jsonl")
        bad = ds.filter(fn(r) { len(r.choices.text) != len(r.choices.label) or not r.choices.label.contains(r.answerKey) })
        keys = {}
        for k in ds["answerKey"] { keys[k] = (keys.get(k) or 0) + 1 }
        print(len(ds), len(bad), keys)
        """)
        let first = out.split(separator: " ")
        #expect(Int(first[0])! >= 100 && first[1] == "0", "\(out)")
        #expect(out.contains("\"A\": 26") && out.contains("\"D\": 25"), "answers spread over the letters: \(out)")
    }

    @Test func sizeKindOffTopicShareAndCoverage() throws {
        let out = try run("""
        ds = load_dataset("\(Self.path)")
        off = ds.filter(fn(r) { r.answer == "Let's keep the discussion relevant to Finch." })
        print(len(ds), ds.kind, len(off), len(ds.dedupe(by: ["question"])))
        names = {}
        for n in natives() {
            name = n.name
            if n.kind != "function" { name = n.type + "." + n.name }
            names[name] = true
        }
        gone = []
        frozen = load_dataset("\(Self.data.path)/finch_docs_registry.jsonl")
        for q in frozen["question"] {
            if q.starts_with("What does ") and q.ends_with(" do in Finch?") {
                name = q.replace("What does ", "").replace(" do in Finch?", "")
                if not names.get(name) { gone.append(name) }
            }
        }
        print(gone, len(frozen), len(ds.filter(fn(r) { r.question.starts_with("What does ") })))
        """)
        let parts = out.split(separator: "\n")
        let numbers = parts[0].split(separator: " ")
        let rows = Int(numbers[0])!, offTopic = Int(numbers[2])!, distinct = Int(numbers[3])!
        #expect(rows >= 600, "at least 600 rows")
        #expect(numbers[1] == "question_answer")
        #expect(distinct == rows, "no question twice")
        let share = Double(offTopic) / Double(rows)
        #expect(share > 0.04 && share < 0.08, "about 5% off-topic, got \(share)")
        // The lessons train on a frozen copy of the registry's rows; a native it teaches must still exist.
        #expect(parts[1].hasPrefix("[] "), "natives the frozen lesson data teaches but Finch no longer has (refresh with Notebooks/data/snapshot_natives.finch and re-record the lessons): \(parts[1])")
        #expect(Int(parts[1].split(separator: " ")[1])! >= 400, "the frozen copy covers the registry")
    }

    @Test func storiesCorpusIsOverAMegabyteAndTheSameEveryRun() throws {
        let path = Self.data.appendingPathComponent("stories.txt").path
        let committed = try String(contentsOfFile: path, encoding: .utf8)
        #expect(committed.utf8.count >= 1_000_000)
        let lines = committed.split(separator: "\n")
        #expect(lines.count > 3000 && lines.allSatisfy { $0.hasSuffix(".") || $0.hasSuffix("!\"") || $0.hasSuffix(".\"") })
        // The generator again, into a temporary file: the same bytes.
        let temp = FileManager.default.temporaryDirectory.appendingPathComponent("finch-stories-\(UUID().uuidString).txt").path
        defer { try? FileManager.default.removeItem(atPath: temp) }
        var script = try String(contentsOfFile: Self.data.appendingPathComponent("make_stories.finch").path, encoding: .utf8)
        script = script.replacingOccurrences(of: "\"Notebooks/data/stories.txt\"", with: "\"\(temp)\"")
        _ = try run(script)
        #expect(try String(contentsOfFile: temp, encoding: .utf8) == committed)
    }
}
