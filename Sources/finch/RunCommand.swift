import ArgumentParser
import FinchDist
import FinchLang
import FinchLib
import Foundation

/// `finch run FILE`: runs a Finch script or replays a Markdown notebook; `finch run -e CODE` runs a snippet.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run a Finch script or replay a notebook (.md) cell by cell (or -e CODE).")

    @Argument(help: "The .finch script, or .md notebook, to run.") var file: String?
    @Option(name: .shortAndLong, help: "Code to run instead of a file; a final expression's value is printed.") var eval: String?
    @Flag(help: "Notebooks: write the new outputs back into the file (atomically; not when a cell failed), or, on other OpenBLAS kernels than its kernels= setting names, into <name>.assets/recorded-<set>.md.") var write = false
    @Flag(help: "Notebooks: go on after a cell fails (and with --write, write anyway); Ctrl-C still stops.") var keepGoing = false
    @Option(help: ArgumentHelp("Run as this many processes training data-parallel (through Open MPI's mpirun); Ctrl-C stops every one after its current step.", valueName: "N")) var np: Int?

    func validate() throws {
        guard (file == nil) != (eval == nil) else { throw ValidationError("give a file to run, or -e CODE") }
        if (write || keepGoing) && !(file?.hasSuffix(".md") ?? false) { throw ValidationError("--write and --keep-going are for notebooks (.md files)") }
        if let np, np < 1 || np > 1024 { throw ValidationError("--np must be from 1 to 1024, got \(np)") }
        if np != nil && World.launchedByMPI { throw ValidationError("--np starts mpirun; this finch is already one of mpirun's processes (drop --np)") }
    }

    func run() throws {
        if let np { return try launch(np) }
        let interpreter = try Session.makeInterpreter()
        defer { World.current.finalize() }
        if let code = eval {
            Session.exitOnError {
                if let v = try interpreter.run(code, name: "-e"), !v.isNil, !interpreter.resultShown { print(v.repr) }
            }
            return
        }
        if let path = file, path.hasSuffix(".md") { return try runNotebook(path) }
        guard let path = file, let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            FileHandle.standardError.write("finch: cannot read \(file ?? "")\n".data(using: .utf8)!)
            throw ExitCode(2)
        }
        interpreter.baseDirectory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        Session.exitOnError { try interpreter.run(text, name: path) }
    }

    /// `--np N`: this command again, as N ranks under mpirun; exits with mpirun's status.
    private func launch(_ np: Int) throws {
        var args = ["run"]
        if let file { args.append(file) }
        if let eval { args += ["-e", eval] }
        if write { args.append("--write") }
        if keepGoing { args.append("--keep-going") }
        Interrupt.installHandler()
        signal(SIGTERM) { _ in Interrupt.request() }
        let status: Int32
        do {
            status = try Launcher.run(processes: np, arguments: args, shouldStop: { Interrupt.requested }, stopped: {
                Interrupt.clear()
                FileHandle.standardError.write("\nfinch: Ctrl-C: every process stops after its current step (Ctrl-C again ends them now)\n".data(using: .utf8)!)
            })
        } catch let e as DistributedError {
            FileHandle.standardError.write("finch: \(e.description)\n".data(using: .utf8)!)
            throw ExitCode(2)
        }
        if status != 0 { throw ExitCode(status) }
    }
}

/// What every way of running Finch code shares: making the interpreter and reporting errors.
enum Session {
    static func makeInterpreter() throws -> Interpreter {
        Interrupt.installHandler()
        // mpirun forwards SIGUSR1 to every rank: `finch run --np` turns Ctrl-C into it.
        signal(SIGUSR1) { _ in Interrupt.request() }
        let interpreter = try FinchLibrary.makeInterpreter()
        // A rank's standard output is mpirun's pseudo-terminal even when nobody watches: the launcher says.
        interpreter.outputIsTerminal = World.launchedByMPI ? Launcher.terminalSize != nil : isatty(1) != 0
        if World.current.rank > 0 {
            // Rank 0 alone prints: the others run the same script silently (errors still go to stderr).
            interpreter.output = { _ in }
            let null = open("/dev/null", O_WRONLY)
            if null >= 0 { dup2(null, 1); close(null) }
        }
        return interpreter
    }

    /// Runs body; on a Finch error prints it to stderr and exits with status 1.
    static func exitOnError(_ body: () throws -> Void) {
        do { try body() } catch {
            // Under mpirun a rank's error says which rank it is (rank 0's reads as it always does).
            let rank = World.current.rank > 0 ? "rank \(World.current.rank): " : ""
            // An error every rank raises together (ranks that disagree) is said once, by rank 0.
            if !rank.isEmpty, let shared = World.current.collectiveFailure, String(describing: error).contains(shared) { Foundation.exit(1) }
            FileHandle.standardError.write((rank + String(describing: error) + "\n").data(using: .utf8)!)
            Foundation.exit(1)
        }
    }
}
