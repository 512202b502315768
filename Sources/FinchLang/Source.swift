/// A piece of Finch source: a file, a REPL entry or a notebook cell.
public final class Source: @unchecked Sendable {
    /// The name errors print (a path, "<repl>", "nb.md").
    public let name: String
    public let text: String
    /// Line number of the first line, so a notebook cell reports the notebook's own lines.
    public let firstLine: Int
    let lines: [Substring]

    public init(name: String, text: String, firstLine: Int = 1) {
        self.name = name
        self.text = text
        self.firstLine = firstLine
        self.lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    }

    /// The text of a line numbered as this source numbers them.
    func line(_ number: Int) -> String {
        let i = number - firstLine
        guard i >= 0, i < lines.count else { return "" }
        return String(lines[i])
    }
}

/// A position in a source: 1-based line (in the source's own numbering) and column.
public struct Location: Sendable, Equatable {
    public let source: Source?
    public let line: Int32
    public let column: Int32

    public static func == (a: Location, b: Location) -> Bool { a.source === b.source && a.line == b.line && a.column == b.column }

    public var description: String { "\(source?.name ?? "<input>"):\(line):\(column)" }
}
