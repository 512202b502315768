import Foundation
import ArgumentParser
import FinchDist

/// `finch bench NAME`: prints measured figures as `key: value` lines.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure Finch against its baselines and print `key: value` lines.",
        discussion: "Benchmarks: \(Benchmarks.all.map(\.name).joined(separator: ", ")). Build in release first (make bench)."
    )

    @Argument(help: "Which benchmark to run (\(Benchmarks.all.map(\.name).joined(separator: ", ")), or all).")
    var name: String

    @Option(help: "Minimum seconds spent on each measured case.")
    var seconds: Double = 0.5

    @Option(help: "Text file for the tokenizer benchmark (default: English text found under /usr/share).")
    var text: String?

    @Option(help: .hidden)
    var part: String?

    func validate() throws {
        guard name == "all" || Benchmarks.all.contains(where: { $0.name == name }) else {
            let names = Benchmarks.all.map(\.name) + ["all"]
            throw ValidationError("unknown benchmark '\(name)'; choose one of: \(names.joined(separator: ", "))")
        }
        if let part {
            let parts = Benchmarks.all.first { $0.name == name }?.parts ?? []
            guard parts.contains(part) else {
                throw ValidationError(parts.isEmpty ? "the \(name) benchmark has no parts; run it without --part"
                                                    : "unknown part '\(part)' of the \(name) benchmark; choose one of: \(parts.joined(separator: ", "))")
            }
        }
    }

    func run() throws {
        let options = BenchOptions(seconds: seconds, textFile: text, part: part)
        defer { World.current.finalize() }  // the dist benchmark's parts run under mpirun
        for bench in Benchmarks.all where name == "all" || bench.name == name {
            try bench.run(BenchReporter(), options)
        }
    }
}

/// The benchmarks `finch bench` knows.
enum Benchmarks {
    struct Entry: Sendable {
        let name: String
        let run: @Sendable (BenchReporter, BenchOptions) throws -> Void
        /// What `--part` may name: one piece run alone (for profiling, or in a process of its own).
        var parts: [String] = []
    }

    static let all: [Entry] = [
        Entry(name: "gemm", run: GemmBench.run),
        Entry(name: "elementwise", run: ElementwiseBench.run),
        Entry(name: "lang", run: LangBench.run),
        Entry(name: "tokenizer", run: TokenizerBench.run),
        Entry(name: "generate", run: GenerateBench.run, parts: ["decode", "prefill"]),
        Entry(name: "data", run: DataBench.run),
        Entry(name: "train", run: TrainBench.run, parts: ["steps", "q8-steps", "tiny", "full", "full-bf16"] + TrainBench.memoryParts),
        Entry(name: "eval", run: EvalBench.run),
        Entry(name: "models", run: ModelsBench.run),
        Entry(name: "serve", run: ServeBench.run),
        Entry(name: "dist", run: DistBench.run, parts: ["full", "lora", "allreduce"]),
    ]
}

/// What `finch bench` was asked for.
struct BenchOptions: Sendable {
    /// Minimum seconds for each measured case.
    let seconds: Double
    /// Text for the tokenizer benchmark, instead of the machine's.
    let textFile: String?
    /// One part of a benchmark, run in a process of its own (the train benchmark's memory figures).
    let part: String?
}

/// Prints figures as `key: value` lines, flushing each so long runs show progress.
struct BenchReporter: Sendable {
    func report(_ key: String, _ value: Double, digits: Int = 2) {
        print("\(key): \(formatted(value, digits: digits))")
        fflush(nil)  // flushes every stream; naming stdout trips Swift 6 isolation checks
    }
}
