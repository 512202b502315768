import FinchIO
import FinchLang
import Foundation

/// The REPL's entries and what they printed, written by `:save` as a Markdown
/// notebook (the format of docs/notebooks.md) that `finch run` replays.
public struct SessionRecord {
    public struct Cell {
        public var code: String
        public var output: String
    }

    public private(set) var cells: [Cell] = []

    public init() {}

    public mutating func append(code: String, output: String) { cells.append(Cell(code: code, output: output)) }

    /// The session as Markdown: a title, then each entry as a finch cell with its output.
    public func markdown(title: String = "Finch session") -> String {
        var out = "# \(title)\n"
        for cell in cells {
            out += "\n" + fenced(cell.code, tag: "finch") + "\n"
            if !cell.output.isEmpty {
                out += "<!-- output -->\n" + fenced(cell.output.hasSuffix("\n") ? String(cell.output.dropLast()) : cell.output, tag: "") + "\n"
            }
        }
        return out
    }

    /// A fenced block whose fence is longer than any backtick run inside it.
    func fenced(_ text: String, tag: String) -> String {
        var longest = 0, run = 0
        for ch in text { if ch == "`" { run += 1; longest = max(longest, run) } else { run = 0 } }
        let fence = String(repeating: "`", count: max(3, longest + 1))
        return fence + tag + "\n" + text + "\n" + fence
    }

    /// Writes the notebook atomically.
    public func save(to path: String) throws {
        try AtomicFile.write(markdown(), to: path)
    }
}
