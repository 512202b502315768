import FinchPlot
import Foundation
import Testing

/// The gnuplot bridge draws real figures and reports failures as errors.
@Suite struct GnuplotTests {
    let figure = LineFigure(title: "Loss", xlabel: "step", ylabel: "loss",
                            series: [.init(name: "train", x: [1, 2, 3, 4, 5], y: [4, 2, 1.5, 1.2, 1.1]),
                                     .init(name: "val", x: [1, 3, 5], y: [4.2, 1.8, 1.4])])

    @Test func dumbTerminalShowsTitleTicksAndLegend() throws {
        let text = try figure.render(to: .dumb(width: 70, height: 20))
        #expect(text.contains("Loss"))
        #expect(text.contains("train") && text.contains("val"))
        #expect(text.contains("step"))
        #expect(text.split(separator: "\n").count >= 18)
    }

    @Test func pngHasSignatureAndSize() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("finch-plot-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("loss.png").path
        try figure.render(to: .png(path: path, width: 640, height: 400))
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(data.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        // IHDR: width and height as big-endian 32-bit integers at bytes 16..<24.
        let width = data[16..<20].reduce(0) { $0 << 8 | Int($1) }, height = data[20..<24].reduce(0) { $0 << 8 | Int($1) }
        #expect(width == 640 && height == 400)
    }

    @Test func gnuplotErrorsComeBackWithTheirMessage() throws {
        let gp = try Gnuplot()
        try gp.setOutput(terminal: "dumb", path: nil)
        try gp.command("plot sin(x) with nonsense")
        do {
            try gp.finish()
            Issue.record("a bad script was accepted")
        } catch let error as PlotError {
            #expect(error.kind == .gnuplot)
            #expect(error.message.contains("nonsense"))
        }
    }

    @Test func missingGnuplotNamesThePackages() throws {
        do {
            _ = try Gnuplot(executable: "gnuplot-that-is-not-installed")
            Issue.record("a missing gnuplot was started")
        } catch let error as PlotError {
            #expect(error.kind == .missing)
            #expect(error.message.contains("apt-get install gnuplot-nox libgnuplot-iostream-dev"))
            #expect(error.message.contains("make setup"))
        }
    }

    @Test func emptyDataIsAMessageNotABrokenPlot() throws {
        let empty = LineFigure(title: "Nothing", series: [.init(name: "x", x: [1, 2], y: [.nan, .infinity])])
        #expect(throws: PlotError.self) { try empty.render(to: .dumb(width: 60, height: 15)) }
    }
}
