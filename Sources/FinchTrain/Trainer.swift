import FinchData
import FinchDist
import FinchIO
import FinchModel
import FinchTensor
import Foundation

/// Why a call to `train` returned.
public enum StopReason: String, Sendable {
    case finished, interrupted, earlyStopped = "early_stopped", nonFinite = "non_finite"
}

/// Trains a model's parameters that require gradients on a tokenised dataset with next-token prediction.
public final class Trainer {
    public let model: LanguageModel
    public let data: TokenizedDataset
    /// The validation set, if any.
    public let evalData: TokenizedDataset?
    public let options: TrainOptions
    /// The processes training together: each takes its share of every global batch of
    /// `options.batch × world.size` examples, and their gradients are summed before each update.
    public let world: World
    public let optimizer: Optimizer
    private let schedule: LRSchedule
    public private(set) var history: [StepRecord] = []
    public private(set) var best: BestRecord?
    /// Position in the data order, and the order itself (reshuffled each pass with the seed and pass number).
    public private(set) var cursor = 0
    public private(set) var pass = 0
    /// Things worth telling before training (a validation set that shares rows with the training set).
    public private(set) var warnings: [String] = []
    public private(set) var stopReason: StopReason?
    /// What stopped training early, for people.
    public private(set) var stopMessage: String?
    private var order: [Int] = []
    private var badInARow = 0
    private var evalsWithoutImprovement = 0
    private var lastLogWrite = Date.distantPast
    /// The trained tensors with their names (the model's parameter names, PEFT's for adapters).
    let namedTrainables: [(name: String, tensor: Tensor)]

    public init(model: LanguageModel, data: TokenizedDataset, eval: TokenizedDataset? = nil, options: TrainOptions, world: World = .current) throws {
        try options.validate()
        guard data.count > 0 else { throw ModelError("there is nothing to train on: the dataset is empty") }
        if let eval, eval.count == 0 { throw ModelError("the validation set is empty") }
        // Every answer cut away by truncation would train on nothing, step after step, in silence.
        guard data.examples.contains(where: { $0.labels.dropFirst().contains { $0 != TokenizedDataset.ignore } }) else {
            throw ModelError("no example has a token to train on: every answer was cut off (raise max_length, or shorten the prompts)")
        }
        let longest = (data.examples + (eval?.examples ?? [])).map(\.ids.count).max() ?? 0
        guard longest <= model.config.context else {
            throw ModelError("an example has \(longest) tokens but the model's context is \(model.config.context): tokenize with max_length ≤ \(model.config.context)")
        }
        // A step that cannot fit in memory is refused before it is tried (estimate() makes the same figure).
        let width = min(model.config.context, (longest + 31) / 32 * 32)
        let need = TrainingEstimate.of(model, method: model.loraParameters.isEmpty ? .full : .lora, batch: options.batch, seq: width).totalBytes
        let physical = Double(MachineMemory.physicalBytes)
        guard need <= physical else {
            throw ModelError(String(format: "a step of batch %d × %d tokens needs about %.1f GB, more than this machine's %.1f GB: lower batch (grad_accum keeps the examples per update)",
                                    options.batch, width, need / 1e9, physical / 1e9))
        }
        self.model = model
        self.data = data
        self.evalData = eval
        self.options = options
        self.world = world
        namedTrainables = model.parameters.filter { $0.tensor.requiresGrad } + model.loraParameters
        let params = namedTrainables.map(\.tensor)
        guard !params.isEmpty else { throw ModelError("no parameter of the model trains (all are frozen)") }
        switch options.optimizer {
        case .adamw: optimizer = AdamW(params: params, lr: options.lr, weightDecay: options.weightDecay)
        case .sgd: optimizer = SGD(params: params, lr: options.lr, weightDecay: options.weightDecay)
        case .adafactor: optimizer = Adafactor(params: params, lr: options.lr, weightDecay: options.weightDecay)
        }
        schedule = LRSchedule(options.schedule, peak: options.lr, warmup: options.warmup, total: options.steps)
        order = shuffledOrder(pass: 0)
        // The first collective: ranks that would train different things stop here, all of them.
        if world.isDistributed {
            do { try world.checkSame(try fingerprints()) } catch let e as DistributedError { throw ModelError(e.description) }
        }
        if model.loraParameters.isEmpty, let kept = model.weights.first(where: { $0.weight.format != nil })?.weight.format {
            warnings.append("the projections' weights are kept frozen in \(kept.rawValue.uppercased()) blocks and do not train: add LoRA adapters (m.lora) to adapt them")
        }
        if options.precision != options.precision.onThisCPU {
            warnings.append("this CPU has no bfloat16 dot products (AVX512_BF16): precision \"bf16\" trains in float32")
        }
        if let eval {
            let train = Set(data.examples.map(\.ids))
            let shared = eval.examples.filter { train.contains($0.ids) }.count
            if shared > 0 {
                warnings.append("\(shared) of the \(eval.count) validation examples are also in the training set: the validation loss will look better than it is")
            }
        }
    }

    /// What every rank must share, hashed: the model's weights, the data (and validation data)
    /// and the options.
    private func fingerprints() throws -> [(what: String, hash: UInt64)] {
        var weights = Fingerprint(), examples = Fingerprint(), settings = Fingerprint()
        for (name, w) in model.weights {
            weights.add(name)
            // A frozen weight one matrix at a time, widened: its blocks' values, hashed as floats.
            weights.add(try w.floats())
        }
        for (name, t) in model.loraParameters { weights.add(name); weights.add(t) }
        for set in [data] + (evalData.map { [$0] } ?? []) {
            examples.add([set.count])
            for e in set.examples { examples.add(e.ids); examples.add(e.labels) }
        }
        settings.add(String(describing: options))
        return [("the model's weights", weights.value), ("the training data", examples.value), ("train()'s options", settings.value)]
    }

    private func shuffledOrder(pass: Int) -> [Int] {
        var order = Array(0..<data.count)
        var rng = SplitMix64(seed: options.seed &+ UInt64(pass) &* 0x9E37_79B9)
        for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
        return order
    }

    /// The next `n` example indices in the data order, starting a new shuffled pass when one ends.
    private func nextIndices(_ n: Int) -> [Int] {
        var out: [Int] = []
        while out.count < n {
            if cursor == order.count { pass += 1; cursor = 0; order = shuffledOrder(pass: pass) }
            out.append(order[cursor])
            cursor += 1
        }
        return out
    }

    /// Runs updates until `options.steps` are done, validating, checkpointing and stopping early as the
    /// options say; `shouldStop` (Ctrl-C) is checked between steps. Returns the records of this call.
    @discardableResult
    public func train(shouldStop: () -> Bool = { false }, onStep: (StepRecord) -> Void = { _ in }) throws -> [StepRecord] {
        var records: [StepRecord] = []
        stopReason = nil; stopMessage = nil
        defer { optimizer.zeroGrad() }
        while history.count < options.steps {
            // Every rank stops at the same step when any of them was asked to (Ctrl-C, SIGUSR1).
            if world.max(shouldStop() ? 1 : 0) == 1 { stopReason = .interrupted; break }
            var record = try step()
            let n = record.step
            if let evalData, record.skipped == false, (options.evalEvery > 0 && n % options.evalEvery == 0) || n == options.steps {
                record.valLoss = try validationLoss(evalData)
                history[history.count - 1] = record
                try noteValidation(record)
            }
            records.append(record)
            onStep(record)
            try writeLog(force: false)
            if badInARow >= options.maxBadSteps {
                stopReason = .nonFinite
                stopMessage = "training stopped at step \(n): \(badInARow) steps in a row had a non-finite loss or gradient (the weights are those of the last good step; try a lower learning rate)"
                break
            }
            if options.earlyStop > 0, evalsWithoutImprovement >= options.earlyStop {
                stopReason = .earlyStopped
                stopMessage = "stopped early at step \(n): the validation loss has not improved for \(evalsWithoutImprovement) evaluations (best \(best.map { String(format: "%.4f at step %d", $0.valLoss, $0.step) } ?? "none"))"
                break
            }
            if let dir = options.saveDir, options.saveEvery > 0, n % options.saveEvery == 0, n != options.steps { try saveCheckpoint(in: dir) }
        }
        if stopReason == nil { stopReason = .finished }
        try writeLog(force: true)
        if let dir = options.saveDir, !history.isEmpty { try saveCheckpoint(in: dir) }
        return records
    }

    /// One update: the micro-batches' forward and backward passes, clipping, the optimiser's step.
    /// A non-finite loss or gradient skips the update (the record says so).
    @discardableResult
    public func step() throws -> StepRecord {
        model.training = true
        model.gradientCheckpointing = options.gradientCheckpointing
        defer { model.training = false; model.gradientCheckpointing = false }
        let start = Date()
        let step = history.count
        optimizer.lr = schedule.lr(at: step)
        for p in optimizer.params { p.zeroGradKeepingBuffer() }
        // Each micro-batch is global: batch × world.size examples in the one data order, of which
        // this rank takes the block at its rank, so N ranks see what one process would.
        let micro = (0..<options.gradAccum).map { _ in nextIndices(options.batch * world.size) }
        let mine = micro.map { Array($0[world.rank * options.batch..<(world.rank + 1) * options.batch]) }
        let batches = try mine.map { try tensors(data, $0) }
        // The trained tokens of all micro-batches of every rank together: each one's summed loss is
        // divided by it, so the gradients add up to those of the mean over the step's trained tokens.
        let tokens = max(micro.reduce(0) { $0 + trainedTokens($1) }, 1)
        var lossSum: Float = 0
        try MatmulPrecision.with(options.precision) {
            for b in batches where b.ids.shape[1] >= 2 {
                let (sum, _) = try model.loss(ids: b.ids, labels: b.labels)
                lossSum += try sum.item()
                if sum.requiresGrad { try sum.backward(Tensor.scalar(1 / Float(tokens))) }
            }
        }
        if world.isDistributed {
            lossSum = Float(world.sum([Double(lossSum)])[0])
            try world.sumGradients(optimizer.params)
        }
        let loss = lossSum / Float(tokens)
        let norm = try clipGradients(optimizer.params, maxNorm: options.clip)
        let bad = !loss.isFinite || !norm.isFinite
        if !bad { try optimizer.step() }
        badInARow = bad ? badInARow + 1 : 0
        let seconds = Date().timeIntervalSince(start)
        let record = StepRecord(step: step + 1, loss: loss, valLoss: nil, lr: optimizer.lr, gradNorm: norm, tokens: tokens,
                                seconds: seconds, elapsed: (history.last?.elapsed ?? 0) + seconds, skipped: bad)
        history.append(record)
        return record
    }

    /// How many positions of these examples are trained: labels other than ignore, after position 0
    /// (which predicts nothing).
    private func trainedTokens(_ indices: [Int]) -> Int {
        indices.reduce(0) { n, i in n + data.examples[i].labels.dropFirst().count { $0 != TokenizedDataset.ignore } }
    }

    /// A batch as tensors.
    private func tensors(_ set: TokenizedDataset, _ indices: [Int]) throws -> (ids: Tensor, labels: Tensor) {
        try Self.tensors(set, indices, context: model.config.context)
    }

    static func tensors(_ set: TokenizedDataset, _ indices: [Int], context: Int) throws -> (ids: Tensor, labels: Tensor) {
        let b = set.batch(indices)
        let longest = b.ids.first?.count ?? 0
        // Widths rounded up to a multiple of 32: batches of a few distinct shapes reuse the same
        // buffers step after step, where every distinct length would keep buffers of its own
        // (measured: LoRA on finch_docs grew to 5.2 GB). The extra positions come after the
        // text, take no loss and, attention being causal, change nothing before them.
        let width = min(max(longest, (longest + 31) / 32 * 32), max(longest, context))
        let extra = width - longest
        let ids = b.ids.flatMap { $0.map(Float.init) + [Float](repeating: Float(set.padId), count: extra) }
        let labels = b.labels.flatMap { $0.map(Float.init) + [Float](repeating: Float(TokenizedDataset.ignore), count: extra) }
        return (try Tensor(ids, shape: [indices.count, width]), try Tensor(labels, shape: [indices.count, width]))
    }

    /// The mean loss per trained token over a whole dataset (masking as in training), without gradients.
    public func validationLoss(_ set: TokenizedDataset) throws -> Float {
        Float(try Self.meanLoss(model, set, batch: options.batch, world: world).loss)
    }

    /// The mean loss per trained token of `model` over `set` in batches of `batch`, masked as
    /// in training, without gradients; and how many tokens it was taken over. With several
    /// ranks each takes a block of the examples and the sums are added over the world.
    public static func meanLoss(_ model: LanguageModel, _ set: TokenizedDataset, batch: Int, world: World = .current) throws -> (loss: Double, tokens: Int) {
        try GradMode.noGrad {
            var sum: Double = 0, tokens = 0
            let share = world.share(of: set.count)
            for start in stride(from: share.lowerBound, to: share.upperBound, by: max(1, batch)) {
                let b = try tensors(set, Array(start..<min(share.upperBound, start + batch)), context: model.config.context)
                guard b.ids.shape[1] >= 2 else { continue }
                let (loss, count) = try model.loss(ids: b.ids, labels: b.labels)
                sum += Double(try loss.item()); tokens += count
            }
            let total = world.sum([sum, Double(tokens)])
            return (total[0] / max(total[1], 1), Int(total[1]))
        }
    }

    private func noteValidation(_ record: StepRecord) throws {
        guard let v = record.valLoss else { return }
        if best == nil || v < best!.valLoss {
            best = BestRecord(step: record.step, valLoss: v)
            evalsWithoutImprovement = 0
            if options.keepBest, let dir = options.saveDir { try writeCheckpoint(to: dir + "/best") }
        } else {
            evalsWithoutImprovement += 1
        }
    }

    // MARK: Checkpoints

    /// Writes a checkpoint directory; under mpirun rank 0 alone writes (every rank holds the same state).
    private func writeCheckpoint(to directory: String) throws {
        guard world.isLeader else { return }
        try Checkpoint.write(self, to: directory)
    }

    /// Writes a complete checkpoint as saveDir/checkpoint-N, keeping the two newest (rank 0 alone, under mpirun).
    public func saveCheckpoint(in directory: String) throws {
        guard world.isLeader else { return }
        let step = history.count
        try writeCheckpoint(to: directory + "/checkpoint-\(step)")
        let fm = FileManager.default
        let older = ((try? fm.contentsOfDirectory(atPath: directory)) ?? [])
            .compactMap { n -> Int? in n.hasPrefix("checkpoint-") ? Int(n.dropFirst("checkpoint-".count)) : nil }
            .filter { $0 < step }.sorted().dropLast(1)
        for s in older { try? fm.removeItem(atPath: directory + "/checkpoint-\(s)") }
    }

    func checkpointState(names: [String]) -> CheckpointState {
        let r = model.dropoutRNG.state
        return CheckpointState(step: history.count, pass: pass, cursor: cursor, seed: options.seed, optimizer: options.optimizer.rawValue,
                        lora: !model.loraParameters.isEmpty, badInARow: badInARow, evalsWithoutImprovement: evalsWithoutImprovement,
                        best: best, history: history, dropoutRNG: [r.0, r.1, r.2, r.3], tensors: names)
    }

    /// Continues the run a checkpoint holds: its weights (or adapters), optimiser state, data
    /// order and position, step, history and counters. `path` is a checkpoint or a save_dir.
    /// The trainer must have been made with the same model kind, data and options.
    public func resume(from path: String) throws {
        let dir = try Checkpoint.locate(path)
        let state = try Checkpoint.readState(dir)
        guard state.optimizer == options.optimizer.rawValue else {
            throw ModelError("\(dir): the checkpoint was trained with \(state.optimizer), this run uses \(options.optimizer.rawValue)")
        }
        guard state.seed == options.seed else { throw ModelError("\(dir): the checkpoint's seed is \(state.seed), this run's \(options.seed)") }
        guard state.tensors == namedTrainables.map(\.name) else {
            throw ModelError("\(dir): the checkpoint trains \(state.tensors.count) tensors (\(state.lora ? "LoRA adapters" : "model weights")), this model \(namedTrainables.count) — add the same adapters (or freeze the same parameters) before resuming")
        }
        guard state.cursor >= 0, state.cursor <= data.count, state.pass >= 0 else {
            throw ModelError("\(dir): the data position (pass \(state.pass), example \(state.cursor)) does not fit a dataset of \(data.count) examples")
        }
        let weights = try SafetensorsFile(path: dir + "/" + Checkpoint.weightsFile)
        for (name, tensor) in namedTrainables {
            let saved = try weights.tensor(named: name)
            guard saved.shape == tensor.shape else { throw ModelError("\(dir): \(name) has shape \(saved.shape), the model \(tensor.shape)") }
            try tensor.assign(saved)
        }
        let opt = try SafetensorsFile(path: dir + "/" + Checkpoint.optimizerFile)
        var s: [String: [Float]] = [:]
        for e in opt.entries { s[e.name] = try opt.tensor(e).scalars }
        try optimizer.load(state: s)
        history = state.history
        best = state.best
        pass = state.pass
        order = shuffledOrder(pass: pass)
        cursor = state.cursor
        badInARow = state.badInARow
        evalsWithoutImprovement = state.evalsWithoutImprovement
        if let r = state.dropoutRNG, r.count == 4 { model.dropoutRNG = RNG(state: r) }
    }

    // MARK: The log

    /// Writes the history to options.logPath (CSV or JSONL, atomically) at most once a second unless
    /// forced; under mpirun rank 0 alone writes it.
    private func writeLog(force: Bool) throws {
        guard world.isLeader, let path = options.logPath, force || Date().timeIntervalSince(lastLogWrite) >= 1 else { return }
        lastLogWrite = Date()
        let parent = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try AtomicFile.makeDirectory(parent)
        try HistoryLog.write(history, to: path)
    }
}
