import ArgumentParser
import FinchLang
import FinchLib
import Foundation

/// `finch run FILE`: runs a Finch script; `finch run -e CODE` runs a snippet.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run a Finch script (or -e CODE).")

    @Argument(help: "The .finch file to run.") var file: String?
    @Option(name: .shortAndLong, help: "Code to run instead of a file; a final expression's value is printed.") var eval: String?

    func validate() throws {
        guard (file == nil) != (eval == nil) else { throw ValidationError("give a file to run, or -e CODE") }
    }

    func run() throws {
        let interpreter = try Session.makeInterpreter()
        if let code = eval {
            Session.exitOnError {
                if let v = try interpreter.run(code, name: "-e"), !v.isNil, !interpreter.resultShown { print(v.repr) }
            }
            return
        }
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
