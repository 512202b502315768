#if canImport(Glibc)
import Glibc
#endif

/// RMSNorm and LayerNorm over the last axis, with hand-written backward passes.
///
/// RMSNorm:  r = 1/√(mean(x²) + ε),  x̂ = x·r,  y = x̂·w
///   dx = r·(ĝ − x̂·mean(ĝ·x̂)) with ĝ = g·w;   dw = Σ_rows g·x̂
/// LayerNorm: μ = mean(x), r = 1/√(var(x) + ε), x̂ = (x − μ)·r, y = x̂·w + b
///   dx = r·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂));   dw = Σ_rows g·x̂;   db = Σ_rows g
enum NormKernels {
    /// Forward for rows; saves x̂ and r for the backward.
    static func forward(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>?, _ b: UnsafePointer<Float>?,
                        _ y: UnsafeMutablePointer<Float>, _ xhat: UnsafeMutablePointer<Float>?, _ rstd: UnsafeMutablePointer<Float>,
                        rows: Range<Int>, width n: Int, eps: Float, center: Bool) {
        let inv = 1 / Float(n)
        // Each row's sums run in index order, one dependent add after another; four rows at a time
        // keep four such chains in flight (a prompt's norm was 4% of its prefill one row at a time).
        var r = rows.lowerBound
        while r < rows.upperBound {
            let group = Swift.min(4, rows.upperBound - r)
            // A short last group repeats its last row in the lanes it does not use.
            var mu = SIMD4<Float>(), ss = SIMD4<Float>()
            let x0 = x + r &* n, x1 = x + (r + Swift.min(1, group - 1)) &* n
            let x2 = x + (r + Swift.min(2, group - 1)) &* n, x3 = x + (r + Swift.min(3, group - 1)) &* n
            if center {
                for i in 0..<n { mu += SIMD4(x0[i], x1[i], x2[i], x3[i]) }
                mu *= inv
            }
            for i in 0..<n {
                let c = SIMD4(x0[i], x1[i], x2[i], x3[i]) - mu
                ss += c * c
            }
            for k in 0..<group {
                let rs = 1 / (ss[k] * inv + eps).squareRoot()
                normalizeRow(r + k, mu[k], rs)
            }
            r += group
        }

        func normalizeRow(_ r: Int, _ mu: Float, _ rs: Float) {
            let xr = x + r &* n, yr = y + r &* n
            rstd[r] = rs
            // x̂ is kept only when a backward pass will need it.
            if let xhat {
                let hr = xhat + r &* n
                for i in 0..<n {
                    let h = (xr[i] - mu) * rs
                    hr[i] = h
                    var v = h
                    if let w { v *= w[i] }
                    if let b { v += b[i] }
                    yr[i] = v
                }
            } else {
                for i in 0..<n {
                    var v = (xr[i] - mu) * rs
                    if let w { v *= w[i] }
                    if let b { v += b[i] }
                    yr[i] = v
                }
            }
        }
    }

    static func backwardInput(_ g: UnsafePointer<Float>, _ w: UnsafePointer<Float>?, _ xhat: UnsafePointer<Float>,
                              _ rstd: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
                              rows: Range<Int>, width n: Int, center: Bool) {
        let inv = 1 / Float(n)
        for r in rows {
            let gr = g + r &* n, hr = xhat + r &* n, dr = dx + r &* n
            var meanG: Float = 0, meanGH: Float = 0
            for i in 0..<n {
                let gh = w.map { gr[i] * $0[i] } ?? gr[i]
                meanG += gh
                meanGH += gh * hr[i]
            }
            meanG = center ? meanG * inv : 0
            meanGH *= inv
            let rs = rstd[r]
            for i in 0..<n {
                let gh = w.map { gr[i] * $0[i] } ?? gr[i]
                dr[i] = rs * (gh - meanG - hr[i] * meanGH)
            }
        }
    }
}

extension Tensor {
    private func normalize(weight: Tensor?, bias: Tensor?, eps: Float, center: Bool, name: String) throws -> Tensor {
        guard rank >= 1 else { throw TensorError.invalidShape(op: name, "needs at least one axis") }
        let n = shape[rank - 1], rows = count / Swift.max(n, 1)
        for p in [weight, bias].compactMap({ $0 }) where p.shape != [n] {
            throw TensorError.shapeMismatch(op: name, shape.shapeText, p.shape.shapeText)
        }
        let x = try contiguousNoGrad()
        let w = try weight?.contiguousNoGrad(), b = try bias?.contiguousNoGrad()
        let out = try Tensor.empty(shape, op: name)
        let records = GradMode.enabled && ([self, weight, bias].contains { $0?.requiresGrad == true })
        let xhat = try Tensor.empty(records ? shape : [0], op: name), rstd = try Tensor.empty([rows], op: name)
        let px = x.pointer, pw = w?.pointer, pb = b?.pointer, py = out.pointer, ph = records ? xhat.pointer : nil, pr = rstd.pointer
        let grain = Swift.max(1, elementwiseGrain / Swift.max(n, 1))
        parallelRanges(rows, grain: grain) { r in
            NormKernels.forward(px, pw, pb, py, ph, pr, rows: r, width: n, eps: eps, center: center)
        }
        var inputs = [self]
        if let weight { inputs.append(weight) }
        if let bias { inputs.append(bias) }
        let hasWeight = weight != nil, hasBias = bias != nil
        return out.recorded(name, inputs) { g, needs in
            let gc = try g.contiguousNoGrad()
            var grads: [Tensor?] = []
            if needs[0] {
                let dx = try Tensor.empty(xhat.shape, op: name)
                let pg = gc.pointer, pd = dx.pointer, pw = w?.pointer, ph = xhat.pointer, pr = rstd.pointer
                parallelRanges(rows, grain: grain) { r in
                    NormKernels.backwardInput(pg, pw, ph, pr, pd, rows: r, width: n, center: center)
                }
                grads.append(dx)
            } else { grads.append(nil) }
            let flatG = try gc.reshape([rows, n])
            if hasWeight { grads.append(needs[1] ? try flatG.multiplying(xhat.reshape([rows, n])).sum(axis: 0) : nil) }
            if hasBias { grads.append(needs[hasWeight ? 2 : 1] ? try flatG.sum(axis: 0) : nil) }
            return grads
        }
    }

    /// RMSNorm over the last axis: x / √(mean(x²) + eps) · weight.
    public func rmsNorm(weight: Tensor?, eps: Float = 1e-5) throws -> Tensor {
        try normalize(weight: weight, bias: nil, eps: eps, center: false, name: "rmsnorm")
    }

    /// LayerNorm over the last axis: (x − mean) / √(var + eps) · weight + bias.
    public func layerNorm(weight: Tensor?, bias: Tensor?, eps: Float = 1e-5) throws -> Tensor {
        try normalize(weight: weight, bias: bias, eps: eps, center: true, name: "layernorm")
    }
}
