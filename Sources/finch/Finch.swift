import ArgumentParser
import FinchLang
import FinchLib
import FinchREPL
import Foundation

/// The `finch` command: the REPL when run alone at a terminal, a script reader
/// when standard input is a pipe or file, and subcommands for the rest.
@main
struct Finch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finch",
        abstract: "Finch, a finetuning lab: tensors, tokenizers, models and training in a small language.",
        discussion: "Run alone for the REPL; pipe a script to run it (finch < script.finch).",
        version: FinchVersion.string,
        subcommands: [Run.self, Test.self, Export.self, Serve.self, Kernel.self, Docs.self, Bench.self, Demo.self]
    )

    func run() throws {
        let interpreter = try Session.makeInterpreter()
        if isatty(0) != 0 {
            REPL(interpreter: interpreter, historyPath: REPL.defaultHistoryPath).run()
            return
        }
        // Not a terminal: read the whole input and run it as a script, without prompts.
        let data = FileHandle.standardInput.readDataToEndOfFile()
        let text = String(decoding: data, as: UTF8.self)
        Session.exitOnError { try interpreter.run(text, name: "<stdin>") }
    }
}

enum FinchVersion {
    static let string = "0.1.0"
}
