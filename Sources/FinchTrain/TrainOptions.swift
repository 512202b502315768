import FinchModel
import FinchTensor

/// What `Trainer` does: the optimiser and its settings, batching, schedule, clipping, seed,
/// validation, checkpoints and stopping.
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
    /// Steps between validation losses (0: only at the end); needs a validation set.
    public var evalEvery = 0
    /// Where checkpoints go (checkpoint-N directories; best/ with keepBest).
    public var saveDir: String?
    /// Steps between checkpoints (0: only at the end and on Ctrl-C).
    public var saveEvery = 0
    /// Also keep the checkpoint with the lowest validation loss in saveDir/best.
    public var keepBest = false
    /// Validations in a row without a lower loss that stop training (0: never).
    public var earlyStop = 0
    /// A CSV or JSONL file the history is written to as training goes.
    public var logPath: String?
    /// The precision of the training step's matrix products (forward and backward); weights,
    /// gradients, optimiser state and the validation loss stay float32.
    public var precision: MatmulPrecision = .float32
    /// Run each block again in the backward pass instead of keeping its activations (less memory, more time).
    public var gradientCheckpointing = false
    public init() {}

    /// Checks every setting before any work starts.
    public func validate() throws {
        guard lr > 0, lr.isFinite else { throw ModelError("lr must be a positive number, got \(lr)") }
        guard steps > 0 else { throw ModelError("steps must be positive, got \(steps)") }
        guard batch > 0 else { throw ModelError("batch must be positive, got \(batch)") }
        guard gradAccum > 0 else { throw ModelError("grad_accum must be positive, got \(gradAccum)") }
        // Far beyond any real run, and small enough that batch × grad_accum never overflows.
        guard batch <= 1 << 24, gradAccum <= 1 << 24 else { throw ModelError("batch and grad_accum must be at most \(1 << 24), got \(batch) and \(gradAccum)") }
        guard warmup >= 0 else { throw ModelError("warmup must not be negative, got \(warmup)") }
        guard weightDecay >= 0, weightDecay.isFinite else { throw ModelError("weight_decay must be a finite number ≥ 0, got \(weightDecay)") }
        guard clip >= 0 else { throw ModelError("clip must not be negative (0 turns clipping off), got \(clip)") }
        guard evalEvery >= 0, saveEvery >= 0, earlyStop >= 0 else { throw ModelError("eval_every, save_every and early_stop must not be negative") }
        if saveEvery > 0 || keepBest, saveDir == nil { throw ModelError("save_every and keep_best need a save_dir") }
        if let logPath, !(logPath.hasSuffix(".csv") || logPath.hasSuffix(".jsonl")) {
            throw ModelError("log must be a .csv or .jsonl path, got \(logPath)")
        }
    }
}

/// One update of the history.
public struct StepRecord: Sendable, Equatable, Codable {
    public var step: Int
    public var loss: Float
    /// The validation loss, on steps where it was measured.
    public var valLoss: Float?
    public var lr: Float
    public var gradNorm: Float
    public var tokens: Int
    public var seconds: Double
    /// Seconds since training started (over resumed runs too).
    public var elapsed: Double
    /// Whether the update was skipped (a non-finite loss or gradient).
    public var skipped: Bool
    public var tokensPerSecond: Double { seconds > 0 ? Double(tokens) / seconds : 0 }
}

/// The lowest validation loss so far and its step.
public struct BestRecord: Sendable, Equatable, Codable {
    public var step: Int
    public var valLoss: Float
}
