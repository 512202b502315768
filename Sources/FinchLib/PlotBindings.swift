import FinchDist
import FinchLang
import FinchIO
import FinchPlot
import FinchTrain
import Foundation

/// plot, scatter, hist and bars: figures drawn by gnuplot, shown where the session shows things
/// (text under the prompt, an image beside a notebook) and saved on request with their CSV.
enum PlotBindings {
    static func register(in r: Registry) {
        r.section("Plots")
        r.register(NativeFunction("plot", [
            Param("data", doc: "a Run (its loss and val_loss by step), a Table, a list of numbers (or of x values, with y a list), or a dict of lists or runs, one line each"),
            Param("x", .optional(.string), default: .nil, doc: "the x column of a table (default: step, if there is one, else the row number)"),
            Param("y", .optional(.oneOf([.string, .list])), default: .nil, doc: "the y column(s) of a table, or the y values when data holds the x values"),
            Param("smooth", .int, default: .number(1), doc: "draw the moving average over this many points, the raw curve faint behind it"),
        ] + common, returns: "nil", doc: "Draws line charts: loss curves, learning rates, anything by step.",
        example: "plot(run, smooth: 10, title: \"LoRA on finch_docs\")") { a in
            let (series, x, y) = try PlotData.series(try PlotData.listed(a["data"], a), x: a.optionalString("x"), y: try PlotData.listed(a["y"], a), a)
            var f = Figure(.lines, series: series)
            guard a.int("smooth") >= 1 else { throw a.error("smooth must be at least 1, got \(a.int("smooth"))") }
            f.smooth = a.int("smooth")
            return try show(f, a, xlabel: x, ylabel: y)
        })
        r.register(NativeFunction("scatter", [
            Param("data", doc: "a Table (with x: and y:), or a list of x values with y the list of y values"),
            Param("y", .optional(.oneOf([.string, .list])), default: .nil, doc: "the y column, or the y values"),
            Param("x", .optional(.string), default: .nil, doc: "the x column of a table"),
        ] + common, returns: "nil", doc: "Draws points: one value against another (answer length against loss, say).",
        example: "scatter(lengths, losses, xlabel: \"tokens\", ylabel: \"loss\")") { a in
            let (series, x, y) = try PlotData.series(try PlotData.listed(a["data"], a), x: a.optionalString("x"), y: try PlotData.listed(a["y"], a), a)
            return try show(Figure(.scatter, series: series), a, xlabel: x, ylabel: y)
        })
        r.register(NativeFunction("hist", [
            Param("data", doc: "a list of numbers, a dict of lists (one colour each), a Table with column:, or a TokenizedDataset (its examples' lengths)"),
            Param("bins", .int, default: .number(20)),
            Param("column", .optional(.string), default: .nil, doc: "the column of a table to count"),
        ] + common, returns: "nil", doc: "Draws a histogram: how many values fall in each of `bins` equal ranges.",
        example: "hist(tokenized, bins: 30, title: \"Tokens per example\")") { a in
            let bins = try Self.bins(a)
            let (series, x) = try PlotData.histogram(try PlotData.listed(a["data"], a), column: a.optionalString("column"), a)
            return try show(Figure(.histogram(bins: bins), series: series), a, xlabel: x, ylabel: "count")
        })
        r.register(NativeFunction("bars", [
            Param("data", doc: "{label: number}, {label: {series: number}} for bars side by side, or a Table with x: and y:"),
            Param("x", .optional(.string), default: .nil, doc: "the label column of a table"),
            Param("y", .optional(.oneOf([.string, .list])), default: .nil, doc: "the value column(s) of a table"),
        ] + common, returns: "nil", doc: "Draws a bar chart: a number per category (exact match of two models, counts of error kinds).",
        example: "bars({\"base\": 0.05, \"finetuned\": 0.6}, title: \"Exact match\")") { a in
            let (categories, series) = try PlotData.bars(a["data"], x: a.optionalString("x"), y: a["y"], a)
            var f = Figure(.bars, series: series)
            f.categories = categories
            if series.count == 1, series[0].name.isEmpty { f.legend = false }
            return try show(f, a, xlabel: "", ylabel: "")
        })
    }

    /// The parameters every figure takes, after its own.
    static let common: [Param] = [
        Param("title", .string, default: .string("")),
        Param("xlabel", .optional(.string), default: .nil, doc: "default: the x column's name"),
        Param("ylabel", .optional(.string), default: .nil, doc: "default: the y column's name"),
        Param("log", .oneOf([.bool, .string]), default: .bool(false), doc: "a log scale: true or \"y\", \"x\", \"xy\""),
        Param("legend", .optional(.bool), default: .nil, doc: "show the legend (default: when there are several series)"),
        Param("save", .optional(.string), default: .nil, doc: "also write the figure to a .png or .svg file, with its data as .csv beside it"),
        Param("width", .optional(.int), default: .nil, doc: "characters in text, pixels in files (default: the terminal's width, or 800)"),
        Param("height", .optional(.int), default: .nil, doc: "characters in text, pixels in files (default: fits the terminal, or 500)"),
    ]

    /// The `bins` argument of a histogram, 1 to 1000 (each bin is a bar someone has to read).
    static func bins(_ a: Arguments) throws -> Int {
        let bins = a.int("bins")
        guard bins >= 1, bins <= 1000 else { throw a.error("bins must be between 1 and 1000, got \(bins)") }
        return bins
    }

    /// Applies the common options and shows the figure where the session shows figures.
    static func show(_ figure: Figure, _ a: Arguments, xlabel: String, ylabel: String) throws -> Value {
        var f = figure
        f.title = a.string("title")
        f.xlabel = a.optionalString("xlabel") ?? xlabel
        f.ylabel = a.optionalString("ylabel") ?? ylabel
        switch a["log"] {
        case .bool(let b): f.logY = b
        case .string(let s):
            guard ["x", "y", "xy", "yx"].contains(s) else { throw a.error("log must be true, false, \"x\", \"y\" or \"xy\", got \(Value.quote(s))") }
            f.logX = s.contains("x"); f.logY = s.contains("y")
        default: break
        }
        if case .bool(let b) = a["legend"] { f.legend = b }
        let width = a.optionalInt("width"), height = a.optionalInt("height")
        if let w = width, w < 20 || w > 10000 { throw a.error("width must be between 20 and 10000, got \(w)") }
        if let h = height, h < 8 || h > 10000 { throw a.error("height must be between 8 and 10000, got \(h)") }
        let save: Figure.Output?
        if let path = a.optionalString("save") {
            guard let o = Figure.Output.file(path, width: width ?? 800, height: height ?? 500) else {
                throw a.error("save: \(Value.quote(path)) must end in .png or .svg")
            }
            save = o
        } else {
            save = nil
        }
        do {
            try display(f, in: a.interpreter, width: width, height: height, save: save)
        } catch let e as PlotError {
            throw a.error(e.message)
        } catch let e as FileWriteError {
            throw a.error(e.description)
        }
        a.interpreter.resultShown = true
        return .nil
    }

    /// Draws `f` where the interpreter shows figures, and to `save` if given; prints notes and,
    /// for a figure with nothing to draw, the reason instead of a figure. Used by the plot
    /// functions and by training's live curve.
    static func display(_ f: Figure, in interp: Interpreter, width: Int? = nil, height: Int? = nil, save: Figure.Output? = nil) throws {
        // Under mpirun rank 0 alone draws and saves figures: the others would write the same files.
        guard World.current.isLeader else { return }
        let out = interp.output
        do {
            var notes: [String] = []
            switch interp.figureDestination {
            case .text:
                let size = terminalSize(interp)
                let r = try f.render(to: .dumb(width: width ?? size.width, height: height ?? size.height))
                out(r.text + "\n")
                notes = r.notes
            case .files:
                let file = try nextFigureFile(interp)
                let r = try f.render(to: .png(path: file.path, width: width ?? 800, height: height ?? 500))
                out("![\(f.title.isEmpty ? "figure" : f.title)](\(file.link))\n")
                notes = r.notes
            }
            if let save {
                let r = try f.render(to: save)
                out("saved \(r.files.joined(separator: " and "))\n")
            }
            for n in notes { out("note: \(n)\n") }
        } catch let e as PlotError where e.kind == .empty {
            out(e.message + "\n")
        }
    }

    /// The next figure's file beside a notebook (`directory/prefix-N.png`, made if missing) and
    /// its link relative to the notebook; nil outside `.files`.
    static func nextFigureFile(_ interp: Interpreter) throws -> (path: String, link: String) {
        guard case let .files(directory, linkDirectory, prefix) = interp.figureDestination else {
            preconditionFailure("figures go to files only in .files")
        }
        interp.figuresWritten += 1
        let name = "\(prefix)-\(interp.figuresWritten).png"
        try AtomicFile.makeDirectory(directory)
        return (directory + "/" + name, linkDirectory + "/" + name)
    }

    /// The dumb terminal's size: the window's, less room for the prompt, or 80 × 24 outside a terminal.
    static func terminalSize(_ interp: Interpreter) -> (width: Int, height: Int) {
        guard interp.outputIsTerminal else { return (80, 24) }
        var w = winsize()
        // Under `finch run --np` rank 0 writes to mpirun's pseudo-terminal: the launcher says the real one's size.
        let window = ioctl(1, UInt(TIOCGWINSZ), &w) == 0 && w.ws_col > 0 && w.ws_row > 0
            ? (columns: Int(w.ws_col), rows: Int(w.ws_row)) : Launcher.terminalSize
        guard let window else { return (80, 24) }
        return (max(40, min(window.columns - 1, 200)), max(12, min(window.rows - 4, 40)))
    }
}

/// train(..., plot_every: N)'s loss curve, redrawn as training goes: in place above the progress
/// line in a terminal, rewritten as one image beside a notebook (linked once, at the end), and
/// drawn once at the end anywhere else.
final class LivePlot {
    private let interp: Interpreter
    private let terminal: Bool
    private var linesOnScreen = 0
    private var file: (path: String, link: String)?
    private let displayId = UUID().uuidString

    init(_ interp: Interpreter, terminal: Bool) {
        self.interp = interp
        self.terminal = terminal
    }

    /// The loss and validation loss of the steps so far.
    static func figure(_ history: [StepRecord]) -> Figure {
        let done = history.filter { !$0.skipped }
        let val = done.filter { $0.valLoss != nil }
        var series = [Figure.Series(name: "loss", x: done.map { Double($0.step) }, y: done.map { Double($0.loss) })]
        if !val.isEmpty { series.append(.init(name: "val_loss", x: val.map { Double($0.step) }, y: val.map { Double($0.valLoss!) })) }
        return Figure(.lines, title: "Training loss", xlabel: "step", ylabel: "loss", series: series)
    }

    /// Something else was printed below the curve (samples, a validation line): draw anew below it.
    func keepScreen() { linesOnScreen = 0 }

    private var failed = false

    /// A redraw during training: a failure (gnuplot missing, a full disk) is said once and
    /// stops the redrawing, not the training.
    func tryUpdate(_ history: [StepRecord], final: Bool = false) {
        guard !failed else { return }
        do { try update(history, final: final) } catch {
            failed = true
            interp.output("\nplot_every: \(error); training goes on without the live curve\n")
            keepScreen()
        }
    }

    private func update(_ history: [StepRecord], final: Bool) throws {
        let f = Self.figure(history)
        switch interp.figureDestination {
        case .text:
            guard terminal || final else { return }
            let size = PlotBindings.terminalSize(interp)
            guard history.contains(where: { !$0.skipped }) else { return }
            let text = try f.render(to: .dumb(width: size.width, height: min(size.height, 24))).text
            let out = interp.output
            if terminal {
                out("\r\u{1B}[2K")
                if linesOnScreen > 0 { out("\u{1B}[\(linesOnScreen)A\u{1B}[J") }
            }
            out(text + "\n")
            linesOnScreen = text.split(separator: "\n", omittingEmptySubsequences: false).count
        case .files:
            if file == nil { file = try PlotBindings.nextFigureFile(interp) }
            guard let file, history.contains(where: { !$0.skipped }) else { return }
            try f.render(to: .png(path: file.path, width: 800, height: 500))
            // A live display shows every redraw in one place; printing shows the final curve.
            if let display = interp.liveDisplay { display.show(displayId, imageAt: file.path, title: f.title) }
            else if final { interp.output("![\(f.title)](\(file.link))\n") }
        }
    }
}
