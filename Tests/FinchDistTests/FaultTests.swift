import FinchIO
import Foundation
import Testing

/// What goes wrong in a data-parallel run, and what a person sees: a rank killed mid-training,
/// ranks that would train different things, and Ctrl-C on `finch run --np`.
@Suite(.serialized) struct FaultTests {
    typealias H = DistHarness

    /// `finch run --np 2` on a run long enough to interrupt, started in the background.
    struct LongRun {
        let pid: pid_t
        let dir: String
        let output: String

        init(dir: String) throws {
            self.dir = dir
            output = dir + "/out.txt"
            let path = dir + "/long.finch"
            try H.script(lora: false, batch: 4, steps: 1_000_000, out: dir, train: ", save_every: 100, print_every: 100").write(toFile: path, atomically: true, encoding: .utf8)
            pid = try Spawn.start(H.finch, ["run", "--np", "2", path], output: output)
        }

        var text: String { (try? String(contentsOfFile: output, encoding: .utf8)) ?? "" }

        /// The checkpoint steps in the save_dir.
        var checkpoints: [Int] {
            ((try? FileManager.default.contentsOfDirectory(atPath: dir + "/ckpt")) ?? [])
                .compactMap { $0.hasPrefix("checkpoint-") ? Int($0.dropFirst("checkpoint-".count)) : nil }.sorted()
        }

        /// Waits up to `seconds` for `condition`.
        func wait(_ seconds: Double, for condition: () -> Bool) -> Bool {
            let end = Date().addingTimeInterval(seconds)
            while Date() < end {
                if condition() { return true }
                Thread.sleep(forTimeInterval: 0.05)
            }
            return condition()
        }

        /// The exit status, waiting at most `seconds` (nil: still running, and then killed with its group).
        func exitStatus(within seconds: Double) -> Int32? {
            let end = Date().addingTimeInterval(seconds)
            while Date() < end {
                if let status = Spawn.poll(pid) { return status }
                Thread.sleep(forTimeInterval: 0.05)
            }
            stop()
            return nil
        }

        /// The ranks: finch processes under this run's mpirun, by rank.
        func ranks() -> [Int: pid_t] {
            var out: [Int: pid_t] = [:]
            for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
                guard let p = Int32(name), let env = FileManager.default.contents(atPath: "/proc/\(p)/environ"),
                      let cmd = FileManager.default.contents(atPath: "/proc/\(p)/cmdline") else { continue }
                let args = cmd.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
                guard args.first?.hasSuffix("/finch") == true, args.contains(dir + "/long.finch"), !args.contains("--np") else { continue }
                for v in env.split(separator: 0).map({ String(decoding: $0, as: UTF8.self) }) where v.hasPrefix("OMPI_COMM_WORLD_RANK=") {
                    if let r = Int(v.dropFirst("OMPI_COMM_WORLD_RANK=".count)) { out[r] = p }
                }
            }
            return out
        }

        /// Ends everything this run started, whatever state it is in.
        func stop() {
            for (_, p) in ranks() { kill(p, SIGKILL) }
            kill(pid, SIGKILL)
            Spawn.wait(pid)
        }
    }

    /// Rank 1 killed mid-training: mpirun ends rank 0 within 30 s and names the lost rank; the
    /// last checkpoint is whole and resumes in one process.
    @Test func aKilledRankStopsTheOthersAndTheLastCheckpointResumes() throws {
        let dir = try H.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let run = try LongRun(dir: dir)
        defer { run.stop() }
        #expect(run.wait(60) { run.checkpoints.count >= 2 }, "checkpoints written: \(run.text)")
        let ranks = run.ranks()
        let victim = try #require(ranks[1], "rank 1 among \(ranks)")
        let killed = Date()
        kill(victim, SIGKILL)
        let status = run.exitStatus(within: 30)
        #expect(status != nil && status != 0, "the run ends, and not as a success")
        #expect(Date().timeIntervalSince(killed) < 30)
        #expect(run.text.contains("process rank 1") && run.text.contains("exited on signal 9"), "names the lost rank: \(run.text)")
        #expect(run.ranks().isEmpty, "no rank is left running")
        let last = try #require(run.checkpoints.last)
        let resumed = try H.run(H.script(lora: false, batch: 8, steps: last + 5, out: dir, train: ", resume: \"\(dir)/ckpt\""), in: dir, name: "resume.finch")
        #expect(resumed.status == 0 && resumed.text.contains("resuming after step \(last)"), "\(resumed.text)")
    }

    /// Ctrl-C on `finch run --np 2`: every rank finishes its step, rank 0 saves a checkpoint at
    /// that step, the script goes on with the run returned, and everything exits cleanly.
    @Test func ctrlCStopsEveryRankAfterItsStep() throws {
        let dir = try H.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let run = try LongRun(dir: dir)
        defer { run.stop() }
        #expect(run.wait(60) { run.text.contains(" 100/1000000 ") }, "training runs: \(run.text)")
        kill(run.pid, SIGINT)
        let status = run.exitStatus(within: 30)
        #expect(status == 0, "\(run.text)")
        let text = run.text
        let stopped = try #require(text.split(separator: "\n").first { $0.hasPrefix("stopped by Ctrl-C after step ") }, "\(text)")
        let step = try #require(Int(stopped.dropFirst("stopped by Ctrl-C after step ".count).prefix { $0.isNumber }))
        #expect(stopped.contains("checkpoint saved in \(dir)/ckpt/checkpoint-\(step)"), "\(stopped)")
        #expect(run.checkpoints.last == step)
        #expect(text.contains("world 2 loss"), "the script went on after train() returned: \(text)")
        #expect(run.ranks().isEmpty, "no rank is left running")
        let state = try H.checkpoint(dir + "/ckpt/checkpoint-\(step)")
        #expect(state.losses.count == step)
    }

    /// Ranks started with different data (or weights) stop at train()'s first collective, all of
    /// them, with one error that says what differs on which rank.
    @Test(arguments: ["data", "model"]) func ranksThatDisagreeStopWithAClearError(what: String) throws {
        let dir = try H.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let script = H.script(lora: false, batch: 4, steps: 5, out: dir)
        let broken = what == "data"
            ? script.replacingOccurrences(of: "data = dataset(rows)", with: "if world()[\"rank\"] == 1 { rows.push({\"question\": \"q\", \"answer\": \"a\"}) }\ndata = dataset(rows)")
            : script.replacingOccurrences(of: "seed: 7)", with: "seed: 7 + world()[\"rank\"])")
        let start = Date()
        let r = try H.run(broken, in: dir, np: 2)
        #expect(r.status != 0)
        #expect(Date().timeIntervalSince(start) < 30)
        let expected = "rank 1 differs from rank 0 in " + (what == "data" ? "the training data" : "the model's weights")
        #expect(r.text.components(separatedBy: expected).count == 2, "said once, by rank 0: \(r.text)")
        #expect(r.text.contains("the 2 ranks do not train the same thing"), "\(r.text)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/ckpt"), "nothing was trained")
    }
}
