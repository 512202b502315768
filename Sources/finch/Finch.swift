import ArgumentParser

/// The `finch` command: the REPL by default (issue [2]), notebooks, benchmarks.
@main
struct Finch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finch",
        abstract: "Finch, a finetuning lab: tensors, tokenizers, models and training in a small language.",
        version: FinchVersion.string,
        subcommands: [Run.self, Docs.self, Bench.self, Demo.self]
    )
}

enum FinchVersion {
    static let string = "0.1.0"
}
