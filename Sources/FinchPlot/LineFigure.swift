import Foundation

/// A line chart of one or more named series, rendered by gnuplot to the
/// terminal (dumb) or to a PNG/SVG file.
public struct LineFigure: Sendable {
    /// One curve: its name in the legend and its points.
    public struct Series: Sendable {
        public var name: String
        public var x: [Double]
        public var y: [Double]
        public init(name: String, x: [Double], y: [Double]) {
            self.name = name
            self.x = x
            self.y = y
        }
    }

    public var title: String
    public var xlabel: String
    public var ylabel: String
    public var series: [Series]
    public var logScaleY = false

    public init(title: String, xlabel: String = "", ylabel: String = "", series: [Series] = []) {
        self.title = title
        self.xlabel = xlabel
        self.ylabel = ylabel
        self.series = series
    }

    /// Where a figure goes.
    public enum Output: Sendable {
        /// Text for a terminal of the given size.
        case dumb(width: Int, height: Int)
        /// A PNG file (pngcairo).
        case png(path: String, width: Int, height: Int)
        /// An SVG file.
        case svg(path: String, width: Int, height: Int)
    }

    /// Renders the figure; returns the text for `.dumb`, "" for files.
    @discardableResult
    public func render(to output: Output, executable: String? = nil) throws -> String {
        let points = series.map { s in zip(s.x, s.y).filter { $0.0.isFinite && $0.1.isFinite } }
        guard points.contains(where: { !$0.isEmpty }) else {
            throw PlotError(kind: .other, message: "nothing to plot: \"\(title)\" has no finite points")
        }
        let gp = try Gnuplot(executable: executable)
        switch output {
        case let .dumb(w, h): try gp.setOutput(terminal: "dumb size \(w),\(h)", path: nil)
        case let .png(path, w, h): try gp.setOutput(terminal: "pngcairo size \(w),\(h)", path: path)
        case let .svg(path, w, h): try gp.setOutput(terminal: "svg size \(w),\(h)", path: path)
        }
        try gp.command("set title \(quote(title))")
        try gp.command("set xlabel \(quote(xlabel))")
        try gp.command("set ylabel \(quote(ylabel))")
        try gp.command("set key top right")
        if logScaleY { try gp.command("set logscale y") }
        let kept = zip(series, points).filter { !$0.1.isEmpty }
        let clauses = kept.map { "'-' using 1:2 with lines title \(quote($0.0.name))" }
        try gp.command("plot " + clauses.joined(separator: ", "))
        for (_, pts) in kept { try gp.sendSeries(x: pts.map { $0.0 }, y: pts.map { $0.1 }) }
        try gp.command("unset output")
        return try gp.finish()
    }

    private func quote(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
}

extension PlotError {
    init(kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }
}
