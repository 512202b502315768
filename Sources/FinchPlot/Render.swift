import FinchIO
import Foundation

/// What drawing a figure produced.
public struct Rendered: Sendable {
    /// The picture as text (dumb terminal), trimmed; empty for files.
    public var text: String
    /// What was left out and why ("skipped 3 NaN or infinite values").
    public var notes: [String]
    /// The files written: the figure, then the CSV of its data.
    public var files: [String]
}

extension Figure {
    /// Draws the figure with gnuplot. Files are written atomically, each with the CSV of its
    /// data beside it (`loss.png` → `loss.csv`). A figure with nothing to draw throws
    /// `PlotError` of kind `.empty` before gnuplot starts.
    @discardableResult
    public func render(to output: Output, executable: String? = nil) throws -> Rendered {
        let prepared = PreparedFigure(self)
        guard !prepared.isEmpty else {
            let what = title.isEmpty ? "the figure" : "\"\(title)\""
            let why = series.isEmpty ? "has no series" : "has no values that can be drawn"
            throw PlotError(kind: .empty, message: "nothing to plot: \(what) \(why)" + prepared.notes.map { " (\($0))" }.joined())
        }
        let script = FigureScript(self, prepared, output: output)
        guard let path = output.path else {
            let text = try run(script, prepared, outputPath: nil, executable: executable)
            return Rendered(text: Self.trimmed(text), notes: prepared.notes, files: [])
        }
        let csvPath = URL(fileURLWithPath: path).deletingPathExtension().path + ".csv"
        try AtomicFile.produce(at: path) { temp in
            _ = try run(script, prepared, outputPath: temp, executable: executable)
        }
        try AtomicFile.write(csv(prepared), to: csvPath)
        return Rendered(text: "", notes: prepared.notes, files: [path, csvPath])
    }

    private func run(_ script: FigureScript, _ prepared: PreparedFigure, outputPath: String?, executable: String?) throws -> String {
        let gp = try Gnuplot(executable: executable)
        try gp.setOutput(terminal: script.terminal, path: outputPath)
        for line in script.markedLines { try gp.command(line) }
        for d in prepared.drawn where !d.x.isEmpty { try gp.sendSeries(x: d.x, y: d.y) }
        try gp.command("unset output")
        do {
            return try gp.finish()
        } catch let e as PlotError where e.kind == .gnuplot {
            throw script.explain(e)
        }
    }

    private func csv(_ p: PreparedFigure) -> String {
        func field(_ s: String) -> String {
            s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
        }
        return ([p.csvHeader] + p.csvRows).map { $0.map(field).joined(separator: ",") }.joined(separator: "\n") + "\n"
    }

    /// The dumb terminal's text without trailing spaces and the blank lines around it.
    static func trimmed(_ text: String) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> Substring in
            var l = line
            while l.last == " " || l.last == "\r" || l.last == "\u{0C}" { l.removeLast() }
            while l.first == "\u{0C}" { l.removeFirst() }
            return l
        }
        while lines.first?.isEmpty == true { lines.removeFirst() }
        while lines.last?.isEmpty == true { lines.removeLast() }
        return lines.joined(separator: "\n")
    }
}
