extension Tensor {
    /// A linear layer whose weight is frozen in a block format (LoRA over a quantized base, QLoRA's
    /// idea): y = x Wᵀ for x [..., in], W [out, in] kept as Q8_0 or Q4_1 blocks.
    ///   forward:  W widened into scratch, y = x · Wᵀ       one GEMM over all rows (or one GEMV for one row)
    ///   backward: dx = dy · W, W widened again            no dW: the weight does not train
    /// Between products only the blocks stay in memory: the forward pass keeps x (no copy), not the
    /// widened W. The products are the float32 layer's on the widened weights, in the precision
    /// `MatmulPrecision` sets, so the result has the same bits as `linear` with W = `w.widened()`.
    public func linear(frozen w: QuantizedMatrix) throws -> Tensor {
        guard rank >= 1, shape[rank - 1] == w.cols else {
            throw TensorError.shapeMismatch(op: "linear", shape.shapeText, w.shape.shapeText)
        }
        let (inF, outF) = (w.cols, w.rows), rows = count / Swift.max(inF, 1)
        let x = try contiguousNoGrad()
        let out = try Tensor.empty(Array(shape.dropLast()) + [outF], op: "linear")
        try w.withWidened { wp in
            // The dense layer's own choice: one row through GEMV, which reads W once without packing it.
            if rows == 1 {
                RawGemm.rowTimes(transB: true, n: outF, k: inF, x.pointer, incX: 1, wp, ldb: inF, out.pointer)
            } else {
                RawGemm.run(transB: true, m: rows, n: outF, k: inF, x.pointer, lda: inF, wp, ldb: inF, out.pointer, ldc: outF)
            }
        }
        let xShape = shape
        return out.recorded("linear", [self]) { g, needs in
            guard needs[0] else { return [nil] }
            let gc = try g.contiguousNoGrad()
            let dx = try Tensor.empty(xShape, op: "linear")
            try w.withWidened { wp in
                if rows == 1 {
                    RawGemm.rowTimes(transB: false, n: inF, k: outF, gc.pointer, incX: 1, wp, ldb: inF, dx.pointer)
                } else {
                    RawGemm.run(m: rows, n: inF, k: outF, gc.pointer, lda: outF, wp, ldb: inF, dx.pointer, ldc: inF)
                }
            }
            return [dx]
        }
    }
}
