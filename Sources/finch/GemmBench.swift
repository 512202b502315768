@preconcurrency import COpenBLAS
import FinchTensor

/// gemm: Finch's matmul against raw cblas_sgemm on the same buffers, for the
/// shapes of SmolLM2-135M training (256 tokens) and a square reference.
enum GemmBench {
    /// (M, K, N): C[M,N] = A[M,K] · B[K,N].
    static let shapes: [(Int, Int, Int)] = [
        (256, 576, 576), (256, 576, 1536), (256, 1536, 576), (256, 576, 49152), (1024, 1024, 1024),
    ]

    /// Seconds to wait after OpenBLAS's multi-threaded side before Finch's runs. OpenBLAS's
    /// workers spin for 2^28 cycles (its THREAD_TIMEOUT default, about 0.1 s here) after a product
    /// before they sleep; spinning, they took a core from Finch's side (ratio_min 0.275 and
    /// 0.513 once each). Waiting them out measures each side on a quiet machine.
    static let blasThreadsPark = 0.3

    static func run(_ out: BenchReporter, _ options: BenchOptions) throws {
        let seconds = options.seconds
        var rng = RNG(seed: 1)
        var ratioMin = Double.infinity
        let threadCounts = [1, min(2, Threads.available)].reduce(into: [Int]()) { if !$0.contains($1) { $0.append($1) } }
        for (m, k, n) in shapes {
            let a = try Tensor.normal([m, k], rng: &rng), b = try Tensor.normal([k, n], rng: &rng)
            let c = UnsafeMutablePointer<Float>.allocate(capacity: m * n)
            defer { c.deallocate() }
            let flops = 2.0 * Double(m) * Double(k) * Double(n)
            // Back-to-back products, about 40 ms a side: a side's first product wakes its threads
            // (after the pause below they sleep), the rest run as in training.
            let reps = max(2, Int(4e9 / flops))
            for threads in threadCounts {
                Threads.set(threads)
                let times = try BenchTiming.interleaved([
                    { for _ in 0..<reps { _ = try a.matmul(b) } },
                    {
                        // OpenBLAS on its own threads, as a program calling it directly would run it.
                        openblas_set_num_threads(Int32(threads))
                        defer { openblas_set_num_threads(1) }
                        for _ in 0..<reps {
                            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1,
                                        a.storage.base, Int32(k), b.storage.base, Int32(n), 0, c, Int32(n))
                        }
                    },
                ], seconds: seconds, pauses: threads > 1 ? [1: blasThreadsPark] : [:])
                let key = "gemm.\(m)x\(k)x\(n).\(threads)t"
                let finch = Double(reps) * flops / times[0] / 1e9, blas = Double(reps) * flops / times[1] / 1e9
                out.report("\(key).finch_gflops", finch)
                out.report("\(key).blas_gflops", blas)
                ratioMin = min(ratioMin, finch / blas)
            }
        }
        Threads.set(Threads.available)
        out.report("gemm.ratio_min", ratioMin, digits: 3)
    }
}
