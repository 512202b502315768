import ArgumentParser
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

    func validate() throws {
        guard (file == nil) != (eval == nil) else { throw ValidationError("give a file to run, or -e CODE") }
        if (write || keepGoing) && !(file?.hasSuffix(".md") ?? false) { throw ValidationError("--write and --keep-going are for notebooks (.md files)") }
    }

    func run() throws {
        let interpreter = try Session.makeInterpreter()
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
}

/// What every way of running Finch code shares: making the interpreter and reporting errors.
enum Session {
    static func makeInterpreter() throws -> Interpreter {
        Interrupt.installHandler()
        let interpreter = try FinchLibrary.makeInterpreter()
        interpreter.outputIsTerminal = isatty(1) != 0
        return interpreter
    }

    /// Runs body; on a Finch error prints it to stderr and exits with status 1.
    static func exitOnError(_ body: () throws -> Void) {
        do { try body() } catch {
            FileHandle.standardError.write((String(describing: error) + "\n").data(using: .utf8)!)
            Foundation.exit(1)
        }
    }
}
