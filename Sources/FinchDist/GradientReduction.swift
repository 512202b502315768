import FinchTensor

extension World {
    /// Floats packed into one all-reduce when tensors are small (16 MB): one call per bucket
    /// instead of one per norm weight, while a large matrix goes in place in its own calls.
    static let bucketFloats = 4 << 20

    /// Sums the gradients of `params` over every rank, in place: each rank's are those of its
    /// share of the global batch, already divided by the global step's trained tokens, so the sum
    /// is the gradient one process would have taken over the whole batch.
    /// A parameter without a gradient takes part as zeros, so every rank sends the same buffers.
    public func sumGradients(_ params: [Tensor]) throws {
        guard isDistributed else { return }
        var grads: [Tensor] = []
        for p in params {
            if p.grad == nil || !p.grad!.isContiguous { p.grad = try (p.grad?.contiguous() ?? Tensor.zeros(p.shape)) }
            grads.append(p.grad!)
        }
        let staging = bucket
        var pending: [Tensor] = [], packed = 0
        func flush() {
            guard !pending.isEmpty else { return }
            var at = 0
            for g in pending { (staging + at).update(from: g.unsafePointer, count: g.count); at += g.count }
            sum(staging, count: at)
            at = 0
            for g in pending { g.unsafePointer.update(from: staging + at, count: g.count); g.storage.markWritten(); at += g.count }
            pending.removeAll()
            packed = 0
        }
        for g in grads {
            if g.count >= Self.bucketFloats / 4 {
                sum(g.unsafePointer, count: g.count)
                g.storage.markWritten()
                continue
            }
            if packed + g.count > Self.bucketFloats { flush() }
            pending.append(g)
            packed += g.count
        }
        flush()
    }
}
