import FinchData
import FinchModel
import FinchTensor
import Foundation

/// What `Trainer` does: the optimiser and its settings, batching, schedule, clipping, seed.
public struct TrainOptions: Sendable {
    public enum OptimizerKind: String, Sendable, CaseIterable { case adamw, sgd, adafactor }
    public var lr: Float = 1e-4
    public var steps = 100
    /// Examples per micro-batch.
    public var batch = 4
    /// Micro-batches per update; the loss is normalised by the trained tokens of all of them.
    public var gradAccum = 1
    public var schedule: LRSchedule.Shape = .constant
    public var warmup = 0
    public var weightDecay: Float = 0
    /// Largest global gradient norm (0: no clipping).
    public var clip: Float = 1
    public var optimizer: OptimizerKind = .adamw
    /// Seed of the data order.
    public var seed: UInt64 = 0
    /// Non-finite steps in a row that stop training.
    public var maxBadSteps = 3
    public init() {}
}

/// One update of the history.
public struct StepRecord: Sendable, Equatable {
    public var step: Int
    public var loss: Float
    public var lr: Float
    public var gradNorm: Float
    public var tokens: Int
    public var seconds: Double
    /// Whether the update was skipped (a non-finite loss or gradient).
    public var skipped: Bool
}

/// Trains a model's parameters that require gradients on a tokenised dataset with next-token prediction.
public final class Trainer {
    public let model: LanguageModel
    public let data: TokenizedDataset
    public let options: TrainOptions
    public let optimizer: Optimizer
    public private(set) var history: [StepRecord] = []
    /// Position in the data order, and the order itself (reshuffled each pass with the seed and pass number).
    public private(set) var cursor = 0
    public private(set) var pass = 0
    private var order: [Int] = []

    public init(model: LanguageModel, data: TokenizedDataset, options: TrainOptions) throws {
        guard data.count > 0 else { throw ModelError("there is nothing to train on: the dataset is empty") }
        guard options.batch > 0, options.gradAccum > 0, options.steps >= 0 else {
            throw ModelError("batch and grad_accum must be positive and steps not negative")
        }
        self.model = model
        self.data = data
        self.options = options
        let params = model.trainableTensors
        guard !params.isEmpty else { throw ModelError("no parameter of the model trains (all are frozen)") }
        switch options.optimizer {
        case .adamw: optimizer = AdamW(params: params, lr: options.lr, weightDecay: options.weightDecay)
        case .sgd: optimizer = SGD(params: params, lr: options.lr, weightDecay: options.weightDecay)
        case .adafactor: optimizer = Adafactor(params: params, lr: options.lr, weightDecay: options.weightDecay)
        }
        order = shuffledOrder(pass: 0)
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

    /// Runs updates until `options.steps` are done (or `shouldStop`); returns the records of this call.
    @discardableResult
    public func train(shouldStop: () -> Bool = { false }, onStep: (StepRecord) -> Void = { _ in }) throws -> [StepRecord] {
        var records: [StepRecord] = []
        while history.count < options.steps, !shouldStop() {
            let record = try step()
            records.append(record)
            onStep(record)
        }
        optimizer.zeroGrad()
        return records
    }

    private var badInARow = 0

    /// One update: the micro-batches' forward and backward passes, clipping, the optimiser's step.
    @discardableResult
    public func step() throws -> StepRecord {
        let start = Date()
        let step = history.count
        let schedule = LRSchedule(options.schedule, peak: options.lr, warmup: options.warmup, total: options.steps)
        optimizer.lr = schedule.lr(at: step)
        optimizer.zeroGrad()
        // Micro-batches of this step, and the trained tokens of all of them together.
        let micro = (0..<options.gradAccum).map { _ in nextIndices(options.batch) }
        var batches: [(ids: Tensor, labels: Tensor)] = []
        var tokens = 0
        for indices in micro {
            let b = data.batch(indices)
            let width = b.ids.first?.count ?? 0
            // Position 0 predicts nothing (labels are shifted by one inside the loss).
            for row in b.labels { tokens += row.dropFirst().filter { $0 != TokenizedDataset.ignore }.count }
            batches.append((try Tensor(b.ids.flatMap { $0.map(Float.init) }, shape: [indices.count, width]),
                            try Tensor(b.labels.flatMap { $0.map(Float.init) }, shape: [indices.count, width])))
        }
        var lossSum: Float = 0
        for (ids, labels) in batches where ids.shape[1] >= 2 {
            let (sum, _) = try model.loss(ids: ids, labels: labels)
            lossSum += try sum.item()
            // Each micro-batch's summed loss divided by the step's token count: the gradients add up
            // to those of the mean over all the step's trained tokens.
            try sum.backward(Tensor.scalar(1 / Float(max(tokens, 1))))
        }
        let loss = lossSum / Float(max(tokens, 1))
        let norm = try clipGradients(optimizer.params, maxNorm: options.clip)
        let bad = !loss.isFinite || !norm.isFinite
        if !bad { try optimizer.step() }
        badInARow = bad ? badInARow + 1 : 0
        let record = StepRecord(step: step + 1, loss: loss, lr: optimizer.lr, gradNorm: norm, tokens: tokens,
                                seconds: Date().timeIntervalSince(start), skipped: bad)
        history.append(record)
        if badInARow >= options.maxBadSteps {
            optimizer.zeroGrad()
            throw ModelError("training stopped at step \(step + 1): \(badInARow) steps in a row had a non-finite loss or gradient (the weights are those of the last good step; try a lower learning rate)")
        }
        return record
    }
}
