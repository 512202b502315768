/// Softmax and log-softmax over the last axis, row by row.
///   softmax:     y_i = e^(x_i − m) / Σ_j e^(x_j − m),  m = max_j x_j
///   backward:    dx_i = y_i (g_i − Σ_j g_j y_j)
///   log_softmax: y_i = x_i − m − log Σ_j e^(x_j − m)
///   backward:    dx_i = g_i − e^(y_i) Σ_j g_j
enum SoftmaxKernels {
    static func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Range<Int>, width n: Int, log: Bool) {
        for r in rows {
            let xr = x + r &* n, yr = y + r &* n
            var m = -Float.infinity
            for i in 0..<n { m = Swift.max(m, xr[i]) }
            if m == -.infinity { m = 0 }
            var s: Float = 0
            for i in 0..<n {
                let e = FastMath.exp(xr[i] - m)
                yr[i] = e
                s += e
            }
            if log {
                let shift = m + logf(s)
                for i in 0..<n { yr[i] = xr[i] - shift }
            } else {
                let inv = 1 / s
                for i in 0..<n { yr[i] *= inv }
            }
        }
    }

    static func backward(_ g: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
                         rows: Range<Int>, width n: Int, log: Bool) {
        for r in rows {
            let gr = g + r &* n, yr = y + r &* n, dr = dx + r &* n
            var dot: Float = 0
            if log {
                for i in 0..<n { dot += gr[i] }
                for i in 0..<n { dr[i] = gr[i] - FastMath.exp(yr[i]) * dot }
            } else {
                for i in 0..<n { dot += gr[i] * yr[i] }
                for i in 0..<n { dr[i] = yr[i] * (gr[i] - dot) }
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif

extension Tensor {
    private func softmaxFamily(axis: Int, log: Bool) throws -> Tensor {
        let name = log ? "log_softmax" : "softmax"
        guard rank >= 1 else { throw TensorError.invalidShape(op: name, "needs at least one axis") }
        let a = try Shape.axis(axis, rank: rank, op: name)
        if a != rank - 1 {
            // Move the axis last, apply, move it back.
            return try transpose(a, -1).softmaxFamily(axis: -1, log: log).transpose(a, -1)
        }
        let x = try contiguousNoGrad()
        let out = try Tensor.empty(shape, op: name)
        let n = shape[rank - 1], rows = count / Swift.max(n, 1)
        let px = x.pointer, py = out.pointer
        parallelRanges(rows, grain: Swift.max(1, elementwiseGrain / Swift.max(n, 1))) { r in
            SoftmaxKernels.forward(px, py, rows: r, width: n, log: log)
        }
        let y = out.detached()
        return out.recorded(name, [self]) { g, _ in
            let gc = try g.contiguousNoGrad()
            let dx = try Tensor.empty(y.shape, op: name)
            let pg = gc.pointer, pyy = y.pointer, pd = dx.pointer
            parallelRanges(rows, grain: Swift.max(1, elementwiseGrain / Swift.max(n, 1))) { r in
                SoftmaxKernels.backward(pg, pyy, pd, rows: r, width: n, log: log)
            }
            return [dx]
        }
    }

    /// Softmax along `axis` (the last by default).
    public func softmax(axis: Int = -1) throws -> Tensor { try softmaxFamily(axis: axis, log: false) }

    /// Log-softmax along `axis` (the last by default), computed stably.
    public func logSoftmax(axis: Int = -1) throws -> Tensor { try softmaxFamily(axis: axis, log: true) }
}
