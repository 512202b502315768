import CKernels

/// The precision of matrix products: float32 throughout, or bfloat16 inputs (rounded to nearest
/// even) with float32 sums, as mixed-precision training runs them. Everything else — weights,
/// gradients, optimiser state, norms, softmax, the loss — stays float32 either way.
public enum MatmulPrecision: String, Sendable, CaseIterable {
    case float32 = "fp32", bfloat16 = "bf16"

    /// Whether this CPU has bfloat16 dot products (AVX512_BF16), which `.bfloat16` needs.
    public static let bfloat16Supported = finch_bf16_supported() != 0

    /// The precision products run in now (float32 unless inside `with`).
    public internal(set) nonisolated(unsafe) static var current: MatmulPrecision = .float32

    /// Runs body with matrix products in `precision` (only the interpreter's thread sets it;
    /// the products it starts carry it to their worker threads). On a CPU without bfloat16
    /// instructions `.bfloat16` runs in float32.
    public static func with<T>(_ precision: MatmulPrecision, _ body: () throws -> T) rethrows -> T {
        let saved = current
        current = precision == .bfloat16 && !bfloat16Supported ? .float32 : precision
        defer { current = saved }
        return try body()
    }
}
