import FinchLang
import Foundation

/// Replays a notebook's cells in order in one interpreter, capturing each cell's output (figures
/// become PNG files in `<notebook>.assets/` and image links in the output).
public final class NotebookReplay {
    /// What running one cell gave.
    public struct CellResult: Sendable {
        public let number: Int
        /// Nil for a skipped cell (its recorded output stands).
        public let output: Output?
        /// Why the cell failed: an unexpected error, a missing one (`raises`), its timeout; nil when it did what it should.
        public let failure: String?
        public let seconds: Double
        /// Ctrl-C stopped it; replay goes no further.
        public let interrupted: Bool
    }

    public let notebook: Notebook
    public let interpreter: Interpreter
    /// Hears each cell before it runs (the command prints its number).
    public var willRun: ((Notebook.Cell) -> Void)?
    /// Hears output as it is printed, so a long cell shows its progress as it goes.
    public var echo: ((String) -> Void)?

    /// The directory of the notebook's figures, as linked from the notebook.
    public var assetsLink: String { notebook.assetsLink }
    /// The notebook's directory: cells run there, so `load_dataset("data/x.jsonl")` finds the data beside it.
    public let directory: String
    /// Where figures are written: beside the notebook, or elsewhere (`finch test` keeps the checked-in images untouched).
    public lazy var assetsDirectory: String = URL(fileURLWithPath: directory).appendingPathComponent(assetsLink).path
    /// How errors name the notebook: its file name, so recorded messages do not depend on where it was run from.
    var sourceName: String { URL(fileURLWithPath: notebook.path).lastPathComponent }

    public init(notebook: Notebook, interpreter: Interpreter) {
        self.notebook = notebook
        self.interpreter = interpreter
        directory = URL(fileURLWithPath: notebook.path).deletingLastPathComponent().standardizedFileURL.path
        interpreter.baseDirectory = directory
    }

    /// Runs every cell; stops after the first that fails unless `keepGoing` (Ctrl-C always stops).
    public func run(keepGoing: Bool = false) -> [CellResult] {
        var results: [CellResult] = []
        // Outputs that grow or shrink move the cells below them: errors name the lines the
        // notebook will have once its new outputs are written.
        var shift = 0
        for cell in notebook.cells {
            let r = run(cell, lineShift: shift)
            results.append(r)
            if let o = r.output { shift += o.markdownLines.count - (cell.recordedRange?.count ?? 0) }
            if r.interrupted || (r.failure != nil && !keepGoing) { break }
        }
        return results
    }

    /// Runs one cell, capturing what it prints; its last expression's value is printed as the REPL prints it.
    public func run(_ cell: Notebook.Cell, lineShift: Int = 0) -> CellResult {
        if cell.options.skip { return CellResult(number: cell.number, output: nil, failure: nil, seconds: 0, interrupted: false) }
        willRun?(cell)
        var printed = ""
        let previous = interpreter.output
        interpreter.output = { [echo] text in
            printed += text
            echo?(text)
        }
        defer { interpreter.output = previous }
        interpreter.figureDestination = .files(directory: assetsDirectory, linkDirectory: assetsLink, prefix: "cell-\(cell.number)")
        interpreter.figuresWritten = 0
        interpreter.resultShown = false
        Interrupt.reset()
        // A timeout asks the cell to stop the way Ctrl-C does (training finishes its step and returns).
        let timer: DispatchSourceTimer? = cell.options.timeout.map { t in
            let s = DispatchSource.makeTimerSource(queue: .global())
            s.schedule(deadline: .now() + t)
            s.setEventHandler { Interrupt.request() }
            s.resume()
            return s
        }
        // As Jupyter does: the working directory is the notebook's while its cells run.
        let previousDirectory = FileManager.default.currentDirectoryPath
        _ = FileManager.default.changeCurrentDirectoryPath(directory)
        defer { _ = FileManager.default.changeCurrentDirectoryPath(previousDirectory) }
        let start = Date()
        var failure: String? = nil, stopped = false
        do {
            if let value = try interpreter.run(cell.code, name: sourceName, firstLine: cell.codeLine + lineShift) {
                if case .nil = value {} else if !interpreter.resultShown { interpreter.output(value.repr + "\n") }
            }
            if cell.options.raises { failure = "cell \(cell.number) was marked raises but ran without an error" }
        } catch let e as FinchError where e.kind == .interrupted {
            interpreter.output(e.description + "\n")
            stopped = true
        } catch {
            interpreter.output(String(describing: error) + "\n")
            if !cell.options.raises { failure = String(describing: error) }
        }
        let seconds = Date().timeIntervalSince(start)
        timer?.cancel()
        // A native that handles Ctrl-C itself (training, generation) returns normally and clears the flag.
        stopped = stopped || Interrupt.requestedSinceReset
        Interrupt.reset()
        var interrupted = false
        if let t = cell.options.timeout, seconds >= t {
            failure = "cell \(cell.number) ran past its timeout of \(Value.format(t)) s"
        } else if stopped {
            interrupted = true
            failure = "stopped by Ctrl-C in cell \(cell.number)"
        }
        return CellResult(number: cell.number, output: Output(printed: printed, assetsDirectory: assetsLink),
                          failure: failure, seconds: seconds, interrupted: interrupted)
    }
}
