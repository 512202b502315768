#if canImport(Glibc)
import Glibc
#endif

/// How a loss over many positions is reduced.
public enum Reduction: String, Sendable {
    /// Mean over the positions that are not ignored.
    case mean
    /// Sum over the positions that are not ignored.
    case sum
}

/// Cross-entropy of logits [N, C] against class ids [N], streamed row by row:
/// probabilities are never stored, the backward recomputes them.
///   loss_r = log Σ_j e^(x_rj) − x_r,t_r
///   dx_rj  = (softmax(x_r)_j − [j = t_r]) · scale, scale = g / count (mean) or g (sum)
enum CrossEntropyKernels {
    static func forward(_ x: UnsafePointer<Float>, _ targets: UnsafePointer<Float>, _ losses: UnsafeMutablePointer<Float>,
                        rows: Range<Int>, classes n: Int, ignoreIndex: Int) {
        for r in rows {
            let t = Int(targets[r])
            if t == ignoreIndex { losses[r] = 0; continue }
            let xr = x + r &* n
            var m = -Float.infinity
            for i in 0..<n { m = max(m, xr[i]) }
            var s: Float = 0
            for i in 0..<n { s += FastMath.exp(xr[i] - m) }
            losses[r] = m + logf(s) - xr[t]
        }
    }

    static func backward(_ x: UnsafePointer<Float>, _ targets: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
                         rows: Range<Int>, classes n: Int, ignoreIndex: Int, scale: Float) {
        for r in rows {
            let t = Int(targets[r])
            let xr = x + r &* n, dr = dx + r &* n
            if t == ignoreIndex { dr.update(repeating: 0, count: n); continue }
            var m = -Float.infinity
            for i in 0..<n { m = max(m, xr[i]) }
            var s: Float = 0
            for i in 0..<n {
                let e = FastMath.exp(xr[i] - m)
                dr[i] = e
                s += e
            }
            let k = scale / s
            for i in 0..<n { dr[i] *= k }
            dr[t] -= scale
        }
    }
}

extension Tensor {
    /// Cross-entropy between logits (this, [..., C]) and class ids ([...], as floats).
    /// Positions whose target is `ignoreIndex` add nothing and count for nothing.
    public func crossEntropy(_ targets: Tensor, ignoreIndex: Int = -100, reduction: Reduction = .mean) throws -> Tensor {
        guard rank >= 1, Array(shape.dropLast()) == targets.shape else {
            throw TensorError.shapeMismatch(op: "cross_entropy", shape.shapeText, targets.shape.shapeText)
        }
        let n = shape[rank - 1], rows = targets.count
        let x = try contiguousNoGrad(), t = try targets.contiguousNoGrad()
        var counted = 0
        for r in 0..<rows {
            let v = t.pointer[r]
            let id = Int(exactly: v) ?? Int.min
            if id == ignoreIndex { continue }
            guard id >= 0, id < n else {
                if v.isFinite, v == v.rounded() { throw TensorError.indexOutOfRange(op: "cross_entropy", index: id, size: n) }
                throw TensorError.invalidArgument(op: "cross_entropy", "target \(v) at position \(r) is not a class id")
            }
            counted += 1
        }
        let losses = try Tensor.empty([rows], op: "cross_entropy")
        let px = x.pointer, pt = t.pointer, pl = losses.pointer
        let grain = Swift.max(1, elementwiseGrain / Swift.max(n, 1))
        parallelRanges(rows, grain: grain) { r in
            CrossEntropyKernels.forward(px, pt, pl, rows: r, classes: n, ignoreIndex: ignoreIndex)
        }
        var total = 0.0
        for r in 0..<rows { total += Double(pl[r]) }
        let divisor = reduction == .mean ? Double(Swift.max(counted, 1)) : 1
        let out = Tensor.scalar(counted == 0 && reduction == .mean ? 0 : Float(total / divisor))
        let xShape = shape
        return out.recorded("cross_entropy", [self]) { g, _ in
            let scale = try g.item() / Float(divisor)
            let px = x.pointer, pt = t.pointer
            let dx = try Tensor.empty(xShape, op: "cross_entropy")
            let pd = dx.pointer
            parallelRanges(rows, grain: grain) { r in
                CrossEntropyKernels.backward(px, pt, pd, rows: r, classes: n, ignoreIndex: ignoreIndex, scale: scale)
            }
            return [dx]
        }
    }
}
