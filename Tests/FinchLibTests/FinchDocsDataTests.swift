import FinchLang
import FinchLib
import Foundation
import Testing

/// Notebooks/data/finch_docs.jsonl: the lessons' question/answer data about Finch.
@Suite struct FinchDocsDataTests {
    static let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Notebooks/data/finch_docs.jsonl").path

    @Test func sizeKindOffTopicShareAndCoverage() throws {
        let interpreter = try FinchLibrary.makeInterpreter()
        var out = ""
        interpreter.output = { out += $0 }
        try interpreter.run("""
        ds = load_dataset("\(Self.path)")
        off = ds.filter(fn(r) { r.answer == "Let's keep the discussion relevant to Finch." })
        print(len(ds), ds.kind, len(off), len(ds.dedupe(by: ["question"])))
        questions = {}
        for q in ds["question"] { questions[q] = true }
        missing = []
        for n in natives() {
            if n.doc == "" or n.kind == "property" { continue }
            name = n.name
            if n.kind == "method" { name = n.type + "." + n.name }
            if not questions.get("What does " + name + " do in Finch?") { missing.append(name) }
        }
        print(missing)
        """)
        let parts = out.split(separator: "\n")
        let numbers = parts[0].split(separator: " ")
        let rows = Int(numbers[0])!, offTopic = Int(numbers[2])!, distinct = Int(numbers[3])!
        #expect(rows >= 600, "at least 600 rows")
        #expect(numbers[1] == "question_answer")
        #expect(distinct == rows, "no question twice")
        let share = Double(offTopic) / Double(rows)
        #expect(share > 0.04 && share < 0.08, "about 5% off-topic, got \(share)")
        #expect(parts[1] == "[]", "natives without generated rows (rerun Notebooks/data/make_finch_docs.finch): \(parts[1])")
    }
}
