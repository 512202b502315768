#if canImport(Glibc)
import Glibc
#endif

/// The learning rate over training: a linear warmup from 0, then constant, linear decay to 0,
/// or a cosine down to 0, as Hugging Face's get_*_schedule_with_warmup compute it.
public struct LRSchedule: Sendable, Equatable {
    public enum Shape: String, Sendable, CaseIterable { case constant, linear, cosine }
    public let shape: Shape
    public let peak: Float
    public let warmup: Int
    public let total: Int

    public init(_ shape: Shape, peak: Float, warmup: Int = 0, total: Int) {
        self.shape = shape
        self.peak = peak
        self.warmup = max(0, warmup)
        self.total = max(1, total)
    }

    /// The learning rate of step `step` (0-based: the first update uses step 0).
    public func lr(at step: Int) -> Float {
        if step < warmup { return peak * Float(step) / Float(max(1, warmup)) }
        let progress = Float(step - warmup) / Float(max(1, total - warmup))
        switch shape {
        case .constant: return peak
        case .linear: return peak * max(0, 1 - progress)
        case .cosine: return peak * max(0, 0.5 * (1 + cosf(Float.pi * min(1, progress))))
        }
    }
}
