import CKernels
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
    /// No block of a split matrix-vector product reads fewer weights than this (128 KB). Decoding
    /// streams every weight from memory once per token, and two threads stream nearly twice as
    /// fast as one, so even the 576x192 key and value products gain from a split; below this
    /// size waking a helper costs more than it saves. (16 multiply-adds per element, the earlier
    /// rule, left those two on one thread: decoding with float32 weights was 8% slower.)
    static let minRowBlockWeights = 1 << 15
    /// Row blocks start on multiples of this. A block boundary that cuts through the micro-kernel's
    /// tiling changes which kernel sums an element, and so its last bits: SkylakeX tiles rows by 16,
    /// Haswell by 24 (measured: a 1024x576x192 product split at row 16, 32 or 64 differs from the
    /// whole in ~11K elements on Haswell, at 24, 48 or 96 in none). 48 suits both, but splits a
    /// 512-row product 240/272; with SkylakeX's kernels pinned, 16 keeps its halves even.
    static let align: Int = {
        _ = Threads.count  // pins the kernels
        return BLASKernels.pinned == "SkylakeX" ? 16 : 48
    }()
    /// Column blocks of a wide product are at least this wide. Haswell's kernels give the first few
    /// hundred columns of any product other bits than the same columns later in a larger one, so
    /// no column split equals the whole product there; instead a wide product is always cut into
    /// the same blocks, however many threads share them, and one thread and two still agree.
    static let minColumnBlock = 1536

    @inline(__always)
    static func run(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
                    _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
                    beta: Float = 0, _ c: UnsafeMutablePointer<Float>, ldc: Int) {
        if m == 0 || n == 0 { return }
        let bf16 = MatmulPrecision.current == .bfloat16
        // Columns only when C is far wider than tall: each block then still has all of A's rows.
        if n >= 8 * m {
            return columnBlocks(n, workPerColumn: m * k) { r in
                single(bf16, transA, transB, m, r.count, k, alpha, a, lda, transB ? b + r.lowerBound * ldb : b + r.lowerBound, ldb,
                       beta, c + r.lowerBound, ldc)
            }
        } else if shared(m, workPerUnit: n * k, atLeast: minBlockWork, { r in
            single(bf16, transA, transB, r.count, n, k, alpha, transA ? a + r.lowerBound : a + r.lowerBound * lda, lda, b, ldb,
                   beta, c + r.lowerBound * ldc, ldc)
        }) { return }
        single(bf16, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    }

    /// y[N] = alpha · x[K] · op(B) + beta · y for row-major B ([K, N], or [N, K] when transB), x with
    /// stride incX: a decoding step's product, which reads B once instead of packing it.
    @inline(__always)
    static func rowTimes(transB: Bool, n: Int, k: Int, alpha: Float = 1, _ x: UnsafePointer<Float>, incX: Int,
                         _ b: UnsafePointer<Float>, ldb: Int, beta: Float = 0, _ y: UnsafeMutablePointer<Float>) {
        if n == 0 { return }
        if shared(n, workPerUnit: k, atLeast: minRowBlockWeights, { r in
            singleRow(transB, r.count, k, alpha, x, incX, transB ? b + r.lowerBound * ldb : b + r.lowerBound, ldb, beta, y + r.lowerBound)
        }) { return }
        singleRow(transB, n, k, alpha, x, incX, b, ldb, beta, y)
    }

    /// Runs body over blocks of 0..<extent on the WorkerTeam, one per thread, each a multiple of
    /// `align` long (the last takes the rest) and worth at least `minimum`. False, having run
    /// nothing, when no two such blocks fit or the team is busy: the caller then makes the whole product.
    @inline(__always)
    private static func shared(_ extent: Int, workPerUnit: Int, atLeast minimum: Int, _ body: (Range<Int>) -> Void) -> Bool {
        var parts = Swift.min(Threads.count, extent / align)
        while parts > 1 {
            let block = extent / parts / align * align
            if block * workPerUnit >= minimum {
                let n = parts
                return WorkerTeam.shared.tryRun(chunks: n) { p in
                    body(p * block ..< (p == n - 1 ? extent : (p + 1) * block))
                }
            }
            parts -= 1
        }
        return false
    }

    /// Runs body over fixed blocks of 0..<extent columns, each a multiple of `align`, at least
    /// `minColumnBlock` wide and worth at least `minBlockWork`: the blocks depend on the shape
    /// alone, and the threads take them as they come (the caller alone when the team is busy).
    @inline(__always)
    private static func columnBlocks(_ extent: Int, workPerColumn: Int, _ body: (Range<Int>) -> Void) {
        let least = Swift.max(minColumnBlock, (minBlockWork + workPerColumn - 1) / Swift.max(workPerColumn, 1))
        let width = (least + align - 1) / align * align
        let blocks = Swift.max(1, extent / width)
        if blocks == 1 { return body(0..<extent) }
        WorkerTeam.shared.run(chunks: blocks) { p in
            body(p * width ..< (p == blocks - 1 ? extent : (p + 1) * width))
        }
    }

    /// One thread's product: Finch's bfloat16 kernel when `bf16` (it is only asked for on a CPU
    /// that has one, and fails only when out of memory: float32 then), OpenBLAS's sgemm otherwise.
    @inline(__always)
    private static func single(_ bf16: Bool, _ ta: Bool, _ tb: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
                               _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
                               _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
        if bf16, finch_bf16_gemm(ta ? 1 : 0, tb ? 1 : 0, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) != 0 { return }
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
