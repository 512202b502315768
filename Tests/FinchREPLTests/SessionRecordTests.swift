import FinchLang
import FinchLib
import FinchNotebook
import FinchREPL
import Foundation
import Testing

/// :save writes the session as a Markdown notebook.
@Suite struct SessionRecordTests {
    @Test func markdownHasCellsAndOutputs() {
        var record = SessionRecord()
        record.append(code: "x = 2", output: "")
        record.append(code: "print(x * 3)", output: "6\n")
        record.append(code: "s = \"```\"", output: "")
        let md = record.markdown()
        #expect(md == """
        # Finch session

        ```finch
        x = 2
        ```

        ```finch
        print(x * 3)
        ```
        <!-- output -->
        ```
        6
        ```

        ````finch
        s = "```"
        ````

        """)
    }

    @Test func saveIsAtomicAndReadable() throws {
        var record = SessionRecord()
        record.append(code: "1 + 1", output: "2\n")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("finch-session-\(UUID().uuidString).md").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try record.save(to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8).contains("<!-- output -->\n```\n2\n```"))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: FileManager.default.temporaryDirectory.path).filter { $0.contains(".tmp-") && $0.contains("finch-session") }
        #expect(leftovers.isEmpty)
    }

    /// What :save writes, `finch test` replays and finds equal: an entry that failed is saved
    /// with the raises option, so its error is the expected output.
    @Test func aSavedSessionReplaysToTheSameOutputs() throws {
        var record = SessionRecord()
        record.append(code: "x = 21", output: "")
        record.append(code: "x * 2", output: "42\n")
        record.append(code: "nope", output: "s.md:1:1: error: undefined variable 'nope'\n", failed: true)
        let md = record.markdown()
        #expect(md.contains("<!-- cell: raises -->\n```finch\nnope\n```"))
        let nb = try Notebook(parsing: md, path: "s.md")
        let results = NotebookReplay(notebook: nb, interpreter: try FinchLibrary.makeInterpreter()).run()
        #expect(results.count == 3 && results.allSatisfy { $0.failure == nil })
        #expect(results[1].output?.text == "42\n" && nb.cells[1].recorded?.text == "42\n")
    }
}
