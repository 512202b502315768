import CKernels

/// The block formats decoding multiplies by: Q8_0 (32 int8 values and a float scale per block,
/// d = max|w| / 127, q = round(w / d)) and Q4_1 (32 4-bit values with a float16 step and minimum,
/// w = d·q + m, as llama.cpp's Q4_1 files hold them).
public enum QuantFormat: String, Sendable, CaseIterable {
    case q8_0, q4_1

    /// Bytes per weight as the products read them (values and scales).
    public var bytesPerWeight: Double { self == .q8_0 ? 1.125 : 0.625 }
}

/// A matrix kept in blocks of 32 per row for matrix-vector products (decoding): decoding reads
/// every weight once per token, so reading 1.125 (Q8_0) or 0.625 (Q4_1) bytes per weight instead
/// of 4 is what makes it faster. The input is quantised to Q8_0 too, each block's dot product is
/// exact integer arithmetic, and the float sums run in one fixed order (CKernels).
public final class QuantizedMatrix: @unchecked Sendable {
    public let rows: Int
    public let cols: Int
    public let format: QuantFormat
    /// The quantised rows in panels of 16 (finch_q8_pack's or finch_q4_pack's layout, which the kernels read as one stream).
    let panels: UnsafeMutablePointer<UInt8>
    /// Per panel and block: 16 float scales (Q8_0), or 16 float16 steps then 16 float16 minimums (Q4_1).
    let scales: UnsafeMutableRawPointer
    /// The storage version of the tensor this was made from.
    public let sourceVersion: UInt64

    /// Quantises a [rows, cols] tensor whose rows are whole blocks of 32.
    public init(_ w: Tensor, format: QuantFormat = .q8_0) throws {
        guard w.rank == 2, w.shape[1] % 32 == 0 else {
            throw TensorError.invalidShape(op: format.rawValue, "needs a matrix with rows of whole 32-value blocks, got \(w.shape.shapeText)")
        }
        rows = w.shape[0]
        cols = w.shape[1]
        self.format = format
        sourceVersion = w.storage.version
        let blocksPerRow = cols / 32, panelCount = (rows + 15) / 16
        let src = try w.contiguousNoGrad()
        let x = src.pointer, (rows, cols) = (rows, cols)
        switch format {
        case .q8_0:
            let pp = UnsafeMutablePointer<UInt8>.allocate(capacity: Swift.max(1, panelCount * 16 * cols))
            let ps = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(1, panelCount * 16 * blocksPerRow))
            (panels, scales) = (pp, UnsafeMutableRawPointer(ps))
            parallelRanges(panelCount, grain: 16) { r in finch_q8_pack(x, rows, cols, pp, ps, r.lowerBound, r.upperBound) }
        case .q4_1:
            let pp = UnsafeMutablePointer<UInt8>.allocate(capacity: Swift.max(1, panelCount * 8 * cols))
            let ps = UnsafeMutablePointer<UInt16>.allocate(capacity: Swift.max(1, panelCount * 32 * blocksPerRow))
            (panels, scales) = (pp, UnsafeMutableRawPointer(ps))
            parallelRanges(panelCount, grain: 16) { r in finch_q4_pack(x, rows, cols, pp, ps, r.lowerBound, r.upperBound) }
        }
    }

    deinit {
        panels.deallocate()
        scales.deallocate()
    }

    /// [rows, cols], the shape of the matrix it was made from.
    public var shape: [Int] { [rows, cols] }

    /// Bytes the blocks take (values and scales, the last panel's padding rows included).
    public var byteCount: Int {
        let panelCount = (rows + 15) / 16
        return format == .q8_0 ? panelCount * 16 * cols + panelCount * 16 * (cols / 32) * 4 : panelCount * 8 * cols + panelCount * 32 * (cols / 32) * 2
    }

    /// Rows `range` (starting at a multiple of 16) widened to float32, `ldo` floats apart from
    /// `out` (the range's first row); `kernel` -1 for the best this CPU has, 0 portable, 1 AVX2.
    /// False when this CPU lacks the kernel asked for.
    @discardableResult
    public func widen(into out: UnsafeMutablePointer<Float>, ldo: Int, rows range: Range<Int>, kernel: Int32 = -1) -> Bool {
        switch format {
        case .q8_0:
            finch_q8_widen(kernel, panels, scales.assumingMemoryBound(to: Float.self), cols, out, ldo, range.lowerBound, range.upperBound) != 0
        case .q4_1:
            finch_q4_widen(kernel, panels, scales.assumingMemoryBound(to: UInt16.self), cols, out, ldo, range.lowerBound, range.upperBound) != 0
        }
    }

    /// The whole matrix widened into scratch space for the length of `body` (both threads widen
    /// their halves); the scratch goes back to the buffer cache afterwards.
    public func withWidened<R>(_ body: (UnsafePointer<Float>) throws -> R) throws -> R {
        let scratch = try Tensor.empty(shape, op: "widen \(format.rawValue)")
        let out = scratch.pointer, cols = cols, rows = rows
        parallelRanges((rows + 15) / 16, grain: Swift.max(1, (1 << 16) / Swift.max(16 * cols, 1))) { r in
            self.widen(into: out + r.lowerBound * 16 * cols, ldo: cols, rows: r.lowerBound * 16 ..< Swift.min(rows, r.upperBound * 16))
        }
        return try withExtendedLifetime(scratch) { try body(UnsafePointer(out)) }
    }

    /// The matrix widened to a new float32 tensor [rows, cols] (w = d · q, or d · q + m).
    public func widened() throws -> Tensor {
        let t = try Tensor.empty(shape, op: "widen \(format.rawValue)")
        try withWidened { t.pointer.update(from: $0, count: rows * cols) }
        return t
    }

    /// y[i, range] = W[range] x[i] for `inputs` vectors x quantised too (`xq`, `xd`: int8 values and a
    /// scale per block of 32, one vector after another; `xsum` each block's sum of values; y's rows are
    /// `rows` apart; the range starts at a multiple of 16): each block's dot product is exact integer
    /// arithmetic (VNNI's or AVX2's byte products, CKernels), then scaled. A panel of weights is read
    /// from memory once for every input, and each output is summed in the same order whatever the number
    /// of inputs and the kernel, so neither batching nor the CPU changes a bit of any result.
    func multiplyRows(_ xq: UnsafePointer<Int8>, _ xd: UnsafePointer<Float>, _ xsum: UnsafePointer<Int32>, inputs: Int = 1,
                      into y: UnsafeMutablePointer<Float>, _ range: Range<Int>) {
        switch format {
        case .q8_0:
            finch_q8_rows(panels, scales.assumingMemoryBound(to: Float.self), cols, xq, xd, xsum, inputs, y, rows, range.lowerBound, range.upperBound)
        case .q4_1:
            finch_q4_rows(panels, scales.assumingMemoryBound(to: UInt16.self), cols, xq, xd, xsum, inputs, y, rows, range.lowerBound, range.upperBound)
        }
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
    static func multiply(_ jobs: [(matrix: QuantizedMatrix, y: UnsafeMutablePointer<Float>)], _ x: UnsafePointer<Float>, inputs: Int = 1) {
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
            let rowBytes = Swift.max(1, Int(Double(n) * jobs[0].matrix.format.bytesPerWeight))
            let chunk = Swift.max(16, (128 << 10) / rowBytes / 16 * 16)
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
    public static func apply(_ matrices: [QuantizedMatrix], _ x: Tensor) throws -> [Tensor] {
        guard let first = matrices.first, matrices.allSatisfy({ $0.cols == first.cols && $0.format == first.format }),
              x.rank >= 1, x.shape[x.rank - 1] == first.cols else {
            throw TensorError.shapeMismatch(op: "quantized product", x.shape.shapeText, "[..., \(matrices.first?.cols ?? 0)]")
        }
        let cols = first.cols, xc = try x.contiguousNoGrad()
        let outs = try matrices.map { try Tensor.empty(Array(x.shape.dropLast()) + [$0.rows], op: "quantized product") }
        // More vectors than this are a prefill's, which GEMM does better; they go in groups.
        let group = 16, inputs = x.count / Swift.max(cols, 1)
        for row0 in stride(from: 0, to: inputs, by: group) {
            let count = Swift.min(group, inputs - row0)
            multiply(zip(matrices, outs).map { ($0, $1.pointer + row0 * $0.rows) }, xc.pointer + row0 * cols, inputs: count)
        }
        return outs
    }

    /// x [..., cols] -> x Wᵀ [..., rows] (not recorded for autograd).
    public func apply(_ x: Tensor) throws -> Tensor { try QuantizedMatrix.apply([self], x)[0] }
}
