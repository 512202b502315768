import FinchDist
import FinchLang
import FinchModel
import FinchTensor
import FinchTrain
import Foundation

/// What the person watching a training run sees, each an observer of the trainer's steps:
/// the progress line, sample generations and the live loss curve. `train()` only wires them up.
final class TrainWatchers {
    private let progress: ProgressLine
    private let sampler: SampleGenerations?
    private let live: LivePlot?
    private let plotEvery: Int
    private let steps: Int

    /// Reads and checks train()'s watching arguments (plot_every, sample_every, sample_prompts,
    /// print_every) before any training work starts.
    init(_ a: Arguments, steps: Int, model: LanguageModel) throws {
        let interpreter = a.interpreter
        let terminal = isatty(1) != 0 && interpreter.outputIsTerminal
        self.steps = steps
        plotEvery = a.int("plot_every")
        guard plotEvery >= 0 else { throw a.error("plot_every must be 0 or more, got \(plotEvery)") }
        let sampleEvery = a.int("sample_every")
        guard sampleEvery >= 0 else { throw a.error("sample_every must be 0 or more, got \(sampleEvery)") }
        let prompts = try DataBindings.strings(a, "sample_prompts")
        if sampleEvery > 0, prompts.isEmpty { throw a.error("sample_every needs sample_prompts") }
        if let every = a.optionalInt("print_every"), every <= 0 { throw a.error("print_every must be positive, got \(every)") }
        progress = ProgressLine(interpreter, terminal: terminal, steps: steps, every: a.optionalInt("print_every") ?? max(1, steps / 20))
        live = plotEvery > 0 ? LivePlot(interpreter, terminal: terminal) : nil
        // Only rank 0 shows anything: the other ranks would generate samples nobody reads.
        sampler = sampleEvery > 0 && World.current.isLeader ? SampleGenerations(model: model, prompts: prompts, every: sampleEvery, output: interpreter.output) : nil
    }

    /// Before the first step: a resumed run's last validation loss shows on the progress line.
    func begin(after history: [StepRecord]) {
        progress.lastValLoss = history.last(where: { $0.valLoss != nil })?.valLoss
    }

    /// After each step: the curve first (it sits above the progress line), then the line, then samples.
    func step(_ r: StepRecord, history: @autoclosure () -> [StepRecord]) {
        if let live, r.step % plotEvery == 0, r.step < steps { live.tryUpdate(history()) }
        progress.show(r)
        if r.step == steps { live?.keepScreen() }
        if let sampler, sampler.due(r.step) {
            progress.leaveLine()
            live?.keepScreen()
            sampler.generate(at: r.step)
        }
    }

    /// After the last step (or a stop): the line ends and the final curve is drawn.
    func finish(_ trainer: Trainer) {
        if trainer.stopReason != .finished {
            progress.leaveLine()
            live?.keepScreen()
        }
        live?.tryUpdate(trainer.history, final: true)
    }
}

/// The progress line: redrawn in place in a terminal (cut to the window, since a wrapped line
/// cannot be redrawn), else printed every `every` steps, at the first and last, and at validations.
final class ProgressLine {
    private let interpreter: Interpreter
    private let terminal: Bool
    private let steps: Int
    private let every: Int
    var lastValLoss: Float?
    private var recent: [Double] = []
    private var open = false

    init(_ interpreter: Interpreter, terminal: Bool, steps: Int, every: Int) {
        self.interpreter = interpreter
        self.terminal = terminal
        self.steps = steps
        self.every = every
    }

    /// With a live display: the lines printing would have shown so far, under `displayId`, with
    /// the latest step's line below them while it is not one of them.
    private var displayed: [String] = []
    private var displayId = UUID().uuidString
    private var lastShown = Date.distantPast

    func show(_ r: StepRecord) {
        if let v = r.valLoss { lastValLoss = v }
        recent.append(r.seconds)
        if recent.count > 10 { recent.removeFirst() }
        let perStep = recent.reduce(0, +) / Double(recent.count)
        let line = TrainProgress.line(r, total: steps, lastValLoss: lastValLoss, recentSecondsPerStep: perStep,
                                      peakMB: ProcessMemory.peakMegabytes, bar: terminal)
        let printed = r.step % every == 0 || r.step == steps || r.step == 1 || r.valLoss != nil
        if let display = interpreter.liveDisplay, !terminal {
            // The same lines as printing gives, so the notebook ends as `finch run` prints it; the
            // step in progress shows below them, a few times a second at most.
            if printed { displayed.append(line) }
            guard printed || Date().timeIntervalSince(lastShown) >= 0.25 else { return }
            display.show(displayId, text: (displayed + (printed ? [] : [line])).joined(separator: "\n") + "\n")
            lastShown = Date()
            open = !printed
        } else if terminal {
            let width = PlotBindings.terminalSize(interpreter).width
            interpreter.output("\r\u{1B}[2K" + String(line.prefix(width)) + (r.step == steps ? "\n" : ""))
            open = r.step != steps
        } else if r.step % every == 0 || r.step == steps || r.step == 1 || r.valLoss != nil {
            interpreter.output(line + "\n")
        }
    }

    /// Ends a line being redrawn, so what is printed next starts on its own line; with a live
    /// display, shows just the printed lines and starts a new display below what comes next.
    func leaveLine() {
        if let display = interpreter.liveDisplay, !terminal {
            if open, !displayed.isEmpty { display.show(displayId, text: displayed.joined(separator: "\n") + "\n") }
            displayed = []
            displayId = UUID().uuidString
        } else if open {
            interpreter.output("\n")
        }
        open = false
    }
}

/// Greedy continuations of fixed prompts every `every` steps, to see the answers change as the loss falls.
struct SampleGenerations {
    let model: LanguageModel
    let prompts: [String]
    let every: Int
    let output: (String) -> Void

    func due(_ step: Int) -> Bool { step % every == 0 }

    func generate(at step: Int) {
        var options = GenerationOptions()
        options.maxTokens = 40
        for p in prompts {
            do {
                let text = try GradMode.noGrad { try model.generate(p, options: options) }.text
                output("  sample at step \(step): \(Value.quote(p)) → \(Value.quote(text))\n")
            } catch {
                output("  sample at step \(step): \(Value.quote(p)) failed: \(error)\n")
            }
        }
    }
}
