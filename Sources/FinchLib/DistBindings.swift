import FinchDist
import FinchLang
import FinchModel
import FinchTrain
import Foundation

/// Data-parallel training in the language: which process this is, running a script as several,
/// and reading back the logs runs wrote.
enum DistBindings {
    static func register(in r: Registry) {
        r.section("Processes")
        r.register(NativeFunction("world", [], returns: "dict",
                                  doc: "This process's place among those training together: {rank, size}. Alone it is {rank: 0, size: 1}; under `finch run --np N` (or mpirun -np N) each of the N processes has its rank, and train(), evaluate(), multiple_choice() and perplexity() share their work among them. Rank 0 alone prints, plots and writes checkpoints and logs.",
                                  example: "if world()[\"rank\"] == 0 { print(\"I print\") }") { _ in
            let w = World.current
            return .dict(try DictRef([(.string("rank"), .number(Double(w.rank))), (.string("size"), .number(Double(w.size)))]))
        })
        r.register(NativeFunction("launch", [
            Param("script", .string, doc: "a .finch script (or .md notebook) to run"),
            Param("processes", .int, default: .number(2), doc: "how many processes train it together, data-parallel"),
        ], returns: "nil",
        doc: "Runs a script as separate processes through Open MPI, as `finch run --np N script` does, showing what rank 0 prints as it goes: the same training, each process taking its share of every batch. Ctrl-C stops every process after its current step. An error if the script fails.",
        example: "launch(\"train_small.finch\", processes: 2)") { a in
            let script = a.string("script"), n = a.int("processes")
            guard n >= 1, n <= 64 else { throw a.error("processes must be from 1 to 64, got \(n)") }
            guard FileManager.default.isReadableFile(atPath: script) else { throw a.error("cannot read \(script)") }
            guard !World.launchedByMPI else { throw a.error("launch() starts mpirun; this process is already one of mpirun's") }
            let out = a.interpreter.output
            var printed = false
            Interrupt.clear()
            let status: Int32
            do {
                status = try Launcher.run(processes: n, arguments: ["run", script], output: { text in
                    out(text)
                    printed = true
                }, shouldStop: { Interrupt.requested }, stopped: { Interrupt.clear() })
            } catch let e as DistributedError { throw a.error(e.description) }
            guard status == 0 else {
                throw a.error("\(script) failed as \(n) process\(n == 1 ? "" : "es") (exit status \(status))" + (printed ? "; its last words are above" : ""))
            }
            return .nil
        })
        r.register(NativeFunction("read_log", [Param("path", .string, doc: "a .csv or .jsonl file that train(log: ...) wrote")], returns: "Table",
                                  doc: "A training log read back as a table (step, loss, val_loss, lr, grad_norm, tokens_per_s, elapsed): to plot runs made elsewhere, by other processes or earlier, beside each other.",
                                  example: "plot({\"1 process\": read_log(\"runs/a.csv\"), \"2 processes\": read_log(\"runs/b.csv\")}, y: \"loss\")") { a in
            do {
                let (columns, rows) = try HistoryLog.read(a.string("path"))
                return TableBindings.wrap(Table(columns: columns, rows: rows.map { $0.map { $0.map(Value.number) ?? .nil } }))
            } catch let e as ModelError { throw a.error(e.description) }
        })
    }
}
