import FinchIO
import FinchLang
import FinchNotebook
import Foundation

/// The REPL's entries and what they printed, written by `:save` as a Markdown
/// notebook (the format of docs/notebooks.md) that `finch run` replays.
public struct SessionRecord {
    public struct Cell {
        public var code: String
        public var output: String
        /// It stopped with an error: saved with the `raises` option, so replay expects the error.
        public var failed = false
    }

    public private(set) var cells: [Cell] = []

    public init() {}

    public mutating func append(code: String, output: String, failed: Bool = false) {
        cells.append(Cell(code: code, output: output, failed: failed))
    }

    /// The session as Markdown: a title, then each entry as a finch cell with its output.
    public func markdown(title: String = "Finch session") -> String {
        var lines = ["# \(title)"]
        for cell in cells {
            lines.append("")
            if cell.failed { lines.append("<!-- cell: raises -->") }
            lines += Notebook.fenced(cell.code, tag: "finch")
            lines += Output(printed: cell.output, assetsDirectory: nil).markdownLines
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes the notebook atomically.
    public func save(to path: String) throws {
        try AtomicFile.write(markdown(), to: path)
    }
}
