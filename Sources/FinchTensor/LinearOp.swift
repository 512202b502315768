extension Tensor {
    /// A linear layer as one coarse op: y = x Wᵀ + b for x [..., in], W [out, in], b [out].
    ///   forward:  y  = x · Wᵀ (+ b)                 one GEMM over all rows
    ///   backward: dx = dy · W
    ///             dW += dyᵀ · x,  db += Σ_rows dy    written straight into the leaves' gradients
    /// The saved state is x itself (no copy), kept only when W takes a gradient; W's gradient never
    /// exists as a separate tensor.
    public func linear(_ weight: Tensor, bias: Tensor? = nil) throws -> Tensor {
        guard rank >= 1, weight.rank == 2, shape[rank - 1] == weight.shape[1] else {
            throw TensorError.shapeMismatch(op: "linear", shape.shapeText, weight.shape.shapeText)
        }
        let inF = weight.shape[1], outF = weight.shape[0]
        if let bias, bias.shape != [outF] { throw TensorError.shapeMismatch(op: "linear bias", bias.shape.shapeText, "[\(outF)]") }
        let rows = count / Swift.max(inF, 1)
        // One row (a decoding step) goes through matmul's GEMV path, which reads W once without packing it.
        if rows == 1 || !weight.isContiguous {
            var y = try matmul(weight.transpose())
            if let bias { y = try y.adding(bias) }
            return y
        }
        let x = try contiguousNoGrad(), w = weight
        let out = try Tensor.empty(Array(shape.dropLast()) + [outF], op: "linear")
        RawGemm.run(transB: true, m: rows, n: outF, k: inF, x.pointer, lda: inF, w.pointer, ldb: inF, out.pointer, ldc: outF)
        var inputs = [self, weight]
        if let bias {
            let b = try bias.contiguousNoGrad(), po = out.pointer, pb = b.pointer
            parallelRanges(rows, grain: Swift.max(1, elementwiseGrain / Swift.max(outF, 1))) { r in
                for i in r { let row = po + i &* outF; for j in 0..<outF { row[j] += pb[j] } }
            }
            inputs.append(bias)
        }
        let xShape = shape
        // x is kept only for W's gradient: a frozen weight's layer (LoRA's base) lets it go, which
        // frees the input of every un-adapted projection (the MLP's widest activation among them).
        let saved: Tensor? = weight.requiresGrad ? x : nil
        let hasBias = bias != nil
        return out.recorded("linear", inputs) { g, needs in
            let gc = try g.contiguousNoGrad()
            var dx: Tensor?
            if needs[0] {
                let d = try Tensor.empty(xShape, op: "linear")
                RawGemm.run(m: rows, n: inF, k: outF, gc.pointer, lda: outF, w.pointer, ldb: inF, d.pointer, ldc: inF)
                dx = d
            }
            var dw: Tensor?
            if needs[1], let x = saved {
                if w.isGradLeaf {
                    try w.accumulateGrad { dst, fresh in
                        RawGemm.run(transA: true, m: outF, n: inF, k: rows, gc.pointer, lda: outF, x.pointer, ldb: inF,
                                    beta: fresh ? 0 : 1, dst, ldc: inF)
                    }
                } else {
                    let d = try Tensor.empty([outF, inF], op: "linear")
                    RawGemm.run(transA: true, m: outF, n: inF, k: rows, gc.pointer, lda: outF, x.pointer, ldb: inF, d.pointer, ldc: inF)
                    dw = d
                }
            }
            var db: Tensor?
            if hasBias, needs[2] {
                let d = try Tensor.zeros([outF])
                let pd = d.pointer, pg = gc.pointer
                for i in 0..<rows { let row = pg + i &* outF; for j in 0..<outF { pd[j] += row[j] } }
                db = d
            }
            return hasBias ? [dx, dw, db] : [dx, dw]
        }
    }
}
