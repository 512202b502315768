import ArgumentParser
import FinchDist
import FinchLang
import FinchNotebook
import FinchTensor
import Foundation

/// What `finch run nb.md` and `finch test` share: reading notebooks and replaying them with
/// each cell's number and output printed as it runs.
enum NotebookSession {
    static func read(_ path: String) throws -> Notebook {
        do { return try Notebook(contentsOf: path) } catch let e as NotebookError {
            FileHandle.standardError.write("finch: \(e)\n".data(using: .utf8)!)
            throw ExitCode(2)
        }
    }

    /// Replays a notebook, echoing its output (quietly: only failures are printed, when `quiet`).
    static func replay(_ nb: Notebook, keepGoing: Bool, quiet: Bool, figuresIn directory: String? = nil) throws -> [NotebookReplay.CellResult] {
        let interpreter = try Session.makeInterpreter()
        let replay = NotebookReplay(notebook: nb, interpreter: interpreter)
        if let directory { replay.assetsDirectory = directory }
        let total = nb.cells.count
        // In a terminal, a long cell that prints nothing for a while says it is still running.
        let progress = !quiet && isatty(1) != 0 ? CellProgress() : nil
        if !quiet {
            replay.willRun = { cell in
                progress?.end()
                NotebookSession.say("── \(nb.path) · cell \(cell.number)/\(total) · line \(cell.fenceLine)")
                progress?.begin("cell \(cell.number)")
            }
            replay.echo = { text in
                if let progress { progress.write(text) } else { FileHandle.standardOutput.write(text.data(using: .utf8)!) }
            }
        }
        let results = replay.run(keepGoing: keepGoing)
        progress?.end()
        if !quiet {
            let ran = results.filter { $0.output != nil }
            let seconds = results.reduce(0) { $0 + $1.seconds }
            NotebookSession.say("── \(nb.path): \(ran.count) of \(total) cells run in \(String(format: "%.1f", seconds)) s")
        }
        for r in results where r.failure != nil {
            FileHandle.standardError.write("finch: \(nb.path): cell \(r.number) failed: \(r.failure!)\n".data(using: .utf8)!)
        }
        return results
    }

    /// Runs body with a fresh directory under the system's temporary one for figures nobody keeps,
    /// removed afterwards.
    static func withScratch<T>(_ body: (String) throws -> T) rethrows -> T {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("finch-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        return try body(scratch)
    }

    /// A line on standard output, unbuffered like the cells' own output so the two stay in order.
    static func say(_ line: String) { FileHandle.standardOutput.write((line + "\n").data(using: .utf8)!) }

    /// The notebooks a path names: the file, or the .md files in a directory.
    static func notebooks(in path: String) throws -> [String] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { throw ValidationError("no such file or directory: \(path)") }
        guard isDir.boolValue else { return [path] }
        let names = try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasSuffix(".md") && $0 != "README.md" }.sorted()
        return names.map { (path as NSString).appendingPathComponent($0) }
    }
}

extension Run {
    /// `finch run nb.md`: replay, and with --write put the new outputs back.
    func runNotebook(_ path: String) throws {
        let nb = try NotebookSession.read(path)
        // Outputs made with other kernels than the notebook's own go to their recording, and
        // their figures to a scratch directory: the notebook and its images stay as they are.
        let kernels = BLASKernels.running
        let elsewhere = write && nb.recordsElsewhere(kernels: kernels)
        let results = try NotebookSession.withScratch { scratch in
            try NotebookSession.replay(nb, keepGoing: keepGoing, quiet: false, figuresIn: elsewhere ? scratch : nil)
        }
        let failed = results.contains { $0.failure != nil }
        // Under mpirun the other ranks replay silently: their outputs are empty, rank 0's are the notebook's.
        if write && World.current.isLeader {
            if failed && !keepGoing {
                FileHandle.standardError.write("finch: \(path) was not written (a cell failed; --keep-going writes anyway)\n".data(using: .utf8)!)
            } else if results.contains(where: \.interrupted) {
                FileHandle.standardError.write("finch: \(path) was not written (stopped by Ctrl-C)\n".data(using: .utf8)!)
            } else {
                var outputs: [Int: Output] = [:]
                for r in results { if let o = r.output { outputs[r.number] = o } }
                let target = elsewhere ? nb.recordingPath(kernels: kernels) : path
                if elsewhere {
                    try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                }
                try nb.write(replacingOutputs: outputs, to: target)
                NotebookSession.say(elsewhere ? "wrote \(target) (the outputs with \(kernels)'s kernels; \(path) keeps \(nb.testSettings.kernels!)'s)" : "wrote \(path)")
            }
        }
        if failed { throw ExitCode(1) }
    }
}

/// `finch test [paths]`: replays notebooks and compares every cell's output with the recorded one.
struct Test: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replay notebooks and compare each cell's output with the recorded one.",
        discussion: "Numbers with a decimal point compare within --rtol, integers and text exactly; times, speeds and memory sizes are sanitized. A cell marked ignore-output is run but not compared. A notebook that names the OpenBLAS kernel set of its outputs (<!-- finch-test: kernels=NAME -->) is compared, on a machine running another set, with that set's recording in <name>.assets/recorded-<set>.md, which `finch run --write` makes there. The exit status is 1 when any cell differs or fails, 2 when a notebook or its recording cannot be used.")

    @Argument(help: "Notebooks, or directories of them (default: Notebooks).") var paths: [String] = ["Notebooks"]
    @Option(help: "Relative tolerance for decimal numbers (a notebook's <!-- finch-test: rtol=X --> wins).") var rtol: Double = 1e-2
    @Flag(help: "Print every cell's output as it runs.") var verbose = false
    @Flag(help: "Go on after a cell fails.") var keepGoing = false

    func run() throws {
        var files: [String] = []
        for p in paths { files += try NotebookSession.notebooks(in: p) }
        guard !files.isEmpty else { throw ValidationError("no notebooks found in \(paths.joined(separator: ", "))") }
        var bad = 0
        let kernels = BLASKernels.running
        for file in files {
            let nb = try NotebookSession.read(file)
            let reference: Notebook?
            do { reference = try nb.recording(for: kernels) } catch let e as NotebookError {
                FileHandle.standardError.write("finch: \(e)\n".data(using: .utf8)!)
                throw ExitCode(2)
            }
            let start = Date()
            // Figures go to a scratch directory: checking a notebook never rewrites its images.
            let results = try NotebookSession.withScratch { scratch in
                try NotebookSession.replay(nb, keepGoing: keepGoing, quiet: !verbose, figuresIn: scratch)
            }
            let comparison = try OutputComparison(rtol: nb.testSettings.rtol ?? rtol, extraSanitizers: nb.testSettings.sanitizers)
            var problems: [String] = []
            for r in results {
                let cell = nb.cells[r.number - 1]
                if let f = r.failure { problems.append("cell \(r.number) (line \(cell.fenceLine)) failed: \(f)"); continue }
                guard let got = r.output, !cell.options.ignoreOutput else { continue }
                let recorded = (reference ?? nb).cells[r.number - 1].recorded?.text ?? ""
                if let d = comparison.diff(recorded: recorded, replayed: got.text) {
                    problems.append("cell \(r.number) (line \(cell.fenceLine)) differs from its recorded output (- recorded, + now):\n\(d)")
                }
            }
            if results.count < nb.cells.count, results.last?.failure != nil, !keepGoing {
                problems.append("\(nb.cells.count - results.count) cells after it were not run")
            }
            if reference == nil, !problems.isEmpty {
                problems.append("its outputs were recorded with OpenBLAS's \(nb.testSettings.kernels!) kernels and this machine runs \(kernels)'s, which round differently; there is no recording for \(kernels) yet: `finch run --write \(file)` here writes one to \(nb.recordingPath(kernels: kernels))")
            }
            let seconds = String(format: "%.0f s", Date().timeIntervalSince(start))
            if problems.isEmpty {
                let against = reference != nil && nb.recordsElsewhere(kernels: kernels) ? ", against \(kernels)'s recording" : ""
                NotebookSession.say("ok    \(file) (\(nb.cells.count) cells, \(seconds)\(against))")
            } else {
                bad += 1
                NotebookSession.say("FAIL  \(file) (\(seconds))\n" + problems.map { "  " + $0.replacingOccurrences(of: "\n", with: "\n    ") }.joined(separator: "\n"))
            }
        }
        if bad > 0 {
            NotebookSession.say("\(bad) of \(files.count) notebooks failed")
            throw ExitCode(1)
        }
    }
}

/// `finch export --ipynb nb.md`: the notebook in Jupyter's format, outputs and figures included.
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Export a notebook to Jupyter's .ipynb, with its outputs and figures embedded.")

    @Flag(help: "Write a Jupyter notebook (the one format there is).") var ipynb = false
    @Argument(help: "The Markdown notebook.") var notebook: String
    @Option(name: .shortAndLong, help: "Where to write (default: beside it, .ipynb).") var output: String?

    func validate() throws {
        guard ipynb else { throw ValidationError("say which format: --ipynb") }
    }

    func run() throws {
        let nb = try NotebookSession.read(notebook)
        let target = output ?? (notebook.hasSuffix(".md") ? String(notebook.dropLast(3)) : notebook) + ".ipynb"
        do { try nb.exportIpynb(to: target) } catch let e as NotebookError {
            FileHandle.standardError.write("finch: \(e)\n".data(using: .utf8)!)
            throw ExitCode(1)
        }
        NotebookSession.say("wrote \(target)")
    }
}
