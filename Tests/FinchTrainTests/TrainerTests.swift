import FinchData
import FinchModel
import FinchTensor
import FinchText
import FinchTrain
import Testing

/// The training loop on a tiny model: the loss falls, accumulation equals a bigger batch, bad steps are skipped.
@Suite struct TrainerTests {
    static let tokenizer: Tokenizer = try! BPETrainer.train(
        texts: Array(repeating: "### Question:\nwhat is finch? ### Answer: a lab. what is lora? adapters. what is loss? a number.", count: 8),
        vocabSize: 300, special: ["<|end|>"])

    static func data() throws -> TokenizedDataset {
        let rows: [Row] = [("what is finch?", "a lab."), ("what is lora?", "adapters."), ("what is loss?", "a number."),
                           ("what is a lab?", "finch."), ("what is a number?", "loss."), ("what are adapters?", "lora."),
                           ("what is what?", "a question."), ("is finch a lab?", "yes.")]
            .map { [.init("question", .string($0.0)), .init("answer", .string($0.1))] }
        return try Dataset(rows: rows, source: "tiny").tokenized(tokenizer)
    }

    static func model(seed: UInt64 = 4) throws -> LanguageModel {
        try LanguageModel.random(ModelConfig(vocab: tokenizer.vocabSize, dim: 32, layers: 2, heads: 4, kvHeads: 2, ffn: 64, context: 64), seed: seed)
    }

    @Test func answersCutAwayByTruncationAreAnErrorNotSilentSteps() throws {
        let rows: [Row] = [[.init("question", .string("what is a long question about finch?")), .init("answer", .string("a lab."))]]
        let cut = try Dataset(rows: rows, source: "tiny").tokenized(Self.tokenizer, maxLength: 4)
        #expect(throws: ModelError.self) { try Trainer(model: try Self.model(), data: cut, options: TrainOptions()) }
        do { _ = try Trainer(model: try Self.model(), data: cut, options: TrainOptions()) } catch {
            #expect("\(error)".contains("every answer was cut off"))
        }
    }

    @Test func lossFallsWhenMemorisingATinySet() throws {
        var o = TrainOptions()
        o.lr = 1e-2; o.steps = 60; o.batch = 4; o.schedule = .cosine; o.warmup = 5
        let trainer = try Trainer(model: try Self.model(), data: try Self.data(), options: o)
        let records = try trainer.train()
        #expect(records.count == 60 && records.allSatisfy { !$0.skipped })
        let first = records.prefix(3).map(\.loss).reduce(0, +) / 3, last = records.suffix(3).map(\.loss).reduce(0, +) / 3
        #expect(last < first * 0.3, "loss \(first) -> \(last)")
        #expect(records[0].lr == 0 && abs(records[5].lr - 1e-2) < 1e-6, "warmup from 0 to the peak")
    }

    @Test func accumulationEqualsTheBiggerBatch() throws {
        func run(batch: Int, accum: Int) throws -> ([Float], [Float]) {
            var o = TrainOptions()
            o.lr = 1e-2; o.steps = 3; o.batch = batch; o.gradAccum = accum; o.seed = 9
            let m = try Self.model()
            let records = try Trainer(model: m, data: try Self.data(), options: o).train()
            return (records.map(\.loss), m.parameters[1].tensor.scalars)
        }
        let (bigLoss, bigWeights) = try run(batch: 8, accum: 1)
        let (accLoss, accWeights) = try run(batch: 2, accum: 4)
        let initial = try Self.model().parameters[1].tensor.scalars
        #expect(bigLoss.count == 3 && accLoss.count == 3 && bigWeights != initial, "three updates that moved the weights")
        for (a, b) in zip(bigLoss, accLoss) { #expect(abs(a - b) < 1e-5, "losses \(bigLoss) vs \(accLoss)") }
        for (a, b) in zip(bigWeights, accWeights) { #expect(abs(a - b) < 1e-5) }
    }

    /// Gradient checkpointing changes what is kept, not what is computed: the same losses and the same
    /// weights after three updates, for full finetuning and for LoRA with dropout (whose masks the
    /// recomputation must draw again), in float32 and bfloat16.
    @Test(arguments: [(false, MatmulPrecision.float32), (true, .float32), (true, .bfloat16)])
    func checkpointingTrainsAlike(_ lora: Bool, _ precision: MatmulPrecision) throws {
        func run(_ checkpointing: Bool) throws -> ([Float], [Float]) {
            var o = TrainOptions()
            o.lr = 1e-2; o.steps = 3; o.batch = 4; o.seed = 5; o.precision = precision
            o.gradientCheckpointing = checkpointing
            let m = try Self.model()
            if lora { try m.addLoRA(rank: 4, dropout: 0.2, seed: 7) }
            let records = try Trainer(model: m, data: try Self.data(), options: o).train()
            #expect(!m.gradientCheckpointing, "the setting lasts as long as the run")
            let weights = lora ? m.loraParameters.flatMap(\.tensor.scalars) : m.parameters.flatMap(\.tensor.scalars)
            return (records.map(\.loss), weights)
        }
        let (plainLoss, plainWeights) = try run(false)
        let (loss, weights) = try run(true)
        #expect(plainLoss.count == 3)
        // Only the order in which a block input's gradient terms are added can differ.
        for (a, b) in zip(plainLoss, loss) { #expect(abs(a - b) <= 1e-5 * abs(a), "losses \(plainLoss) vs \(loss)") }
        let worst = zip(plainWeights, weights).map { abs($0 - $1) }.max()!
        #expect(worst < 1e-5, "largest weight difference \(worst)")
    }

    @Test func nonFiniteStepsAreSkippedThenStopTraining() throws {
        let m = try Self.model()
        var o = TrainOptions()
        o.steps = 10
        let trainer = try Trainer(model: m, data: try Self.data(), options: o)
        try m.globals["model.norm.weight"]!.setElement([0], .nan)
        let before = m.parameters[1].tensor.scalars
        try trainer.train()
        #expect(trainer.stopReason == .nonFinite && trainer.stopMessage?.contains("step 3") == true)
        #expect(trainer.history.count == 3 && trainer.history.allSatisfy(\.skipped))
        #expect(m.parameters[1].tensor.scalars == before, "no update from a non-finite step")
    }

    @Test func frozenModelsAndEmptyDataAreErrors() throws {
        let m = try Self.model()
        for p in m.parameters { p.tensor.requiresGrad = false }
        #expect(throws: ModelError.self) { try Trainer(model: m, data: try Self.data(), options: TrainOptions()) }
        var bad = TrainOptions()
        bad.lr = -1
        #expect(throws: ModelError.self) { try Trainer(model: try Self.model(), data: try Self.data(), options: bad) }
        bad = TrainOptions(); bad.batch = 0
        #expect(throws: ModelError.self) { try Trainer(model: try Self.model(), data: try Self.data(), options: bad) }
        bad = TrainOptions(); bad.keepBest = true
        #expect(throws: ModelError.self) { try Trainer(model: try Self.model(), data: try Self.data(), options: bad) }
        let empty = TokenizedDataset(examples: [], padId: 0, source: "empty")
        #expect(throws: ModelError.self) { try Trainer(model: try Self.model(), data: empty, options: TrainOptions()) }
    }
}

/// Training with LoRA adapters moves only the adapters.
@Suite struct LoRATrainingTests {
    @Test func loraTrainsAndLeavesTheBaseWeights() throws {
        let m = try TrainerTests.model()
        // A fresh model's tied embedding (std 0.02) caps its logits near ±0.6 whatever the adapters do;
        // give it the scale of a trained one, so the frozen head can express what LoRA learns.
        var rng = RNG(seed: 3)
        try m.embedding.assign(Tensor.normal(m.embedding.shape, std: 1, rng: &rng))
        try m.addLoRA(rank: 4, alpha: 16, targets: ["q", "v"])
        let base = m.parameters.map(\.tensor.scalars)
        var o = TrainOptions()
        o.lr = 2e-2; o.steps = 60; o.batch = 4
        let records = try Trainer(model: m, data: try TrainerTests.data(), options: o).train()
        #expect(m.parameters.map(\.tensor.scalars) == base, "the frozen weights did not move")
        #expect(records.last!.loss < records.first!.loss * 0.7, "loss \(records.first!.loss) -> \(records.last!.loss)")
    }
}
