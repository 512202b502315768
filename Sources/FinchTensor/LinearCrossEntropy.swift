@preconcurrency import COpenBLAS
#if canImport(Glibc)
import Glibc
#endif

/// The output head and its cross-entropy fused: logits = h Wᵀ for a language model's
/// 49,152-way vocabulary are never stored whole. Rows are taken a chunk at a time:
///   z = h_c · Wᵀ                       [C, V], one chunk
///   loss_r = log Σ_j e^(z_rj) − z_r,t_r
///   P = softmax(z) − onehot(t)         in place over z (only when a gradient is wanted)
///   dh_c = P · W,   dW += Pᵀ · h_c     unscaled, kept for the backward
/// The backward only scales them by the upstream gradient (the loss is linear in it).
/// Rows whose target is the ignore index cost nothing: they are left out before any product.
enum LinearCrossEntropyKernels {
    /// Loss of each row of z [rows, n] against its target; with `gradient`, z becomes softmax(z) − onehot
    /// (without, z is left holding the exponentials).
    /// The exponentials are one vector loop and their sum another, in index order as before, so the
    /// same bits: a loop that did both stayed scalar (the in-order sum kept it so), 30 ms per 256-row
    /// chunk, 4% of a bfloat16 step. The maximum is taken in 16 lanes
    /// (Reduce.rowMax): exact in any order, and a NaN makes the loss NaN either way.
    static func rows(_ z: UnsafeMutablePointer<Float>, _ targets: UnsafePointer<Int32>, _ losses: UnsafeMutablePointer<Float>,
                     range: Range<Int>, classes n: Int, gradient: Bool) {
        for r in range {
            let zr = z + r &* n, t = Int(targets[r]), zt = zr[t]
            let m = Reduce.rowMax(zr, n)
            FastMath.expShifted(zr, n, minus: m)
            var s: Float = 0
            for i in 0..<n { s += zr[i] }
            losses[r] = m + logf(s) - zt
            guard gradient else { continue }
            let k = 1 / s
            for i in 0..<n { zr[i] *= k }
            zr[t] -= 1
        }
    }
}

extension Tensor {
    /// Rows of logits the fused head computes at once: 256 × 49,152 floats is 50 MB.
    public static let headChunkRows = 256

    /// Summed cross-entropy of the logits h Wᵀ (h [..., d], W [V, d]) against class ids
    /// `targets` (one per row of h; `ignoreIndex` takes no loss), without materialising the
    /// logits. Returns the summed loss (a scalar) and the number of rows it counts.
    public func linearCrossEntropy(_ weight: Tensor, targets: [Int], ignoreIndex: Int = -100) throws -> (loss: Tensor, count: Int) {
        guard rank >= 1, weight.rank == 2, shape[rank - 1] == weight.shape[1] else {
            throw TensorError.shapeMismatch(op: "linear_cross_entropy", shape.shapeText, weight.shape.shapeText)
        }
        let d = weight.shape[1], v = weight.shape[0], n = count / Swift.max(d, 1)
        guard targets.count == n else {
            throw TensorError.invalidArgument(op: "linear_cross_entropy", "\(targets.count) targets for \(n) rows")
        }
        var kept: [Int] = [], ids: [Int32] = []
        for (r, t) in targets.enumerated() where t != ignoreIndex {
            guard t >= 0, t < v else { throw TensorError.indexOutOfRange(op: "linear_cross_entropy", index: t, size: v) }
            kept.append(r); ids.append(Int32(t))
        }
        let m = kept.count
        let wantGrad = GradMode.isEnabled && (requiresGrad || weight.requiresGrad)
        guard m > 0 else {
            let zero = Tensor.scalar(0)
            return (zero.recorded("linear_cross_entropy", [self, weight]) { _, _ in [nil, nil] }, 0)
        }
        let h = try contiguousNoGrad(), w = try weight.contiguousNoGrad()
        // The counted rows, gathered: masked prompt tokens never reach a product.
        let hc = try Tensor.empty([m, d], op: "linear_cross_entropy")
        for (i, r) in kept.enumerated() { (hc.pointer + i &* d).update(from: h.pointer + r &* d, count: d) }
        let chunk = Swift.min(Tensor.headChunkRows, m)
        let z = try Tensor.empty([chunk, v], op: "linear_cross_entropy")
        let losses = try Tensor.empty([m], op: "linear_cross_entropy")
        let dh = wantGrad && requiresGrad ? try Tensor.empty([m, d], op: "linear_cross_entropy") : nil
        let dw = wantGrad && weight.requiresGrad ? try Tensor.empty([v, d], op: "linear_cross_entropy") : nil
        let pz = z.pointer, pl = losses.pointer
        ids.withUnsafeBufferPointer { t in
            let pt = t.baseAddress!
            for start in stride(from: 0, to: m, by: chunk) {
                let c = Swift.min(chunk, m - start)
                let hRows = hc.pointer + start &* d
                RawGemm.run(transB: true, m: c, n: v, k: d, hRows, lda: d, w.pointer, ldb: d, pz, ldc: v)
                parallelRanges(c, grain: Swift.max(1, elementwiseGrain / v)) { range in
                    LinearCrossEntropyKernels.rows(pz, pt + start, pl + start, range: range, classes: v, gradient: wantGrad)
                }
                if let dh { RawGemm.run(m: c, n: d, k: v, pz, lda: v, w.pointer, ldb: d, dh.pointer + start &* d, ldc: d) }
                if let dw {
                    RawGemm.run(transA: true, m: v, n: d, k: c, pz, lda: v, hRows, ldb: d, beta: start == 0 ? 0 : 1, dw.pointer, ldc: d)
                }
            }
        }
        var total = 0.0
        for i in 0..<m { total += Double(pl[i]) }
        let out = Tensor.scalar(Float(total))
        guard wantGrad else { return (out, m) }
        let hShape = shape, weightRef = weight
        return (out.recorded("linear_cross_entropy", [self, weight]) { g, needs in
            let scale = try g.item()
            var dx: Tensor?
            if needs[0], let dh {
                let full = try Tensor.zeros(hShape)
                for (i, r) in kept.enumerated() {
                    let src = dh.pointer + i &* d, dst = full.pointer + r &* d
                    for j in 0..<d { dst[j] = scale * src[j] }
                }
                dx = full
            }
            var dW: Tensor?
            if needs[1], let dw {
                if weightRef.isGradLeaf { try weightRef.accumulateGrad(dw, scale: scale) } else { dW = try dw.multiplying(.scalar(scale)) }
            }
            return [dx, dW]
        }, m)
    }
}
