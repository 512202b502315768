import FinchDist
import FinchIO
import FinchModel
import FinchTensor
import FinchTrain
import Foundation

/// dist: data-parallel training on this machine. SmolLM2-135M at a global batch of 4 × 256
/// tokens, full finetuning and LoRA (rank 8 on q and v), as one process with two threads
/// against two processes (mpirun) with one thread each, interleaved run by run and compared by
/// medians; and the all-reduce of the gradients alone (full and LoRA sizes) between two
/// processes on loopback. Each run is a `finch bench dist --part ...` process of its own.
enum DistBench {
    /// Timed steps per run (after one untimed), and runs of each side.
    static let steps = 3, rounds = 3

    static func run(_ out: BenchReporter, _ options: BenchOptions) throws {
        switch options.part {
        case "full"?, "lora"?: return try worker(out, lora: options.part == "lora")
        case "allreduce"?: return try allReduce(out)
        default: break  // no part (BenchCommand accepts only the parts listed for dist)
        }
        for method in ["full", "lora"] {
            var alone: [Double] = [], together: [Double] = []
            for _ in 0..<rounds {
                alone.append(try figure(processes: nil, part: method, key: "dist.step_tps"))
                together.append(try figure(processes: 2, part: method, key: "dist.step_tps"))
            }
            let a = BenchTiming.median(alone), b = BenchTiming.median(together)
            out.report("dist.\(method)_1x2_tps", a, digits: 1)
            out.report("dist.\(method)_2x1_tps", b, digits: 1)
            out.report("dist.\(method)_efficiency", b / a, digits: 3)
        }
        let lines = try workerOutput(processes: 2, part: "allreduce")
        for key in ["dist.allreduce_full_mb", "dist.allreduce_full_ms", "dist.allreduce_full_gbps",
                    "dist.allreduce_lora_mb", "dist.allreduce_lora_ms", "dist.allreduce_lora_gbps"] {
            guard let v = lines[key] else { throw BenchError("the all-reduce run did not report \(key)") }
            out.report(key, v, digits: key.hasSuffix("_mb") ? 1 : 3)
        }
    }

    /// One worker run's figure.
    static func figure(processes: Int?, part: String, key: String) throws -> Double {
        guard let v = try workerOutput(processes: processes, part: part)[key] else { throw BenchError("the \(part) run did not report \(key)") }
        return v
    }

    /// Runs `finch bench dist --part P` alone (all cores) or as `processes` ranks; its key: value lines.
    static func workerOutput(processes: Int?, part: String) throws -> [String: Double] {
        let args = ["bench", "dist", "--part", part]
        var text = "", status: Int32
        if let processes {
            status = try Launcher.run(processes: processes, arguments: args, output: { text += $0 })
        } else {
            let r = try Spawn.output(Launcher.finchExecutable, args)
            status = r.status; text = r.text
        }
        guard status == 0 else { throw BenchError("finch bench dist --part \(part) failed (exit status \(status)):\n\(text)") }
        var out: [String: Double] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, let v = Double(parts[1].trimmingCharacters(in: .whitespaces)) { out[String(parts[0])] = v }
        }
        return out
    }

    /// The global batch is 4 examples whatever the process count: each rank takes 4 ÷ N.
    static func worker(_ out: BenchReporter, lora: Bool) throws {
        let world = World.current
        guard TrainBench.batch % world.size == 0 else { throw BenchError("the global batch of \(TrainBench.batch) does not split among \(world.size) processes") }
        let (model, data) = try TrainBench.smolLM2()
        if lora { try model.addLoRA(rank: 8, alpha: 16, targets: ["q", "v"]) }
        var options = TrainBench.trainOptions()
        options.batch = TrainBench.batch / world.size
        let trainer = try Trainer(model: model, data: data, options: options, world: world)
        try trainer.step()
        _ = world.max(0)  // start the clock together
        let start = BenchTiming.now()
        for _ in 0..<steps { try trainer.step() }
        let seconds = BenchTiming.now() - start
        if world.isLeader { out.report("dist.step_tps", Double(steps * TrainBench.batch * TrainBench.sequence) / seconds, digits: 2) }
    }

    /// Sums the gradients of every SmolLM2 parameter, then of LoRA's adapters, over the ranks,
    /// as a training step does; the bandwidth is the gradient bytes over the seconds one takes.
    static func allReduce(_ out: BenchReporter) throws {
        let world = World.current
        let model = try LanguageModel(gguf: ModelStore.resolve("smollm2-135m"))
        let full = model.parameters.map(\.tensor)
        try model.addLoRA(rank: 8, alpha: 16, targets: ["q", "v"])
        let adapters = model.loraParameters.map(\.tensor)
        for (name, params, repeats) in [("full", full, 5), ("lora", adapters, 50)] {
            for p in params { p.grad = try Tensor.zeros(p.shape) }
            try world.sumGradients(params)
            var times: [Double] = []
            for _ in 0..<repeats {
                _ = world.max(0)
                let t0 = BenchTiming.now()
                try world.sumGradients(params)
                times.append(BenchTiming.now() - t0)
            }
            let bytes = Double(params.reduce(0) { $0 + $1.count } * 4), t = BenchTiming.median(times)
            if world.isLeader {
                out.report("dist.allreduce_\(name)_mb", bytes / 1e6, digits: 1)
                out.report("dist.allreduce_\(name)_ms", t * 1e3, digits: 3)
                out.report("dist.allreduce_\(name)_gbps", bytes / t / 1e9, digits: 3)
            }
            for p in params { p.grad = nil }
        }
    }
}
