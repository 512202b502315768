@testable import FinchPlot
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing

/// Figures drawn by the real gnuplot: text for the terminal, PNG and SVG files with their CSV,
/// and what happens with data that cannot be drawn.
@Suite struct FigureTests {
    let loss = Figure(.lines, title: "Loss", xlabel: "step", ylabel: "loss",
                      series: [.init(name: "train", x: [1, 2, 3, 4, 5], y: [4, 2, 1.5, 1.2, 1.1]),
                               .init(name: "val_loss", x: [1, 3, 5], y: [4.2, 1.8, 1.4])])

    func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("finch-plot-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    func files(_ dir: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
    }

    @Test func dumbTerminalShowsTitleTicksAndLegend() throws {
        let text = try loss.render(to: .dumb(width: 70, height: 20)).text
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.first?.contains("Loss") == true, "the title is the first line")
        #expect(text.contains("train") && text.contains("val_loss"))
        #expect(text.contains("step"))
        // y ticks 1 ... 4.5 at the left, x ticks 1 ... 5 along the bottom.
        #expect(lines.contains { $0.trimmingCharacters(in: .whitespaces).hasPrefix("4.5 ") })
        #expect(lines.contains { $0.contains("1") && $0.contains("5") && $0.contains("3") && !$0.contains("|") })
        #expect(lines.count >= 16 && lines.count <= 20)
        #expect(lines.allSatisfy { $0.count <= 70 && $0.last != " " })
    }

    @Test func pngHasSignatureAndSizeAndItsCSV() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("loss.png").path
        let result = try loss.render(to: .png(path: path, width: 640, height: 400))
        #expect(result.files == [path, dir.appendingPathComponent("loss.csv").path])
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(data.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        // IHDR: width and height as big-endian 32-bit integers at bytes 16..<24.
        let width = data[16..<20].reduce(0) { $0 << 8 | Int($1) }, height = data[20..<24].reduce(0) { $0 << 8 | Int($1) }
        #expect(width == 640 && height == 400)
        let csv = try String(contentsOfFile: result.files[1], encoding: .utf8)
        #expect(csv == """
            series,step,loss
            train,1,4
            train,2,2
            train,3,1.5
            train,4,1.2
            train,5,1.1
            val_loss,1,4.2
            val_loss,3,1.8
            val_loss,5,1.4

            """)
        #expect(try files(dir) == ["loss.csv", "loss.png"], "no temporary files are left behind")
    }

    /// gnuplot's SVG draws each plotted series in a group `gnuplot_plot_N`, with a path inside.
    @Test func svgParsesAndHoldsOneGroupPerSeries() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let noisy: [Double] = (0..<50).map { i -> Double in
            let trend = 3 - Double(i) * 0.04
            return trend + (i % 2 == 0 ? 0.3 : -0.3)
        }
        var smoothed = Figure(.lines, title: "Noisy", xlabel: "step", ylabel: "loss", series: [.init(name: "loss", y: noisy)])
        smoothed.smooth = 5
        for (figure, groups) in [(loss, 2), (smoothed, 2)] as [(Figure, Int)] {
            let path = dir.appendingPathComponent("f.svg").path
            try figure.render(to: .svg(path: path, width: 600, height: 400))
            let counter = SVGCounter()
            let parser = XMLParser(data: try Data(contentsOf: URL(fileURLWithPath: path)))
            parser.delegate = counter
            #expect(parser.parse(), "the SVG is well-formed XML")
            #expect(counter.plotGroups == groups)
            #expect(counter.pathsInPlots >= groups)
            #expect(counter.texts.contains(figure.title))
        }
    }

    @Test func smoothingDrawsTheMeanWithTheRawCurveFaintBehind() throws {
        #expect(movingAverage([1, 2, 3, 4, 5, 6], window: 3) == [1, 1.5, 2, 3, 4, 5])
        var f = Figure(.lines, title: "t", series: [.init(name: "loss", y: [1, 2, 3, 4, 5, 6])])
        f.smooth = 3
        let p = PreparedFigure(f)
        #expect(p.drawn.map(\.name) == ["loss", "loss (mean of 3)"])
        #expect(p.drawn[1].y == [1, 1.5, 2, 3, 4, 5])
        let script = FigureScript(f, p, output: .png(path: "x.png", width: 10, height: 10))
        #expect(script.lines.last?.contains("lc rgb \"#c8c8c8\"") == true)
    }

    /// Values at both ends of a double's range make hi - lo overflow to inf: still counted, no trap (issue [10]).
    @Test func histogramOfTheWholeDoubleRange() throws {
        let f = Figure(.histogram(bins: 2), series: [.init(name: "x", y: [-1e308, 0, 1e308])])
        let p = PreparedFigure(f)
        #expect(p.drawn.first?.y.reduce(0, +) == 3)
    }

    @Test func histogramCountsEachBin() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let lengths: [Double] = [10, 12, 15, 20, 20, 21, 30, 40]
        let f = Figure(.histogram(bins: 3), title: "Token lengths", xlabel: "tokens", ylabel: "examples",
                       series: [.init(name: "lengths", y: lengths)])
        let result = try f.render(to: .png(path: dir.appendingPathComponent("h.png").path, width: 400, height: 300))
        // Range 10...40 in three bins of 10: [10,20) holds 3, [20,30) holds 3, [30,40] holds 2.
        #expect(try String(contentsOfFile: result.files[1], encoding: .utf8) == """
            series,bin_low,bin_high,count
            lengths,10,20,3
            lengths,20,30,3
            lengths,30,40,2

            """)
        let text = try f.render(to: .dumb(width: 60, height: 16)).text
        #expect(text.contains("Token lengths") && text.contains("tokens"))
    }

    @Test func barsLabelTheirCategories() throws {
        var f = Figure(.bars, title: "Exact match", ylabel: "accuracy",
                       series: [.init(name: "exact match", x: [0, 1], y: [0.1, 0.65])])
        f.categories = ["base", "finetuned"]
        let text = try f.render(to: .dumb(width: 60, height: 16)).text
        #expect(text.contains("base") && text.contains("finetuned") && text.contains("Exact match"))
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try f.render(to: .svg(path: dir.appendingPathComponent("b.svg").path, width: 400, height: 300))
        #expect(try String(contentsOfFile: result.files[1], encoding: .utf8) == "series,category,value\nexact match,base,0.1\nexact match,finetuned,0.65\n")
    }

    @Test func nonFiniteValuesAreSkippedAndCounted() throws {
        let f = Figure(.lines, title: "Loss", series: [.init(name: "loss", x: [1, 2, 3, 4], y: [3, .nan, 2, .infinity])])
        let result = try f.render(to: .dumb(width: 60, height: 15))
        #expect(result.notes == ["skipped 2 NaN or infinite values"])
        var log = Figure(.lines, title: "Log", series: [.init(name: "v", x: [1, 2, 3], y: [0, 1, 10])])
        log.logY = true
        #expect(try log.render(to: .dumb(width: 60, height: 15)).notes == ["skipped 1 value ≤ 0 on the log scale"])
    }

    @Test func emptyDataIsAMessageNotABrokenPlot() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let empty = Figure(.lines, title: "Nothing", series: [.init(name: "x", x: [1, 2], y: [.nan, .infinity])])
        do {
            try empty.render(to: .png(path: dir.appendingPathComponent("e.png").path, width: 100, height: 100))
            Issue.record("an empty figure was drawn")
        } catch let e as PlotError {
            #expect(e.kind == .empty)
            #expect(e.message == "nothing to plot: \"Nothing\" has no values that can be drawn (skipped 2 NaN or infinite values)")
        }
        #expect(try files(dir).isEmpty)
    }

    @Test func aFailedRenderLeavesNoFileBehind() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(throws: PlotError.self) {
            try loss.render(to: .png(path: dir.appendingPathComponent("loss.png").path, width: 100, height: 100),
                            executable: "gnuplot-that-is-not-installed")
        }
        #expect(try files(dir).isEmpty)
    }

    /// gnuplot's own report names the line it stopped at; the error shows that line of our script.
    @Test func gnuplotErrorsShowTheScriptLine() throws {
        let script = FigureScript(loss, PreparedFigure(loss), output: .dumb(width: 60, height: 15))
        // An error gnuplot reports at once with a caret, and one it finds only when plotting.
        for (bad, message, caret) in [("set nonsense", "unrecognized option - see 'help set'.", true),
                                      ("plot sin(x) with boxes lc zzz", "undefined variable: zzz", false)] {
            let broken = FigureScript(lines: Array(script.lines.dropLast()) + [bad, "plot sin(x)"], terminal: script.terminal)
            let gp = try Gnuplot()
            try gp.setOutput(terminal: broken.terminal, path: nil)
            for line in broken.markedLines { try gp.command(line) }
            do {
                try gp.finish()
                Issue.record("a bad script was accepted: \(bad)")
            } catch let e as PlotError {
                let explained = broken.explain(e).message
                #expect(explained.hasPrefix("gnuplot could not draw the figure: \(message), at script line \(script.lines.count):\n  \(bad)"), "\(explained)")
                #expect(explained.contains("^") == caret, "\(explained)")
            }
        }
    }
}

/// Counts what the SVG holds: groups of plotted series, the paths inside them, the texts.
final class SVGCounter: NSObject, XMLParserDelegate {
    var plotGroups = 0, pathsInPlots = 0, texts: [String] = []
    private var depthInPlot = 0, text = ""

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        if depthInPlot > 0 { depthInPlot += 1 }
        if name == "g", let id = attributes["id"], id.hasPrefix("gnuplot_plot_"), !id.contains("key") {
            plotGroups += 1
            depthInPlot = 1
        }
        if name == "path", depthInPlot > 0 { pathsInPlots += 1 }
        if name == "text" { text = "" }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if depthInPlot > 0 { depthInPlot -= 1 }
        if name == "text" { texts.append(text.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }
}
