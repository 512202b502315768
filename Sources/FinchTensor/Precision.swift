import CKernels
#if canImport(Glibc)
import Glibc
#endif

/// The precision of matrix products: float32 throughout, or bfloat16 inputs (rounded to nearest
/// even) with float32 sums, as mixed-precision training runs them. Everything else — weights,
/// gradients, optimiser state, norms, softmax, the loss — stays float32 either way.
public enum MatmulPrecision: String, Sendable, CaseIterable {
    case float32 = "fp32", bfloat16 = "bf16"

    /// Whether this CPU has bfloat16 dot products (AVX512_BF16), which `.bfloat16` needs.
    public static let bfloat16Supported = finch_bf16_supported() != 0

    /// Per thread: a model served from another thread while one trains keeps its float32
    /// products. The WorkerTeam hands the poster's precision to the helpers running its job.
    private static let key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k, nil)
        return k
    }()

    /// What this precision runs as on this CPU: `.bfloat16` is float32 without AVX512_BF16.
    public var onThisCPU: MatmulPrecision { self == .bfloat16 && !Self.bfloat16Supported ? .float32 : self }

    /// The precision this thread's products run in now (float32 unless inside `with`).
    public static var current: MatmulPrecision {
        pthread_getspecific(key) == nil ? .float32 : .bfloat16
    }

    static func setCurrent(_ p: MatmulPrecision) {
        pthread_setspecific(key, p == .bfloat16 ? UnsafeRawPointer(bitPattern: 1) : nil)
    }

    /// Runs body with this thread's matrix products (and those of the parallel jobs it starts)
    /// in `precision`. On a CPU without bfloat16 instructions `.bfloat16` runs in float32.
    public static func with<T>(_ precision: MatmulPrecision, _ body: () throws -> T) rethrows -> T {
        let saved = current
        setCurrent(precision.onThisCPU)
        defer { setCurrent(saved) }
        return try body()
    }
}
