import CKernels

/// A matrix kept in Q8_0 form for matrix-vector products: each row in blocks of 32 int8
/// values with one Float scale per block (d = max|w| / 127, q = round(w / d)). Decoding
/// reads every weight once per token, so reading 1.06 bytes per weight instead of 4 is
/// what makes it faster:  y[r] = Σ_blocks d[r,b] · Σ_j q[r,b,j] · x[32b + j].
public final class Q8Matrix: @unchecked Sendable {
    public let rows: Int
    public let cols: Int
    /// The quantised rows in panels of 16 (finch_q8_pack's layout, which the kernels read as one stream).
    let panels: UnsafeMutablePointer<UInt8>
    let panelScales: UnsafeMutablePointer<Float>
    /// The storage version of the tensor this was made from.
    public let sourceVersion: UInt64

    /// Quantises a [rows, cols] tensor whose rows are whole blocks of 32.
    public init(_ w: Tensor) throws {
        guard w.rank == 2, w.shape[1] % 32 == 0 else {
            throw TensorError.invalidShape(op: "q8_0", "needs a matrix with rows of whole 32-value blocks, got \(w.shape.shapeText)")
        }
        rows = w.shape[0]
        cols = w.shape[1]
        sourceVersion = w.storage.version
        let blocksPerRow = cols / 32, panelCount = (rows + 15) / 16
        panels = .allocate(capacity: Swift.max(1, panelCount * 16 * cols))
        panelScales = .allocate(capacity: Swift.max(1, panelCount * 16 * blocksPerRow))
        let scales = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(1, rows * blocksPerRow))
        let quants = UnsafeMutablePointer<Int8>.allocate(capacity: Swift.max(1, rows * cols))
        defer { scales.deallocate(); quants.deallocate() }
        let src = try w.contiguousNoGrad()
        let x = src.pointer, sp = scales, qp = quants
        parallelRanges(rows * blocksPerRow, grain: 4096) { b in
            finch_q8_quantize(x + b.lowerBound * 32, b.count, qp + b.lowerBound * 32, sp + b.lowerBound, nil)
        }
        let (pp, ps, rows, cols) = (panels, panelScales, rows, cols)
        parallelRanges(panelCount, grain: 16) { r in finch_q8_pack(qp, sp, rows, cols, pp, ps, r.lowerBound, r.upperBound) }
    }

    deinit {
        panels.deallocate()
        panelScales.deallocate()
    }

    /// y[i, range] = W[range] x[i] for `inputs` vectors x quantised too (`xq`, `xd`: int8 values and a
    /// scale per block of 32, one vector after another; `xsum` each block's sum of values; y's rows are
    /// `rows` apart; the range starts at a multiple of 16): each block's dot product is exact integer
    /// arithmetic (VNNI's or AVX2's byte products, CKernels), then scaled. A panel of weights is read
    /// from memory once for every input, and each output is summed in the same order whatever the number
    /// of inputs and the kernel, so neither batching nor the CPU changes a bit of any result.
    func multiplyRows(_ xq: UnsafePointer<Int8>, _ xd: UnsafePointer<Float>, _ xsum: UnsafePointer<Int32>, inputs: Int = 1,
                      into y: UnsafeMutablePointer<Float>, _ range: Range<Int>) {
        finch_q8_rows(panels, panelScales, cols, xq, xd, xsum, inputs, y, rows, range.lowerBound, range.upperBound)
    }

    /// Q8_0's quantisation of one block of 32 values, for weights, activations and GGUF files alike:
    /// d = max|x| / 127, q = round(x / d). Returns d.
    @inline(__always) public static func quantizeBlock(_ x: UnsafePointer<Float>, into q: UnsafeMutablePointer<Int8>) -> Float {
        var d: Float = 0
        finch_q8_quantize(x, 1, q, &d, nil)
        return d
    }

    /// x in Q8_0 blocks too, as llama.cpp quantises activations for its Q8_0 products: each block's
    /// int8 values, scale and sum of values (what the kernels take), in scratch space for `body`.
    private static func withQuantized(_ x: UnsafePointer<Float>, blocks: Int,
                                      _ body: (UnsafePointer<Int8>, UnsafePointer<Float>, UnsafePointer<Int32>) -> Void) {
        withUnsafeTemporaryAllocation(of: Int8.self, capacity: blocks * 32) { xq in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: blocks) { xd in
                withUnsafeTemporaryAllocation(of: Int32.self, capacity: blocks) { xs in
                    finch_q8_quantize(x, blocks, xq.baseAddress!, xd.baseAddress!, xs.baseAddress!)
                    body(xq.baseAddress!, xd.baseAddress!, xs.baseAddress!)
                }
            }
        }
    }

    /// Several products with the same inputs in one parallel job (q, k and v of a layer; gate and up):
    /// fewer hand-offs between the threads per token. `x` holds `inputs` vectors one after another
    /// (several sequences decoded together), and each job's y gets one row per input.
    static func multiply(_ jobs: [(matrix: Q8Matrix, y: UnsafeMutablePointer<Float>)], _ x: UnsafePointer<Float>, inputs: Int = 1) {
        guard let n = jobs.first?.matrix.cols else { return }
        withQuantized(x, blocks: n / 32 * inputs) { xq, xd, xs in
            let total = jobs.reduce(0) { $0 + $1.matrix.rows }
            guard Threads.count > 1, total >= 128 else {
                for job in jobs { job.matrix.multiplyRows(xq, xd, xs, inputs: inputs, into: job.y, 0..<job.matrix.rows) }
                return
            }
            // Chunks of whole panels of about 128 KB; first[j] is job j's first chunk. Every claim of a
            // chunk moves the team's counters between the cores, and each chunk starts a new stream
            // for the prefetchers: chunks of 18 KB (32 rows of 576) made two threads no faster than
            // one, 128 KB ones 1.2x faster than those (measured, SmolLM2-135M).
            let chunk = Swift.max(16, (128 << 10) / n / 16 * 16)
            withUnsafeTemporaryAllocation(of: Int.self, capacity: jobs.count + 1) { first in
                first[0] = 0
                for (j, job) in jobs.enumerated() { first[j + 1] = first[j] + (job.matrix.rows + chunk - 1) / chunk }
                WorkerTeam.shared.run(chunks: first[jobs.count]) { c in
                    var j = 0
                    while first[j + 1] <= c { j += 1 }
                    let start = (c - first[j]) * chunk, m = jobs[j].matrix
                    m.multiplyRows(xq, xd, xs, inputs: inputs, into: jobs[j].y, start..<Swift.min(m.rows, start + chunk))
                }
            }
        }
    }

    /// Vectors x [..., cols] times several matrices of the same width: one result [..., rows] per
    /// matrix, every weight read once for all the vectors (not recorded for autograd).
    public static func apply(_ matrices: [Q8Matrix], _ x: Tensor) throws -> [Tensor] {
        guard let cols = matrices.first?.cols, matrices.allSatisfy({ $0.cols == cols }), x.rank >= 1, x.shape[x.rank - 1] == cols else {
            throw TensorError.shapeMismatch(op: "q8_0 product", x.shape.shapeText, "[..., \(matrices.first?.cols ?? 0)]")
        }
        let xc = try x.contiguousNoGrad()
        let outs = try matrices.map { try Tensor.empty(Array(x.shape.dropLast()) + [$0.rows], op: "q8_0 product") }
        // More vectors than this are a prefill's, which GEMM does better; they go in groups.
        let group = 16, inputs = x.count / Swift.max(cols, 1)
        for first in stride(from: 0, to: inputs, by: group) {
            let count = Swift.min(group, inputs - first)
            multiply(zip(matrices, outs).map { ($0, $1.pointer + first * $0.rows) }, xc.pointer + first * cols, inputs: count)
        }
        return outs
    }

    /// x [..., cols] -> x Wᵀ [..., rows] (not recorded for autograd).
    public func apply(_ x: Tensor) throws -> Tensor { try Q8Matrix.apply([self], x)[0] }
}
