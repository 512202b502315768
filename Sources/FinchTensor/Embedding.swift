/// Embedding lookup: out[..., :] = weight[ids[...], :].
/// Backward scatters: dweight[ids[p], :] += g[p, :].
extension Tensor {
    /// Rows of this table ([V, D]) picked by `ids` (any shape, integer-valued floats): shape ids.shape + [D].
    public func embedding(_ ids: Tensor) throws -> Tensor {
        guard rank == 2 else { throw TensorError.invalidShape(op: "embedding", "the table must be 2-D, got \(shape.shapeText)") }
        let v = shape[0], d = shape[1]
        let idc = try ids.contiguousNoGrad()
        let positions = ids.count
        var rows = [Int](repeating: 0, count: positions)
        for p in 0..<positions {
            let f = idc.pointer[p]
            guard let i = Int(exactly: f) else {
                throw TensorError.invalidArgument(op: "embedding", "id \(f) at position \(p) is not an integer")
            }
            guard i >= 0, i < v else { throw TensorError.indexOutOfRange(op: "embedding", index: i, size: v) }
            rows[p] = i
        }
        let table = try contiguousNoGrad()
        let out = try Tensor.empty(ids.shape + [d], op: "embedding")
        let src = table.pointer, dst = out.pointer
        rows.withUnsafeBufferPointer { r in
            parallelRanges(positions, grain: Swift.max(1, elementwiseGrain / Swift.max(d, 1))) { range in
                for p in range { (dst + p &* d).update(from: src + r[p] &* d, count: d) }
            }
        }
        let tableShape = shape, table0 = self
        return out.recorded("embedding", [self]) { g, _ in
            // dW[row] += dy[p] for each position: scattered straight into the table's gradient
            // when it is a leaf, instead of a table-sized tensor of zeros added afterwards.
            let gc = try g.contiguousNoGrad()
            func scatter(_ dw: UnsafeMutablePointer<Float>) {
                for p in 0..<positions {
                    let from = gc.pointer + p * d, to = dw + rows[p] * d
                    for j in 0..<d { to[j] += from[j] }
                }
            }
            if table0.isGradLeaf {
                try table0.accumulateGrad { dw, fresh in
                    if fresh { dw.update(repeating: 0, count: tableShape[0] * d) }
                    scatter(dw)
                }
                return [nil]
            }
            let dw = try Tensor.zeros(tableShape)
            scatter(dw.pointer)
            return [dw]
        }
    }
}
