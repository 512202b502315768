@preconcurrency import COpenBLAS

/// Causal scaled dot-product attention with grouped-query heads, per (batch, head):
///   S = scale · Q Kᵀ (query t, at absolute position start + t, sees keys 0 ... start + t)
///   P = softmax(S) row by row,  O = P V
/// Only the row log-sum-exps are kept for the backward, which recomputes P:
///   dP = dO Vᵀ,  dS = P ⊙ (dP − rowdot(dO, O)),  dQ = scale · dS K,
///   dK += scale · dSᵀ Q,  dV += Pᵀ dO   (query heads of a group add into one key head)
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
        cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Causal softmax of the rows of `s` (T×S) in place; masked entries become 0. Returns nothing; writes lse.
    static func softmaxRows(_ s: UnsafeMutablePointer<Float>, rows: Int, cols: Int, start: Int, lse: UnsafeMutablePointer<Float>) {
        parallelRanges(rows, grain: Swift.max(1, elementwiseGrain / Swift.max(cols, 1))) { range in
            for t in range {
                let row = s + t * cols
                let visible = Swift.min(cols, start + t + 1)
                var m = -Float.infinity
                for j in 0..<visible { m = Swift.max(m, row[j]) }
                var sum: Float = 0
                for j in 0..<visible { let e = FastMath.exp(row[j] - m); row[j] = e; sum += e }
                let inv = 1 / sum
                for j in 0..<visible { row[j] *= inv }
                for j in visible..<cols { row[j] = 0 }
                lse[t] = m + Glibc.log(sum)
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif

extension Tensor {
    /// Causal attention of q [batch, tokens, heads, d] over k and v [batch, keys, kvHeads, d]
    /// (keys ≥ tokens; the queries are the last `tokens` positions). Heads divide into
    /// kvHeads groups that share a key/value head. Returns [batch, tokens, heads, d].
    public static func causalAttention(_ q: Tensor, _ k: Tensor, _ v: Tensor) throws -> Tensor {
        guard q.rank == 4, k.rank == 4, v.shape == k.shape, q.shape[0] == k.shape[0], q.shape[3] == k.shape[3],
              k.shape[2] > 0, q.shape[2] % k.shape[2] == 0, k.shape[1] >= q.shape[1] else {
            throw TensorError.invalidShape(op: "attention", "q \(q.shape.shapeText) with k \(k.shape.shapeText) and v \(v.shape.shapeText): needs [batch, tokens, heads, d] and [batch, keys >= tokens, kvHeads dividing heads, d]")
        }
        let (B, T, H, D) = (q.shape[0], q.shape[1], q.shape[2], q.shape[3])
        let (S, KH) = (k.shape[1], k.shape[2])
        let group = H / KH, start = S - T
        let scale = 1 / Float(D).squareRoot()
        let qc = try q.headRows(), kc = try k.headRows(), vc = try v.headRows()
        let out = try Tensor.empty([B, T, H, D], op: "attention")
        let lse = try Tensor.empty([B, H, T], op: "attention")
        let scores = try Tensor.empty([T, S], op: "attention")
        let Q = qc.headView, K = kc.headView, V = vc.headView, O = out.headView
        for b in 0..<B {
            for h in 0..<H {
                let g = h / group
                AttentionKernels.gemm(false, true, m: T, n: S, k: D, alpha: scale, Q.at(b, h), Q.tokenStride, K.at(b, g), K.tokenStride,
                                      beta: 0, scores.pointer, S)
                AttentionKernels.softmaxRows(scores.pointer, rows: T, cols: S, start: start, lse: lse.pointer + (b * H + h) * T)
                AttentionKernels.gemm(false, false, m: T, n: D, k: S, alpha: 1, scores.pointer, S, V.at(b, g), V.tokenStride,
                                      beta: 0, O.at(b, h), O.tokenStride)
            }
        }
        return out.recorded("attention", [q, k, v]) { g, _ in
            let dO = try g.contiguousNoGrad()
            let dq = try Tensor.empty(q.shape, op: "attention")
            let dk = try Tensor.zeros(k.shape), dv = try Tensor.zeros(v.shape)
            let p = try Tensor.empty([T, S], op: "attention"), dp = try Tensor.empty([T, S], op: "attention")
            let GO = dO.headView, DQ = dq.headView, DK = dk.headView, DV = dv.headView
            for b in 0..<B {
                for h in 0..<H {
                    let kg = h / group
                    let l = lse.pointer + (b * H + h) * T
                    AttentionKernels.gemm(false, true, m: T, n: S, k: D, alpha: scale, Q.at(b, h), Q.tokenStride, K.at(b, kg), K.tokenStride,
                                          beta: 0, p.pointer, S)
                    AttentionKernels.gemm(false, true, m: T, n: S, k: D, alpha: 1, GO.at(b, h), GO.tokenStride, V.at(b, kg), V.tokenStride,
                                          beta: 0, dp.pointer, S)
                    let pp = p.pointer, dpp = dp.pointer, go = GO.at(b, h), oo = O.at(b, h)
                    let (gs, os) = (GO.tokenStride, O.tokenStride)
                    parallelRanges(T, grain: Swift.max(1, elementwiseGrain / Swift.max(S, 1))) { range in
                        for t in range {
                            let visible = Swift.min(S, start + t + 1)
                            var dot: Float = 0
                            for i in 0..<D { dot += go[t * gs + i] * oo[t * os + i] }
                            let pr = pp + t * S, dr = dpp + t * S, lt = l[t]
                            for j in 0..<visible {
                                let pj = FastMath.exp(pr[j] - lt)
                                pr[j] = pj
                                dr[j] = pj * (dr[j] - dot)
                            }
                            for j in visible..<S { pr[j] = 0; dr[j] = 0 }
                        }
                    }
                    AttentionKernels.gemm(true, false, m: S, n: D, k: T, alpha: 1, p.pointer, S, GO.at(b, h), GO.tokenStride,
                                          beta: 1, DV.at(b, kg), DV.tokenStride)
                    AttentionKernels.gemm(false, false, m: T, n: D, k: S, alpha: scale, dp.pointer, S, K.at(b, kg), K.tokenStride,
                                          beta: 0, DQ.at(b, h), DQ.tokenStride)
                    AttentionKernels.gemm(true, false, m: S, n: D, k: T, alpha: scale, dp.pointer, S, Q.at(b, h), Q.tokenStride,
                                          beta: 1, DK.at(b, kg), DK.tokenStride)
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
