/// SwiGLU's gate, fused: y = silu(a) · b = a·σ(a)·b, one pass instead of two.
///   da = g · b · σ(a)·(1 + a·(1 − σ(a))),   db = g · silu(a)
enum SwiGLUKernels {
    static func forward(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ r: Range<Int>) {
        for i in r { y[i] = a[i] / (1 + FastMath.exp(-a[i])) * b[i] }
    }

    static func backward(_ g: UnsafePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                         _ da: UnsafeMutablePointer<Float>, _ db: UnsafeMutablePointer<Float>, _ r: Range<Int>) {
        for i in r {
            let s = 1 / (1 + FastMath.exp(-a[i]))
            da[i] = g[i] * b[i] * s * (1 + a[i] * (1 - s))
            db[i] = g[i] * a[i] * s
        }
    }
}

extension Tensor {
    /// silu(self) · other for tensors of one shape (the SwiGLU MLP's gate times its up projection).
    public func swiglu(_ other: Tensor) throws -> Tensor {
        guard shape == other.shape else { throw TensorError.shapeMismatch(op: "swiglu", shape.shapeText, other.shape.shapeText) }
        let a = try contiguousNoGrad(), b = try other.contiguousNoGrad()
        let out = try Tensor.empty(shape, op: "swiglu")
        let pa = a.pointer, pb = b.pointer, py = out.pointer
        parallelRanges(count, grain: elementwiseGrain) { r in SwiGLUKernels.forward(pa, pb, py, r) }
        return out.recorded("swiglu", [self, other]) { g, _ in
            let gc = try g.contiguousNoGrad()
            let da = try Tensor.empty(a.shape, op: "swiglu"), db = try Tensor.empty(a.shape, op: "swiglu")
            // a and b are captured (not only their pointers): either may be a copy only this closure holds.
            let pg = gc.pointer, pa = a.pointer, pb = b.pointer, pda = da.pointer, pdb = db.pointer
            parallelRanges(a.count, grain: elementwiseGrain) { r in SwiGLUKernels.backward(pg, pa, pb, pda, pdb, r) }
            return [da, db]
        }
    }
}
