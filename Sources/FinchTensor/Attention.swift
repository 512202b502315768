@preconcurrency import COpenBLAS

/// Causal scaled dot-product attention with grouped-query heads, per (batch, head):
///   R = scale · Q Kᵀ (query t, at absolute position start + t, sees keys 0 ... start + t)
///   S = R, or c · tanh(R / c) with Gemma 2's soft cap c
///   P = softmax(S) row by row,  O = P V
/// Only the row log-sum-exps are kept for the backward, which recomputes P:
///   dP = dO Vᵀ,  dS = P ⊙ (dP − rowdot(dO, O)),  dR = dS ⊙ (1 − (S/c)²) when capped,
///   dQ = scale · dR K,  dK += scale · dRᵀ Q,  dV += Pᵀ dO   (query heads of a group add into one key head)
enum AttentionKernels {
    /// One matrix of a [batch, tokens, heads, headDim] tensor: the pointer to (b, 0, h, 0) and the row stride.
    struct HeadView {
        let base: UnsafeMutablePointer<Float>
        let batchStride: Int, tokenStride: Int, headStride: Int
        @inline(__always) func at(_ b: Int, _ h: Int) -> UnsafeMutablePointer<Float> { base + b * batchStride + h * headStride }
    }

    @inline(__always)
    static func gemm(_ ta: Bool, _ tb: Bool, m: Int, n: Int, k: Int, alpha: Float,
                     _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
                     beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
        RawGemm.run(transA: ta, transB: tb, m: m, n: n, k: k, alpha: alpha, a, lda: lda, b, ldb: ldb, beta: beta, c, ldc: ldc)
    }

    /// Causal softmax of the rows of `s` (rows × cols, row t at absolute position start + t,
    /// which sees columns first(t) ... start + t) in place; masked entries become 0; lse[t] gets log Σ e^s.
    static func softmaxRows(_ s: UnsafeMutablePointer<Float>, rows: Int, cols: Int, start: Int, window: Int, softcap: Float,
                            lse: UnsafeMutablePointer<Float>) {
        for t in 0..<rows {
            let row = s + t * cols
            let visible = Swift.min(cols, start + t + 1)
            let first = firstVisible(start + t, window: window)
            let live = row + first, n = visible - first
            if softcap > 0 { for j in 0..<n { live[j] = softcap * Glibc.tanhf(live[j] / softcap) } }
            let m = Reduce.rowMax(live, n)
            FastMath.expShifted(live, n, minus: m)
            let sum = Reduce.rowSum(live, n)
            let inv = 1 / sum
            for j in 0..<n { live[j] *= inv }
            if first > 0 { row.update(repeating: 0, count: first) }
            if visible < cols { (row + visible).update(repeating: 0, count: cols - visible) }
            lse[t] = m + Glibc.log(sum)
        }
    }

    /// The first key a query at `position` sees: 0, or with a sliding window of w the position − w + 1.
    @inline(__always) static func firstVisible(_ position: Int, window: Int) -> Int {
        window > 0 ? Swift.max(0, position - window + 1) : 0
    }

    /// Query rows are processed in blocks so that each block multiplies only the keys it can see:
    /// causal attention over T queries then costs about half of the full T × S products.
    static let rowBlock = 128
}

#if canImport(Glibc)
import Glibc
#endif

extension Tensor {
    /// Causal attention of q [batch, tokens, heads, d] over k and v [batch, keys, kvHeads, d]
    /// (keys ≥ tokens; the queries are the last `tokens` positions). Heads divide into
    /// kvHeads groups that share a key/value head. Returns [batch, tokens, heads, d].
    /// A `window` w > 0 lets each query see only the last w positions, itself included
    /// (Mistral's and Gemma's sliding-window attention). `scale` multiplies the scores (default
    /// 1/√d; Gemma's is 1/√query_pre_attn_scalar); a `softcap` c > 0 maps them to c·tanh(s/c) (Gemma 2).
    public static func causalAttention(_ q: Tensor, _ k: Tensor, _ v: Tensor, window: Int = 0, scale: Float? = nil,
                                       softcap: Float = 0) throws -> Tensor {
        try causalAttention(q, k, v, rowBlock: AttentionKernels.rowBlock, window: window, scale: scale, softcap: softcap)
    }

    /// The same with query rows taken `rowBlock` at a time (the tests use small blocks).
    static func causalAttention(_ q: Tensor, _ k: Tensor, _ v: Tensor, rowBlock: Int, window: Int = 0, scale: Float? = nil,
                                softcap: Float = 0) throws -> Tensor {
        guard q.rank == 4, k.rank == 4, v.shape == k.shape, q.shape[0] == k.shape[0], q.shape[3] == k.shape[3],
              k.shape[2] > 0, q.shape[2] % k.shape[2] == 0, k.shape[1] >= q.shape[1] else {
            throw TensorError.invalidShape(op: "attention", "q \(q.shape.shapeText) with k \(k.shape.shapeText) and v \(v.shape.shapeText): needs [batch, tokens, heads, d] and [batch, keys >= tokens, kvHeads dividing heads, d]")
        }
        let (B, T, H, D) = (q.shape[0], q.shape[1], q.shape[2], q.shape[3])
        let (S, KH) = (k.shape[1], k.shape[2])
        let group = H / KH, start = S - T
        let scale = scale ?? 1 / Float(D).squareRoot()
        let qc = try q.headRows(), kc = try k.headRows(), vc = try v.headRows()
        let out = try Tensor.empty([B, T, H, D], op: "attention")
        let lse = try Tensor.empty([B, H, T], op: "attention")
        let block = Swift.max(1, Swift.min(T, rowBlock))
        let Q = qc.headView, K = kc.headView, V = vc.headView, O = out.headView
        let lp = lse.pointer
        // Heads run in parallel on Finch's threads, each product on one BLAS thread; a decoding
        // step's few thousand multiply-adds per head run inline (waking threads would cost more).
        let small = B * T * S * D * H < 1 << 20
        parallelRanges(B * H, grain: small ? B * H : 1) { units in
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: block * S)
            defer { scores.deallocate() }
            for unit in units {
                let (b, h) = (unit / H, unit % H), g = h / group
                for r0 in stride(from: 0, to: T, by: block) {
                    let rows = Swift.min(block, T - r0), visible = Swift.min(S, start + r0 + rows)
                    AttentionKernels.gemm(false, true, m: rows, n: visible, k: D, alpha: scale, Q.at(b, h) + r0 * Q.tokenStride, Q.tokenStride,
                                          K.at(b, g), K.tokenStride, beta: 0, scores, visible)
                    AttentionKernels.softmaxRows(scores, rows: rows, cols: visible, start: start + r0, window: window, softcap: softcap, lse: lp + (b * H + h) * T + r0)
                    AttentionKernels.gemm(false, false, m: rows, n: D, k: visible, alpha: 1, scores, visible, V.at(b, g), V.tokenStride,
                                          beta: 0, O.at(b, h) + r0 * O.tokenStride, O.tokenStride)
                }
            }
        }
        // The backward needs the output's values, but capturing `out` (even as `out.storage` inside
        // the closure) would make a cycle out → node → closure → out that never frees the graph.
        let outStorage = out.storage
        return out.recorded("attention", [q, k, v]) { g, _ in
            // The views above point into these; holding them keeps the memory alive.
            let lp = lse.pointer
            withExtendedLifetime((qc, kc, vc, outStorage)) {}
            let dO = try g.contiguousNoGrad()
            let dq = try Tensor.empty(q.shape, op: "attention")
            let dk = try Tensor.zeros(k.shape), dv = try Tensor.zeros(v.shape)
            let GO = dO.headView, DQ = dq.headView, DK = dk.headView, DV = dv.headView
            // One unit of work is a key/value head with its group of query heads, so no two
            // threads add into the same dK or dV.
            parallelRanges(B * KH, grain: 1) { units in
                let pp = UnsafeMutablePointer<Float>.allocate(capacity: block * S), dpp = UnsafeMutablePointer<Float>.allocate(capacity: block * S)
                defer { pp.deallocate(); dpp.deallocate() }
                for unit in units {
                    let (b, kg) = (unit / KH, unit % KH)
                    for h in (kg * group)..<((kg + 1) * group) {
                        for r0 in stride(from: 0, to: T, by: block) {
                            let rows = Swift.min(block, T - r0), n = Swift.min(S, start + r0 + rows)
                            let q0 = Q.at(b, h) + r0 * Q.tokenStride, go = GO.at(b, h) + r0 * GO.tokenStride, oo = O.at(b, h) + r0 * O.tokenStride
                            let l = lp + (b * H + h) * T + r0
                            AttentionKernels.gemm(false, true, m: rows, n: n, k: D, alpha: scale, q0, Q.tokenStride, K.at(b, kg), K.tokenStride,
                                                  beta: 0, pp, n)
                            AttentionKernels.gemm(false, true, m: rows, n: n, k: D, alpha: 1, go, GO.tokenStride, V.at(b, kg), V.tokenStride,
                                                  beta: 0, dpp, n)
                            let (gs, os, first) = (GO.tokenStride, O.tokenStride, start + r0)
                            for t in 0..<rows {
                                let visible = Swift.min(n, first + t + 1)
                                let lo = AttentionKernels.firstVisible(first + t, window: window)
                                var dot: Float = 0
                                for i in 0..<D { dot += go[t * gs + i] * oo[t * os + i] }
                                let pr = pp + t * n, dr = dpp + t * n, lt = l[t]
                                for j in 0..<lo { pr[j] = 0; dr[j] = 0 }
                                if softcap > 0 {
                                    for j in lo..<visible {
                                        let c = Glibc.tanhf(pr[j] / softcap)
                                        let pj = FastMath.exp(softcap * c - lt)
                                        pr[j] = pj
                                        dr[j] = pj * (dr[j] - dot) * (1 - c * c)
                                    }
                                } else {
                                    for j in lo..<visible {
                                        let pj = FastMath.exp(pr[j] - lt)
                                        pr[j] = pj
                                        dr[j] = pj * (dr[j] - dot)
                                    }
                                }
                                for j in visible..<n { pr[j] = 0; dr[j] = 0 }
                            }
                            AttentionKernels.gemm(true, false, m: n, n: D, k: rows, alpha: 1, pp, n, go, GO.tokenStride,
                                                  beta: 1, DV.at(b, kg), DV.tokenStride)
                            AttentionKernels.gemm(false, false, m: rows, n: D, k: n, alpha: scale, dpp, n, K.at(b, kg), K.tokenStride,
                                                  beta: 0, DQ.at(b, h) + r0 * DQ.tokenStride, DQ.tokenStride)
                            AttentionKernels.gemm(true, false, m: n, n: D, k: rows, alpha: scale, dpp, n, q0, Q.tokenStride,
                                                  beta: 1, DK.at(b, kg), DK.tokenStride)
                        }
                    }
                }
            }
            return [dq, dk, dv]
        }
    }

    /// This tensor if each token's (heads, d) block is contiguous, else a contiguous copy.
    fileprivate func headRows() throws -> Tensor {
        strides[3] == 1 && (shape[2] == 1 || strides[2] == shape[3]) ? self : try contiguousNoGrad()
    }

    fileprivate var headView: AttentionKernels.HeadView {
        AttentionKernels.HeadView(base: pointer, batchStride: strides[0], tokenStride: strides[1], headStride: shape[3])
    }
}
