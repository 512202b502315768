import FinchLang
import FinchLib
@testable import FinchNotebook
import Foundation
import Testing

/// Parsing, writing back byte for byte, the errors of malformed notebooks, replay in one
/// interpreter with errors in the notebook's own line numbers, comparison and export.
@Suite struct NotebookTests {
    static let sample = """
    # A notebook

    Prose with `code` and a fenced shell block that is not a cell:

    ```sh
    <!-- output -->
    make test
    ```

    ```finch
    x = 2 + 3
    print("x is", x)
    ```
    <!-- output -->
    ```
    x is 4
    ```

    <!-- cell: ignore-output timeout=30 -->
    ```finch
    s = "````"
    s
    ```

    <!-- cell: skip -->
    ```finch
    print("never")
    ```
    <!-- output -->
    ```
    kept as it was
    ```
    ![Loss](a.assets/cell-3-1.png)

    The end.

    """

    @Test func parsesCellsOptionsAndOutputs() throws {
        let nb = try Notebook(parsing: Self.sample, path: "a.md")
        #expect(nb.cells.count == 3)
        #expect(nb.cells[0].code == "x = 2 + 3\nprint(\"x is\", x)" && nb.cells[0].codeLine == 11 && nb.cells[0].fenceLine == 10)
        #expect(nb.cells[0].recorded?.text == "x is 4\n")
        #expect(nb.cells[1].options.ignoreOutput && nb.cells[1].options.timeout == 30 && nb.cells[1].recorded == nil)
        #expect(nb.cells[2].options.skip)
        #expect(nb.cells[2].recorded?.parts == [.text(["kept as it was"]), .image(title: "Loss", link: "a.assets/cell-3-1.png")])
    }

    @Test func writingTheSameOutputsGivesTheFileBackByteForByte() throws {
        let nb = try Notebook(parsing: Self.sample, path: "a.md")
        #expect(nb.text(replacingOutputs: [:]) == Self.sample)
        var same: [Int: Output] = [:]
        for c in nb.cells { if let r = c.recorded { same[c.number] = r } }
        #expect(nb.text(replacingOutputs: same) == Self.sample)
    }

    @Test func newOutputsReplaceOnlyTheOutputBlocks() throws {
        let nb = try Notebook(parsing: Self.sample, path: "a.md")
        let new = nb.text(replacingOutputs: [1: Output(printed: "x is 5\n", assetsDirectory: nil), 2: Output(printed: "````\n", assetsDirectory: nil)])
        let expected = Self.sample.replacingOccurrences(of: "x is 4", with: "x is 5")
            .replacingOccurrences(of: "s = \"````\"\ns\n```\n", with: "s = \"````\"\ns\n```\n<!-- output -->\n`````\n````\n`````\n")
        #expect(new == expected)
        // The longer fence reads back as one block holding the backticks.
        let again = try Notebook(parsing: new, path: "a.md")
        #expect(again.cells[1].recorded?.text == "````\n")
        // An empty output removes the block.
        #expect(!nb.text(replacingOutputs: [1: Output(parts: [])]).contains("x is 4"))
    }

    @Test func malformedNotebooksNameTheLine() {
        func error(_ text: String) -> String {
            do { _ = try Notebook(parsing: text, path: "b.md"); return "parsed" } catch { return "\(error)" }
        }
        #expect(error("# t\n\n```finch\nx = 1\n") == "b.md:3: the ``` fence opened here is never closed")
        #expect(error("# t\n\n<!-- output -->\n```\n1\n```\n") == "b.md:3: an output block with no finch cell before it")
        #expect(error("```finch\n1\n```\nprose\n<!-- output -->\n```\n1\n```\n") == "b.md:5: an output block with no finch cell before it")
        #expect(error("<!-- cell: skip, fast -->\n```finch\n1\n```\n") == "b.md:1: unknown cell option \"fast\" (the options: skip, ignore-output, raises, timeout=SECONDS)")
        #expect(error("<!-- cell: skip -->\nprose\n") == "b.md:1: these cell options are not followed by a finch cell")
        #expect(error("<!-- cell: timeout=-3 -->\n```finch\n1\n```\n") == "b.md:1: timeout must be a positive number of seconds, got \"-3\"")
        #expect(error("```finch\n1\n```\n<!-- output -->\nnot a block\n") == "b.md:4: <!-- output --> must be followed by a fenced block (or image links)")
        #expect(error("<!-- finch-test: tolerance=1 -->\n") == "b.md:1: unknown finch-test setting \"tolerance=1\" (the settings: rtol=NUMBER, sanitize REGEX, kernels=NAME)")
    }

    @Test func replayRunsCellsInOneInterpreterAndLocatesErrorsInTheNotebook() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = """
        # r

        ```finch
        n = 41
        ```

        ```finch
        print(n + 1)
        n * 2
        ```

        <!-- cell: raises -->
        ```finch
        y = 1
        z = nope + 1
        ```

        ```finch
        plot([1, 2, 3], title: "Up")
        ```

        ```finch
        nope()
        ```

        ```finch
        print("after the failure")
        ```

        """
        let path = dir.appendingPathComponent("r.md").path
        let nb = try Notebook(parsing: text, path: path)
        let replay = NotebookReplay(notebook: nb, interpreter: try FinchLibrary.makeInterpreter())
        let results = replay.run()
        #expect(results.count == 5, "stops after the failing cell")
        #expect(results[0].output?.isEmpty == true && results[1].output?.text == "42\n82\n")
        // The error is on line 15, and cell 2's new output (the marker, two fences, two lines) moves it down 5.
        let err = results[2].output!.text
        #expect(err.hasPrefix("r.md:20:5: error: undefined variable 'nope'"), "\(err)")
        #expect(results[2].failure == nil)
        #expect(results[3].output?.parts == [.image(title: "Up", link: "r.assets/cell-4-1.png")])
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("r.assets/cell-4-1.png").path))
        #expect(results[4].failure?.contains("undefined variable 'nope'") == true)
        let all = NotebookReplay(notebook: nb, interpreter: try FinchLibrary.makeInterpreter()).run(keepGoing: true)
        #expect(all.count == 6 && all[5].output?.text == "after the failure\n")
        // Written back and replayed, the notebook is stable: the same text again.
        var outputs: [Int: Output] = [:]
        for r in all { outputs[r.number] = r.output }
        try nb.write(replacingOutputs: outputs)
        let written = try Notebook(contentsOf: path)
        var again: [Int: Output] = [:]
        for r in NotebookReplay(notebook: written, interpreter: try FinchLibrary.makeInterpreter()).run(keepGoing: true) { again[r.number] = r.output }
        #expect(written.text(replacingOutputs: again) == (try String(contentsOfFile: path, encoding: .utf8)))
    }

    @Test func raisesWithoutAnErrorSkipAndTimeoutAreReported() throws {
        let text = "<!-- cell: raises -->\n```finch\n1\n```\n\n<!-- cell: skip -->\n```finch\nnope\n```\n\n<!-- cell: timeout=0.3 -->\n```finch\nfor i in 0..100000000 { i }\n```\n"
        let nb = try Notebook(parsing: text, path: "t.md")
        let results = NotebookReplay(notebook: nb, interpreter: try FinchLibrary.makeInterpreter()).run(keepGoing: true)
        #expect(results[0].failure == "cell 1 was marked raises but ran without an error")
        #expect(results[1].output == nil && results[1].failure == nil)
        #expect(results[2].failure == "cell 3 ran past its timeout of 0.3 s" && !results[2].interrupted)
    }

    @Test func comparisonToleratesDecimalsAndSanitizesTimes() throws {
        let c = try OutputComparison(rtol: 1e-2)
        #expect(c.matches("loss 2.345 at step 10", "loss 2.351 at step 10"))
        #expect(!c.matches("loss 2.345 at step 10", "loss 2.445 at step 10"))
        #expect(!c.matches("612 rows", "613 rows"))
        #expect(c.matches("step 5/10 loss 1.20 150.3 tokens/s elapsed 0:12 ETA 1:03 peak 1800 MB, 3.2 s",
                          "step 5/10 loss 1.20 98.1 tokens/s elapsed 0:19 ETA 2:13 peak 1750 MB, 5.0 s"))
        #expect(!c.matches("the answer", "an answer"))
        #expect(c.matches("The answer is: ", "The answer is:"), "an editor's stripped trailing space is no difference")
        let custom = try OutputComparison(extraSanitizers: [#"id [0-9a-f]+"#])
        #expect(custom.matches("run id 3fa9", "run id 77b0"))
        #expect(c.diff(recorded: "a\nloss 1.0\nb\n", replayed: "a\nloss 1.001\nb\n") == nil)
        #expect(c.diff(recorded: "a\nb\nc\n", replayed: "a\nB\nc\n") == "  a\n- b\n+ B\n  c")
    }

    @Test func exportsJupyterWithOutputsAndImagesEmbedded() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("a.assets"), withIntermediateDirectories: true)
        let png = Data([0x89, 0x50, 0x4E, 0x47, 1, 2, 3])
        try png.write(to: dir.appendingPathComponent("a.assets/cell-3-1.png"))
        let nb = try Notebook(parsing: Self.sample + "<!-- finch-test: rtol=0.1 -->\n", path: dir.appendingPathComponent("a.md").path)
        #expect(nb.testSettings.rtol == 0.1)
        let json = try JSONSerialization.jsonObject(with: try nb.ipynb()) as! [String: Any]
        #expect(json["nbformat"] as? Int == 4 && json["nbformat_minor"] as? Int == 5)
        let cells = json["cells"] as! [[String: Any]]
        #expect(cells.map { $0["cell_type"] as! String } == ["markdown", "code", "code", "code", "markdown"])
        #expect((cells[0]["source"] as! [String]).first == "# A notebook\n")
        #expect((cells[0]["source"] as! [String]).contains("<!-- output -->\n"), "a fenced block in prose stays prose")
        #expect(cells[1]["source"] as! [String] == ["x = 2 + 3\n", "print(\"x is\", x)"])
        let out1 = (cells[1]["outputs"] as! [[String: Any]])[0]
        #expect(out1["output_type"] as? String == "stream" && out1["text"] as! [String] == ["x is 4\n"])
        let outs3 = cells[3]["outputs"] as! [[String: Any]]
        #expect((outs3[1]["data"] as! [String: Any])["image/png"] as? String == png.base64EncodedString())
        #expect((cells[3]["metadata"] as! [String: Any])["tags"] as? [String] == ["skip"])
        #expect(cells[4]["source"] as! [String] == ["The end."])
        try FileManager.default.removeItem(at: dir.appendingPathComponent("a.assets/cell-3-1.png"))
        do { _ = try nb.ipynb(); Issue.record("a missing figure was exported") } catch let e as NotebookError {
            #expect(e.description.hasSuffix("cell 3's figure a.assets/cell-3-1.png is missing (run the notebook with --write first)"))
        }
    }
}
