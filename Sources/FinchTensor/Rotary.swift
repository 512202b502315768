#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// cos and sin of position · f_i for rotary position embeddings (f_i = θ^(−2i/d) unless a
/// model rescales them), grown on demand and shared by every layer (the angles depend only
/// on the position).
public final class RotaryTable: @unchecked Sendable {
    /// The dimensions of each head that turn (the leading ones; a head may be wider).
    public let headDim: Int
    /// The inverse frequencies f_i, i < headDim / 2.
    public let frequencies: [Double]
    private struct Tables { var cos: [Float] = []; var sin: [Float] = []; var positions = 0 }
    private let tables = Mutex(Tables())

    public init(headDim: Int, theta: Double) {
        self.headDim = headDim
        self.frequencies = RotaryTable.frequencies(headDim: headDim, theta: theta)
    }

    /// A table of given inverse frequencies (Llama 3's rescaled ones).
    public init(frequencies: [Double]) {
        self.headDim = frequencies.count * 2
        self.frequencies = frequencies
    }

    /// θ^(−2i/d) for i < d/2.
    public static func frequencies(headDim: Int, theta: Double) -> [Double] {
        (0..<(headDim / 2)).map { Glibc.pow(theta, -2 * Double($0) / Double(headDim)) }
    }

    /// Tables covering positions 0..<n (row p holds headDim/2 angles).
    func covering(_ n: Int) -> (cos: [Float], sin: [Float]) {
        tables.withLock { t in
            if t.positions < n {
                let half = headDim / 2
                let target = Swift.max(n, t.positions * 2, 256)
                t.cos = [Float](repeating: 0, count: target * half)
                t.sin = t.cos
                for p in 0..<target {
                    for i in 0..<half {
                        // Double precision: angles reach thousands of radians at long contexts.
                        let angle = Double(p) * frequencies[i]
                        t.cos[p * half + i] = Float(Glibc.cos(angle))
                        t.sin[p * half + i] = Float(Glibc.sin(angle))
                    }
                }
                t.positions = target
            }
            return (t.cos, t.sin)
        }
    }
}

/// Rotary position embedding in the Hugging Face layout ("rotate half"): for
/// i < d/2 the pair (x[i], x[i + d/2]) turns by the angle a = p · θ^(−2i/d):
///   y[i] = x[i]·cos a − x[i+d/2]·sin a,   y[i+d/2] = x[i+d/2]·cos a + x[i]·sin a
/// The backward turns the gradient by −a. With partial rotary (d < the head's width w, as
/// GPT-NeoX has) the first d dimensions turn and the other w − d pass through.
enum RotaryKernels {
    static func rotate(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Range<Int>,
                       tokens: Int, heads: Int, headDim: Int, width: Int, start: Int,
                       cos: UnsafePointer<Float>, sin: UnsafePointer<Float>, direction: Float) {
        let half = headDim / 2
        for r in rows {
            // Rows are (batch, token, head) in order.
            let t = (r / heads) % tokens
            let c = cos + (start + t) * half, s = sin + (start + t) * half
            let xr = x + r * width, yr = y + r * width
            for i in 0..<half {
                let a = xr[i], b = xr[i + half], sn = direction * s[i]
                yr[i] = a * c[i] - b * sn
                yr[i + half] = b * c[i] + a * sn
            }
            if width > headDim { (yr + headDim).update(from: xr + headDim, count: width - headDim) }
        }
    }
}

extension Tensor {
    /// Rotary position embedding of a [batch, tokens, heads, width] tensor whose first token
    /// sits at position `start` (the length of a KV cache); the table turns the first
    /// `table.headDim` ≤ width dimensions of each head.
    public func rope(_ table: RotaryTable, start: Int = 0) throws -> Tensor {
        guard rank == 4, shape[3] >= table.headDim, table.headDim % 2 == 0, table.headDim > 0 else {
            throw TensorError.invalidShape(op: "rope", "needs [batch, tokens, heads, \(table.headDim) or more], got \(shape.shapeText)")
        }
        let tokens = shape[1], heads = shape[2], d = shape[3]
        let (cos, sin) = table.covering(start + tokens)
        let x = try contiguousNoGrad()
        let out = try Tensor.empty(shape, op: "rope")
        let rows = count / d
        let apply = { (src: UnsafePointer<Float>, dst: UnsafeMutablePointer<Float>, direction: Float) in
            cos.withUnsafeBufferPointer { c in
                sin.withUnsafeBufferPointer { s in
                    let cp = c.baseAddress!, sp = s.baseAddress!
                    parallelRanges(rows, grain: Swift.max(1, elementwiseGrain / d)) { r in
                        RotaryKernels.rotate(src, dst, rows: r, tokens: tokens, heads: heads, headDim: table.headDim, width: d, start: start,
                                             cos: cp, sin: sp, direction: direction)
                    }
                }
            }
        }
        apply(x.pointer, out.pointer, 1)
        let shape = self.shape
        return out.recorded("rope", [self]) { g, _ in
            let gc = try g.contiguousNoGrad()
            let dx = try Tensor.empty(shape, op: "rope")
            apply(gc.pointer, dx.pointer, -1)
            return [dx]
        }
    }
}
