@preconcurrency import COpenBLAS

extension Tensor {
    /// Whether gradients reaching this tensor stop here: a leaf that asked for them.
    var isGradLeaf: Bool { requiresGrad && node == nil }

    /// Adds into this leaf's gradient in place. `body` gets the gradient's contiguous buffer and
    /// whether it is fresh (uninitialised: write, don't add). Kernels that produce a parameter's
    /// gradient (linear, embedding, the fused head) write straight into it, so a step allocates
    /// no parameter-sized temporaries and accumulation over micro-batches costs nothing extra.
    func accumulateGrad(_ body: (UnsafeMutablePointer<Float>, _ fresh: Bool) throws -> Void) throws {
        if let g = grad, ownsGrad {
            try body(g.pointer, false)
        } else if let g = grad {
            // A gradient this tensor does not own (set from outside, or one tensor handed to two
            // inputs by a backward): adding in place would change the other holder's values.
            let own = try Tensor.empty(shape, op: "grad")
            Strided.copy(from: g, into: own)
            grad = own
            ownsGrad = true
            try body(own.pointer, false)
        } else {
            let own = try Tensor.empty(shape, op: "grad")
            grad = own
            ownsGrad = true
            try body(own.pointer, true)
        }
    }

    /// grad += scale · g, for a contiguous g of this shape.
    func accumulateGrad(_ g: Tensor, scale: Float = 1) throws {
        let gc = try g.contiguousNoGrad()
        let n = count
        try accumulateGrad { dst, fresh in
            let src = gc.pointer
            if fresh {
                if scale == 1 { dst.update(from: src, count: n) } else { for i in 0..<n { dst[i] = scale * src[i] } }
            } else {
                parallelRanges(n, grain: elementwiseGrain) { r in
                    cblas_saxpy(Int32(r.count), scale, src + r.lowerBound, 1, dst + r.lowerBound, 1)
                }
            }
        }
    }

    /// Sets the accumulated gradient to zero, keeping its buffer for the next step (an optimiser's
    /// zero_grad); `zeroGrad()` drops it instead.
    public func zeroGradKeepingBuffer() {
        guard let g = grad, g.isContiguous else { grad = nil; return }
        g.pointer.update(repeating: 0, count: g.count)
    }
}

extension Tensor {
    /// Multiplies every element by `s` in place (a contiguous tensor; not recorded for autograd).
    public func scaleInPlace(_ s: Float) {
        precondition(isContiguous, "scaleInPlace needs a contiguous tensor")
        let p = pointer
        parallelRanges(count, grain: elementwiseGrain) { r in cblas_sscal(Int32(r.count), s, p + r.lowerBound, 1) }
        storage.markWritten()
    }
}
