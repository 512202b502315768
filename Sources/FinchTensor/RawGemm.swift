@preconcurrency import COpenBLAS

/// Every single-precision matrix product Finch makes, on row-major buffers:
/// C = alpha · op(A) · op(B) + beta · C, and its one-row form y = alpha · x · op(B).
/// A product large enough to share is split into one block of rows (or, for a wide C such as the
/// vocabulary head's, of columns) per thread, each block one single-threaded OpenBLAS call on the
/// WorkerTeam. Splitting duplicates the packing of the shared operand, but on every shape of a
/// SmolLM2 step it beat OpenBLAS's own two threads (M blocks 185–203 GFLOP/s against 124–192).
enum RawGemm {
    /// No block of a split product is smaller than this many multiply-adds. OpenBLAS 0.3.21 sends
    /// products of up to about 10⁶ to a separate small-matrix kernel that rounds differently, so a
    /// small block would change results; above it, each element is the same sum however the rows
    /// or columns are split (checked bit for bit), and a split product equals the whole one.
    static let minBlockWork = 1 << 21
    /// Blocks start on multiples of this, the micro-kernel's tile height and width.
    static let align = 16

    @inline(__always)
    static func run(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
                    _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
                    beta: Float = 0, _ c: UnsafeMutablePointer<Float>, ldc: Int) {
        if m == 0 || n == 0 { return }
        let threads = Threads.count
        if threads > 1, m * n * k >= 2 * minBlockWork {
            // Columns only when C is far wider than tall: each block then still has all of A's rows.
            let byColumns = n >= 8 * m
            let extent = byColumns ? n : m
            if let (parts, block) = split(extent, threads: threads, workPerUnit: (byColumns ? m : n) * k) {
                let shared = WorkerTeam.shared.run(chunks: parts) { p in
                    let lo = p * block, hi = p == parts - 1 ? extent : lo + block
                    if byColumns {
                        single(transA, transB, m, hi - lo, k, alpha, a, lda, transB ? b + lo * ldb : b + lo, ldb, beta, c + lo, ldc)
                    } else {
                        single(transA, transB, hi - lo, n, k, alpha, transA ? a + lo : a + lo * lda, lda, b, ldb, beta, c + lo * ldc, ldc)
                    }
                }
                if shared { return }
            }
        }
        single(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    }

    /// How many blocks of `extent` rows or columns to make (at most one per thread) and their size, a
    /// multiple of `align`; the last block takes the rest. Nil when no two blocks would each reach
    /// minBlockWork.
    private static func split(_ extent: Int, threads: Int, workPerUnit: Int) -> (parts: Int, block: Int)? {
        var parts = Swift.min(threads, extent / align)
        while parts > 1 {
            let block = extent / parts / align * align
            if block * workPerUnit >= minBlockWork { return (parts, block) }
            parts -= 1
        }
        return nil
    }

    /// y[N] = alpha · x[K] · op(B) + beta · y for row-major B ([K, N], or [N, K] when transB), x with
    /// stride incX: a decoding step's product, which reads B once instead of packing it.
    @inline(__always)
    static func rowTimes(transB: Bool, n: Int, k: Int, alpha: Float = 1, _ x: UnsafePointer<Float>, incX: Int,
                         _ b: UnsafePointer<Float>, ldb: Int, beta: Float = 0, _ y: UnsafeMutablePointer<Float>) {
        if n == 0 { return }
        if Threads.count > 1, let (parts, block) = split(n, threads: Threads.count, workPerUnit: 16 * k) {
            let shared = WorkerTeam.shared.run(chunks: parts) { p in
                let lo = p * block, hi = p == parts - 1 ? n : lo + block
                singleRow(transB, hi - lo, k, alpha, x, incX, transB ? b + lo * ldb : b + lo, ldb, beta, y + lo)
            }
            if shared { return }
        }
        singleRow(transB, n, k, alpha, x, incX, b, ldb, beta, y)
    }

    @inline(__always)
    private static func single(_ ta: Bool, _ tb: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
                               _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
                               _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
        cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// For row-major B[K, N], y = Bᵀ x (CblasTrans); for B stored [N, K], y = B x.
    @inline(__always)
    private static func singleRow(_ tb: Bool, _ n: Int, _ k: Int, _ alpha: Float, _ x: UnsafePointer<Float>, _ incX: Int,
                                  _ b: UnsafePointer<Float>, _ ldb: Int, _ beta: Float, _ y: UnsafeMutablePointer<Float>) {
        cblas_sgemv(CblasRowMajor, tb ? CblasNoTrans : CblasTrans, Int32(tb ? n : k), Int32(tb ? k : n), alpha,
                    b, Int32(ldb), x, Int32(incX), beta, y, 1)
    }
}
