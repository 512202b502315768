import FinchLang
import FinchLib
import Foundation
import Testing

/// plot, scatter, hist and bars from the language: where the figure goes (text, a notebook's
/// files, a saved file with its CSV), the data forms they take, and live curves in train().
@Suite struct PlotBindingTests {
    func scratch() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("finch-lib-plot-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    func error(_ code: String) -> String {
        do { _ = try runFinch(code); return "no error" } catch { return String(describing: error) }
    }

    @Test func aRunPlotsItsLossAndValidationLossAsText() throws {
        let (out, _) = try runFinch(TrainBindingTests.setup + """

        run = train(m, ds, lr: 1e-2, steps: 12, batch: 2, eval: ds, eval_every: 4, print_every: 100)
        plot(run, title: "Tiny run")
        """)
        let figure = out.components(separatedBy: "Tiny run").last ?? ""
        #expect(figure.contains("loss") && figure.contains("val_loss") && figure.contains("step"), "\(out)")
        #expect(figure.split(separator: "\n").count >= 20, "80 × 24 outside a terminal")
    }

    @Test func savedFiguresHaveTheirCSVBesideThem() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (out, _) = try runFinch("""
        t = {"base": 0.05, "finetuned": 0.6}
        bars(t, title: "Exact match", save: "\(dir)/em.svg")
        hist([1, 2, 2, 3, 3, 3], bins: 3, save: "\(dir)/h.png", width: 300, height: 200)
        """)
        #expect(out.contains("saved \(dir)/em.svg and \(dir)/em.csv"))
        #expect(try String(contentsOfFile: "\(dir)/em.csv", encoding: .utf8) == "series,category,value\n,base,0.05\n,finetuned,0.6\n")
        #expect(try String(contentsOfFile: "\(dir)/h.csv", encoding: .utf8).hasPrefix("series,bin_low,bin_high,count\nvalues,1,"))
        let png = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/h.png"))
        #expect(png[16..<20].reduce(0) { $0 << 8 | Int($1) } == 300)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["em.csv", "em.svg", "h.csv", "h.png"])
    }

    /// In a notebook each figure is a PNG in the assets directory and an image link in the output.
    @Test func inANotebookFiguresAreImagesBesideIt() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let interp = try FinchLibrary.makeInterpreter()
        var out = ""
        interp.output = { out += $0 }
        interp.figureDestination = .files(directory: dir + "/lesson.assets", linkDirectory: "lesson.assets", prefix: "cell-3")
        try interp.run("""
        plot([3, 2, 1.5], title: "Loss")
        scatter([1, 2, 3], [2, 4, 9])
        """)
        #expect(out == "![Loss](lesson.assets/cell-3-1.png)\n![figure](lesson.assets/cell-3-2.png)\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/lesson.assets").sorted()
                == ["cell-3-1.csv", "cell-3-1.png", "cell-3-2.csv", "cell-3-2.png"])
    }

    /// plot_every in a notebook keeps one image up to date and links it once, at the end; outside
    /// a terminal the curve is drawn once, at the end.
    @Test func liveCurvesDuringTraining() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let interp = try FinchLibrary.makeInterpreter()
        var out = ""
        interp.output = { out += $0 }
        try interp.run(TrainBindingTests.setup)
        interp.figureDestination = .files(directory: dir + "/nb.assets", linkDirectory: "nb.assets", prefix: "cell-1")
        try interp.run("run = train(m, ds, lr: 1e-2, steps: 6, batch: 2, plot_every: 2, print_every: 100)")
        #expect(out.hasSuffix("![Training loss](nb.assets/cell-1-1.png)\n"), "\(out)")
        #expect(out.components(separatedBy: "![").count == 2, "linked once")
        let csv = try String(contentsOfFile: dir + "/nb.assets/cell-1-1.csv", encoding: .utf8)
        #expect(csv.split(separator: "\n").count == 7, "the final figure holds all 6 steps: \(csv)")

        interp.figureDestination = .text
        out = ""
        try interp.run("run = train(m, ds, lr: 1e-2, steps: 6, batch: 2, plot_every: 2, print_every: 100)")
        #expect(out.components(separatedBy: "Training loss").count == 2, "drawn once: \(out)")
    }

    @Test func dataFormsAndTheirErrors() throws {
        let (out, _) = try runFinch("""
        plot({"full": [3, 2, 1], "lora": [3, 2.5, 2]}, title: "Two runs")
        plot([1, 0/0, 3], title: "gap")
        plot([], title: "Nothing")
        """)
        #expect(out.contains("full") && out.contains("lora"))
        #expect(out.contains("note: skipped 1 NaN or infinite value\n"))
        #expect(out.hasSuffix("nothing to plot: \"Nothing\" has no values that can be drawn\n"))
        #expect(error("plot(42)").contains("plot(): data must be a Run, a Table, a list of numbers or a dict of them, got a number"))
        #expect(error("plot([1, \"a\"])").contains("data: y[1] is a string, not a number"))
        #expect(error("plot([1, 2], save: \"x.jpg\")").contains("save: \"x.jpg\" must end in .png or .svg"))
        #expect(error("plot([1, 2], log: \"z\")").contains("log must be true, false, \"x\", \"y\" or \"xy\""))
        #expect(error("hist([1, 2], bins: 0)").contains("bins must be between 1 and 1000"))
        #expect(error("plot([1, 2], smooth: 0)").contains("smooth must be at least 1"))
        #expect(error("plot([1, 2], titel: \"x\")").contains("title"), "unknown arguments suggest the right one")
    }

    /// A range plots as the list of numbers it counts, alone or in a dict; its CSV says so.
    @Test func rangesPlotAsTheirNumbers() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try runFinch("""
        plot({"x": range(0, 3), "twice": [0, 2, 4]}, save: "\(dir)/r.png")
        plot(range(1, 4), save: "\(dir)/s.png")
        """)
        #expect(try String(contentsOfFile: dir + "/r.csv", encoding: .utf8) == "series,index,y\nx,1,0\nx,2,1\nx,3,2\ntwice,1,0\ntwice,2,2\ntwice,3,4\n")
        #expect(try String(contentsOfFile: dir + "/s.csv", encoding: .utf8).hasSuffix("y,1,1\ny,2,2\ny,3,3\n"))
    }
}
