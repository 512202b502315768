import Foundation

/// The gnuplot script that draws a prepared figure: the terminal, then the commands; the data
/// follows the last command as inline blocks, one per drawn series.
struct FigureScript {
    let terminal: String
    let lines: [String]

    init(lines: [String], terminal: String) {
        self.lines = lines
        self.terminal = terminal
    }

    init(_ f: Figure, _ p: PreparedFigure, output: Figure.Output) {
        let files: Bool
        switch output {
        case let .dumb(w, h): terminal = "dumb size \(w),\(h)"; files = false
        // noenhanced: a column named val_loss must not print "loss" as a subscript.
        case let .png(_, w, h): terminal = "pngcairo size \(w),\(h) noenhanced font \"sans,10\""; files = true
        case let .svg(_, w, h): terminal = "svg size \(w),\(h) noenhanced font \"sans,10\" background rgb \"white\""; files = true
        }
        var l: [String] = []
        if !f.title.isEmpty { l.append("set title \(quote(f.title))") }
        if !f.xlabel.isEmpty { l.append("set xlabel \(quote(f.xlabel))") }
        if !f.ylabel.isEmpty { l.append("set ylabel \(quote(f.ylabel))") }
        let named = p.drawn.filter { !$0.x.isEmpty }
        let boxes = named.contains { if case .boxes = $0.style { return true }; return false }
        // Bars reach the top of the chart, so their legend goes above it; falling curves leave the top right free.
        if f.legend ?? (named.count > 1) { l.append(boxes ? "set key outside top center horizontal" : "set key top right") } else { l.append("unset key") }
        if f.logX { l.append("set logscale x") }
        if f.logY { l.append("set logscale y") }
        if files { l.append("set grid lc rgb \"#dddddd\"") }
        var boxWidth: Double?
        for d in named { if case let .boxes(w) = d.style { boxWidth = w } }
        if let w = boxWidth {
            l.append("set boxwidth \(number(w)) absolute")
            l.append("set style fill solid 0.7 border -1")
            if !f.logY { l.append("set yrange [0:*]") }
        }
        if !p.xtics.isEmpty {
            l.append("set xtics (" + p.xtics.map { "\(quote($0.label)) \(number($0.x))" }.joined(separator: ", ") + ")")
            l.append("set xrange [-0.6:\(number(Double(p.xtics.count) - 0.4))]")
        }
        let clauses = named.map { d -> String in
            let style: String
            switch d.style {
            case .line: style = files ? "lines lw 2" : "lines"
            case .faintLine: style = files ? "lines lw 1 lc rgb \"#c8c8c8\"" : "dots"
            case .points: style = files ? "points pt 7 ps 0.6" : "points pt 7"
            case .boxes: style = "boxes"
            }
            return "'-' using 1:2 with \(style) title \(quote(d.name))"
        }
        l.append("plot " + clauses.joined(separator: ", "))
        lines = l
    }

    /// What `print` writes to gnuplot's stderr before script line N, so that an error can be
    /// traced to its line: gnuplot's own line numbers count from the last `plot`, and errors
    /// found late (an undefined variable, at plot time) come without the offending line.
    static func marker(_ n: Int) -> String { "@finch-script-line \(n)" }

    /// The script as sent: each line after its marker.
    var markedLines: [String] {
        lines.enumerated().flatMap { ["print \(quote(Self.marker($0.offset + 1)))", $0.element] }
    }

    /// gnuplot's complaint made readable: its first error message and the script line that
    /// caused it (after the first error gnuplot reads the data as commands too, so only the
    /// first report is the cause).
    func explain(_ e: PlotError) -> PlotError {
        var current = 0
        var report: [String] = []
        for raw in e.message.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if raw.hasPrefix("@finch-script-line "), report.isEmpty {
                current = Int(raw.dropFirst("@finch-script-line ".count)) ?? current
            } else if !raw.trimmingCharacters(in: .whitespaces).isEmpty {
                if raw.hasPrefix("@finch-script-line ") { break }
                report.append(raw)
                if raw.range(of: #"line \d+:"#, options: .regularExpression) != nil { break }
            }
        }
        guard let last = report.last else { return e }
        let message = last.range(of: #"line \d+:\s*"#, options: .regularExpression).map { String(last[$0.upperBound...]) } ?? last
        let caret = report.first { $0.trimmingCharacters(in: .whitespaces) == "^" }
        let echoed = report.first { $0.hasPrefix("gnuplot> ") }
        var text = "gnuplot could not draw the figure: \(message)"
        if current >= 1, current <= lines.count {
            let line = lines[current - 1]
            text += ", at script line \(current):\n  \(line)"
            // The caret lines up under gnuplot's echo of the line ("gnuplot> " is 9 columns).
            if let caret, let echoed, echoed.dropFirst(9) == line { text += "\n  " + caret.dropFirst(9) }
        } else {
            text += ", at the terminal setting: \(terminal)"
        }
        return PlotError(kind: .gnuplot, message: text)
    }
}

/// A gnuplot double-quoted string.
func quote(_ s: String) -> String {
    "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n") + "\""
}
