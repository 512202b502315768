import FinchData
import FinchModel
import FinchTensor
import FinchText
import FinchTrain
import Foundation
import Testing

/// Checkpoints hold the whole run: resuming gives the losses of an uninterrupted run, step for step.
@Suite struct CheckpointTests {
    static func temp(_ name: String) -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("finch-ckpt-\(name)-\(getpid())").path
        try? FileManager.default.removeItem(atPath: dir)
        return dir
    }

    func options(_ optimizer: TrainOptions.OptimizerKind, steps: Int = 20) -> TrainOptions {
        var o = TrainOptions()
        o.lr = 5e-3; o.steps = steps; o.batch = 3; o.schedule = .cosine; o.warmup = 3; o.seed = 5; o.optimizer = optimizer
        return o
    }

    @Test(arguments: [TrainOptions.OptimizerKind.adamw, .sgd, .adafactor])
    func resumedEqualsUninterrupted(_ kind: TrainOptions.OptimizerKind) throws {
        // 8 examples in batches of 3: the data order crosses passes, so the cursor and pass must carry over.
        let straight = try Trainer(model: try TrainerTests.model(), data: try TrainerTests.data(), options: options(kind))
        let all = try straight.train().map(\.loss)

        let dir = Self.temp("resume-\(kind)")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try Trainer(model: try TrainerTests.model(), data: try TrainerTests.data(), options: options(kind))
        _ = try first.train(shouldStop: { first.history.count >= 10 })
        #expect(first.stopReason == .interrupted)
        try first.saveCheckpoint(in: dir)

        // A fresh model (other seed: other weights) and trainer take everything from the checkpoint.
        let second = try Trainer(model: try TrainerTests.model(seed: 77), data: try TrainerTests.data(), options: options(kind))
        try second.resume(from: dir)
        #expect(second.history.count == 10)
        try second.train()
        #expect(second.history.map(\.loss) == all, "\(kind): resumed \(second.history.map(\.loss)) vs straight \(all)")
        #expect(second.history.map(\.lr) == straight.history.map(\.lr))
    }

    @Test func loraRunsResumeOntoAFreshBase() throws {
        func lora() throws -> LanguageModel {
            let m = try TrainerTests.model()
            try m.addLoRA(rank: 2, alpha: 8, targets: ["q", "v"], seed: 1)
            return m
        }
        let straight = try Trainer(model: try lora(), data: try TrainerTests.data(), options: options(.adamw, steps: 12))
        let all = try straight.train().map(\.loss)
        let dir = Self.temp("lora")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var o = options(.adamw, steps: 12)
        o.saveDir = dir; o.saveEvery = 3
        let first = try Trainer(model: try lora(), data: try TrainerTests.data(), options: o)
        _ = try first.train(shouldStop: { first.history.count >= 7 })
        // Saved at 3 and 6, and on stopping at 7; the two newest are kept, and each is a PEFT adapter too.
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(names == ["checkpoint-6", "checkpoint-7"], "\(names)")
        #expect(FileManager.default.fileExists(atPath: dir + "/checkpoint-7/adapter_config.json"))
        let second = try Trainer(model: try lora(), data: try TrainerTests.data(), options: o)
        try second.resume(from: dir)
        try second.train()
        #expect(second.history.map(\.loss) == all)
    }

    @Test func validationEarlyStoppingBestAndLog() throws {
        let dir = Self.temp("best")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var o = options(.adamw, steps: 200)
        o.lr = 0.05; o.schedule = .constant
        o.evalEvery = 2; o.earlyStop = 2; o.saveDir = dir; o.keepBest = true; o.logPath = dir + "/log.csv"
        let data = try TrainerTests.data()
        // A validation set unlike the training set: memorising the training rows soon stops helping it.
        let eval = try Dataset(rows: [[.init("question", .string("lora lab?")), .init("answer", .string("what number finch."))]],
                               source: "val").tokenized(TrainerTests.tokenizer)
        let t = try Trainer(model: try TrainerTests.model(), data: data, eval: eval, options: o)
        try t.train()
        #expect(t.stopReason == .earlyStopped && t.history.count < 200, "\(String(describing: t.stopReason)) after \(t.history.count)")
        let best = try #require(t.best)
        let vals = t.history.compactMap(\.valLoss)
        #expect(vals.count == t.history.count / 2 && best.valLoss == vals.min())
        #expect(FileManager.default.fileExists(atPath: dir + "/best/trainer.json"))
        let log = try String(contentsOfFile: dir + "/log.csv", encoding: .utf8).split(separator: "\n")
        #expect(log.first == "step,loss,val_loss,lr,grad_norm,tokens_per_s,elapsed" && log.count == t.history.count + 1)
        // The validation set shares no row with the training set; the training set itself would warn.
        #expect(t.warnings.isEmpty)
        let same = try Trainer(model: try TrainerTests.model(), data: data, eval: data, options: options(.adamw))
        #expect(same.warnings.first?.contains("8 of the 8 validation examples") == true)
    }

    @Test func badCheckpointsAreClearErrors() throws {
        let dir = Self.temp("bad")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let t = try Trainer(model: try TrainerTests.model(), data: try TrainerTests.data(), options: options(.adamw))
        #expect(throws: ModelError.self) { try t.resume(from: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/checkpoint-3", withIntermediateDirectories: true)
        try "{not json".write(toFile: dir + "/checkpoint-3/trainer.json", atomically: true, encoding: .utf8)
        do { try t.resume(from: dir); Issue.record("a corrupt checkpoint resumed") } catch {
            #expect("\(error)".contains("checkpoint-3/trainer.json"), "\(error)")
        }
        // Adapters in the checkpoint, none on the model: the error says what to do.
        let lora = try TrainerTests.model()
        try lora.addLoRA(rank: 2, targets: ["q"])
        let lt = try Trainer(model: lora, data: try TrainerTests.data(), options: options(.adamw, steps: 2))
        try lt.train()
        try lt.saveCheckpoint(in: dir + "/l")
        do { try t.resume(from: dir + "/l"); Issue.record("mismatched checkpoint resumed") } catch {
            #expect("\(error)".contains("LoRA adapters"), "\(error)")
        }
    }
}
