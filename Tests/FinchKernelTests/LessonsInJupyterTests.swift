import FinchIO
import FinchNotebook
import FinchTensor
import Foundation
import Testing

/// Lessons exported with `finch export --ipynb` and executed by nbclient with the Finch kernel,
/// as a course run in Jupyter would be: no cell fails, and every cell's text equals the recorded
/// output that `finch test` checks `finch run` against (the same sanitizers and tolerance).
@Suite(.serialized) struct LessonsInJupyterTests {
    /// The lessons run here: the quick ones, or every lesson with FINCH_JUPYTER_LESSONS=all (the
    /// others take minutes each; docs/jupyter.md has the last such run).
    static var lessons: [String] {
        guard ProcessInfo.processInfo.environment["FINCH_JUPYTER_LESSONS"] == "all" else {
            return ["00-tour", "02-where-finetuning-fits", "04-data-preparation"]
        }
        let dir = KernelProtocolTests.repository.appendingPathComponent("Notebooks").path
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
            .filter { $0.hasSuffix(".md") && $0.first?.isNumber == true }.map { String($0.dropLast(3)) }.sorted()
    }

    @Test func exportedLessonsRunInJupyterAsInFinch() throws {
        let repository = KernelProtocolTests.repository, finch = KernelProtocolTests.finch
        let python = try KernelProtocolTests.jupyterPython()
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("finch-nbclient-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        #expect(try Spawn.output(finch, ["kernel", "install", "--prefix", scratch]).status == 0)

        let notebooks = repository.appendingPathComponent("Notebooks").path
        var pairs: [String] = []
        for lesson in Self.lessons {
            let exported = "\(scratch)/\(lesson).ipynb"
            let r = try Spawn.output(finch, ["export", "--ipynb", "\(notebooks)/\(lesson).md", "-o", exported])
            #expect(r.status == 0, "\(r.text)")
            pairs.append("\(exported):\(scratch)/\(lesson).executed.ipynb")
        }
        let script = repository.appendingPathComponent("Tests/FinchKernelTests/run_notebooks.py").path
        let run = try Spawn.output(python, [script, scratch + "/share/jupyter", notebooks] + pairs)
        #expect(run.status == 0, "\(run.text)")
        print(run.text)

        for lesson in Self.lessons {
            let nb = try Notebook(contentsOf: "\(notebooks)/\(lesson).md")
            let reference = try #require(try nb.recording(for: BLASKernels.running))
            let executed = "\(scratch)/\(lesson).executed.ipynb"
            let outputs = try IpynbOutputs.read(Data(contentsOf: URL(fileURLWithPath: executed)), path: executed)
            #expect(outputs.count == nb.cells.count, "\(lesson)")
            // Besides finch test's own: an error's place is the notebook's line there and the cell's here.
            let places = #"(\d\d-[a-z-]+\.md|<cell \d+>):\d+:\d+"#
            let comparison = try OutputComparison(rtol: nb.testSettings.rtol ?? 1e-2, extraSanitizers: nb.testSettings.sanitizers + [places])
            for (cell, got) in zip(reference.cells, outputs) where !cell.options.ignoreOutput && !cell.options.skip {
                let recorded = cell.recorded?.textWithFigureTitles ?? ""
                let diff = comparison.diff(recorded: recorded, replayed: got.textWithFigureTitles)
                #expect(diff == nil, "\(lesson) cell \(cell.number) in Jupyter differs from its recorded output (- recorded, + Jupyter):\n\(diff ?? "")")
            }
        }
    }
}
