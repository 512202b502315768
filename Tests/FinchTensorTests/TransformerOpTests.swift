@testable import FinchTensor
import Foundation
import Testing

/// The coarse transformer ops (rope, causal attention) against compositions of
/// plain ops, and their gradients against finite differences.
@Suite struct TransformerOpTests {
    /// rotate-half rope written with slices and concatenation.
    func ropeByHand(_ x: Tensor, theta: Double, start: Int) throws -> Tensor {
        let (T, d) = (x.shape[1], x.shape[3])
        var cosv: [Float] = [], sinv: [Float] = []
        for t in 0..<T {
            for i in 0..<d {
                let angle = Double(start + t) * Foundation.pow(theta, -2 * Double(i % (d / 2)) / Double(d))
                cosv.append(Float(Foundation.cos(angle))); sinv.append(Float(Foundation.sin(angle)))
            }
        }
        let c = try Tensor(cosv, shape: [1, T, 1, d]), s = try Tensor(sinv, shape: [1, T, 1, d])
        let halves = try x.chunk(2, axis: 3)
        let rotated = try Tensor.concat([halves[1].negated(), halves[0]], axis: 3)
        return try x.multiplying(c).adding(rotated.multiplying(s))
    }

    @Test func ropeMatchesRotateHalf() throws {
        let x = try randomTensor([2, 5, 3, 8], seed: 11)
        let table = RotaryTable(headDim: 8, theta: 10000)
        for start in [0, 7, 300] {
            let expected = try ropeByHand(x, theta: 10000, start: start)
            expectClose(try x.rope(table, start: start), expected.scalars, atol: 1e-5, "rope from \(start)")
        }
    }

    @Test func ropeGradient() throws {
        let table = RotaryTable(headDim: 4, theta: 100)
        try checkGradients("rope", [try randomTensor([1, 3, 2, 4], seed: 12)]) { try $0[0].rope(table, start: 2) }
    }

    /// Attention as matmul, a -inf mask and softmax, with key heads repeated for their groups.
    func attentionByHand(_ q: Tensor, _ k: Tensor, _ v: Tensor, window: Int = 0, scale: Float? = nil, softcap: Float = 0) throws -> Tensor {
        let (T, H, D) = (q.shape[1], q.shape[2], q.shape[3])
        let (S, KH) = (k.shape[1], k.shape[2])
        let repeatHeads = { (t: Tensor) -> Tensor in
            try Tensor.concat((0..<H).map { h in try t.slice(axis: 2, start: h / (H / KH), end: h / (H / KH) + 1) }, axis: 2)
        }
        let qh = try q.permute([0, 2, 1, 3]), kh = try repeatHeads(k).permute([0, 2, 1, 3]), vh = try repeatHeads(v).permute([0, 2, 1, 3])
        var mask: [Float] = []
        for t in 0..<T { for j in 0..<S {
            let position = S - T + t
            mask.append(j > position || (window > 0 && position - j >= window) ? -Float.infinity : 0)
        } }
        var raw = try qh.matmul(kh.transpose()).multiplying(.scalar(scale ?? 1 / Float(D).squareRoot()))
        if softcap > 0 { raw = try raw.multiplying(.scalar(1 / softcap)).tanh().multiplying(.scalar(softcap)) }
        let scores = try raw.adding(Tensor(mask, shape: [T, S]))
        return try scores.softmax(axis: -1).matmul(vh).permute([0, 2, 1, 3])
    }

    @Test func attentionMatchesComposition() throws {
        for (T, S) in [(5, 5), (1, 6), (3, 7)] {
            let q = try randomTensor([2, T, 6, 4], seed: 21), k = try randomTensor([2, S, 2, 4], seed: 22), v = try randomTensor([2, S, 2, 4], seed: 23)
            let got = try Tensor.causalAttention(q, k, v)
            expectClose(got, try attentionByHand(q, k, v).scalars, atol: 1e-5, "attention T=\(T) S=\(S)")
        }
    }

    @Test func attentionGradient() throws {
        let q = try randomTensor([2, 3, 4, 2], seed: 31), k = try randomTensor([2, 3, 2, 2], seed: 32), v = try randomTensor([2, 3, 2, 2], seed: 33)
        try checkGradients("attention", [q, k, v]) { try Tensor.causalAttention($0[0], $0[1], $0[2]) }
        // Fewer queries than keys: a cache in front of them.
        let k2 = try randomTensor([1, 5, 2, 3], seed: 34), v2 = try randomTensor([1, 5, 2, 3], seed: 35), q2 = try randomTensor([1, 2, 2, 3], seed: 36)
        try checkGradients("attention with a cache", [q2, k2, v2]) { try Tensor.causalAttention($0[0], $0[1], $0[2]) }
    }

    @Test func slidingWindowAttention() throws {
        // Each query sees its last `window` positions, itself included (Mistral's and Phi-3's mask).
        for (T, S, window) in [(7, 7, 3), (2, 9, 4), (6, 6, 1), (5, 5, 10)] {
            let q = try randomTensor([1, T, 4, 4], seed: 61), k = try randomTensor([1, S, 2, 4], seed: 62), v = try randomTensor([1, S, 2, 4], seed: 63)
            expectClose(try Tensor.causalAttention(q, k, v, window: window), try attentionByHand(q, k, v, window: window).scalars,
                        atol: 1e-5, "T=\(T) S=\(S) window \(window)")
            expectClose(try Tensor.causalAttention(q, k, v, rowBlock: 2, window: window), try attentionByHand(q, k, v, window: window).scalars,
                        atol: 1e-5, "in blocks of 2, window \(window)")
        }
        let q = try randomTensor([1, 6, 2, 2], seed: 64), k = try randomTensor([1, 6, 1, 2], seed: 65), v = try randomTensor([1, 6, 1, 2], seed: 66)
        try checkGradients("attention with a window of 2", [q, k, v]) { try Tensor.causalAttention($0[0], $0[1], $0[2], window: 2) }
    }

    @Test func scaledAndSoftCappedAttention() throws {
        // Gemma: scores scaled by 1/√query_pre_attn_scalar, then c·tanh(s/c) (Gemma 2's c = 50).
        let q = try randomTensor([1, 5, 4, 4], seed: 71).multiplying(.scalar(3)), k = try randomTensor([1, 7, 2, 4], seed: 72)
        let v = try randomTensor([1, 7, 2, 4], seed: 73)
        for (window, block) in [(0, 128), (3, 2)] {
            let got = try Tensor.causalAttention(q, k, v, rowBlock: block, window: window, scale: 0.7, softcap: 2)
            expectClose(got, try attentionByHand(q, k, v, window: window, scale: 0.7, softcap: 2).scalars, atol: 1e-5, "capped, window \(window)")
        }
        try checkGradients("soft-capped attention", [q, k, v]) { try Tensor.causalAttention($0[0], $0[1], $0[2], rowBlock: 2, window: 4, scale: 0.7, softcap: 2) }
    }

    @Test func partialRotaryTurnsTheLeadingDimensionsOnly() throws {
        // GPT-NeoX and Phi-3 rotate the first rotary_dim of each head (as halves) and pass the rest.
        let x = try randomTensor([1, 4, 2, 8], seed: 67)
        let table = RotaryTable(headDim: 4, theta: 10000)
        let out = try x.rope(table, start: 3)
        let lead = try x.slice(axis: 3, start: 0, end: 4)
        expectClose(try out.slice(axis: 3, start: 0, end: 4), try ropeByHand(lead, theta: 10000, start: 3).scalars, atol: 1e-5, "rotated part")
        expectClose(try out.slice(axis: 3, start: 4, end: 8), try x.slice(axis: 3, start: 4, end: 8).contiguous().scalars, atol: 0, "passed through")
        try checkGradients("partial rope", [x]) { try $0[0].rope(table, start: 1) }
    }

    @Test func attentionInRowBlocks() throws {
        // Blocks of query rows see only the keys they may: the same result and gradients as one block.
        for (T, S, block) in [(7, 7, 2), (5, 9, 3), (300, 300, 128)] {
            let q = try randomTensor([1, T, 4, 8], seed: 41), k = try randomTensor([1, S, 2, 8], seed: 42), v = try randomTensor([1, S, 2, 8], seed: 43)
            let whole = try Tensor.causalAttention(q, k, v, rowBlock: T)
            expectClose(try Tensor.causalAttention(q, k, v, rowBlock: block), whole.scalars, atol: 1e-5, "T=\(T) S=\(S) in blocks of \(block)")
        }
        let q = try randomTensor([1, 5, 2, 2], seed: 44), k = try randomTensor([1, 6, 1, 2], seed: 45), v = try randomTensor([1, 6, 1, 2], seed: 46)
        try checkGradients("attention in blocks of 2", [q, k, v]) { try Tensor.causalAttention($0[0], $0[1], $0[2], rowBlock: 2) }
    }

    @Test func swigluIsSiluTimesUp() throws {
        let a = try randomTensor([3, 5], seed: 51), b = try randomTensor([3, 5], seed: 52)
        expectClose(try a.swiglu(b), try a.silu().multiplying(b).scalars, atol: 1e-6, "swiglu")
        try checkGradients("swiglu", [a, b]) { try $0[0].swiglu($0[1]) }
        #expect(throws: TensorError.self) { try a.swiglu(try Tensor.zeros([5])) }
    }

    @Test func attentionRejectsBadShapes() throws {
        let q = try Tensor.zeros([1, 3, 5, 4]), k = try Tensor.zeros([1, 3, 2, 4])
        #expect(throws: TensorError.self) { try Tensor.causalAttention(q, k, k) }
        #expect(throws: TensorError.self) { try Tensor.causalAttention(try Tensor.zeros([1, 4, 2, 4]), k, k) }
    }
}
