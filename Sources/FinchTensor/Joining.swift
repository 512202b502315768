/// Concatenation, stacking, splitting and gathering along an axis.
extension Tensor {
    /// Joins tensors along an existing axis; all other axes must match.
    public static func concat(_ tensors: [Tensor], axis: Int = 0) throws -> Tensor {
        guard let first = tensors.first else { throw TensorError.invalidArgument(op: "concat", "needs at least one tensor") }
        let a = try Shape.axis(axis, rank: first.rank, op: "concat")
        var shape = first.shape
        shape[a] = 0
        for t in tensors {
            guard t.rank == first.rank,
                  t.shape.enumerated().allSatisfy({ $0.offset == a || $0.element == first.shape[$0.offset] }) else {
                throw TensorError.shapeMismatch(op: "concat", first.shape.shapeText, t.shape.shapeText)
            }
            shape[a] += t.shape[a]
        }
        let out = try Tensor.empty(shape, op: "concat")
        var start = 0
        var starts: [Int] = []
        for t in tensors {
            starts.append(start)
            let region = try out.detached().slice(axis: a, start: start, end: start + t.shape[a])
            Strided.copy(from: t, into: region)
            start += t.shape[a]
        }
        let sizes = tensors.map { $0.shape[a] }
        return out.recorded("concat", tensors) { g, needs in
            try zip(starts, sizes).enumerated().map { i, region in
                needs[i] ? try g.slice(axis: a, start: region.0, end: region.0 + region.1) : nil
            }
        }
    }

    /// Joins equally shaped tensors along a new axis.
    public static func stack(_ tensors: [Tensor], axis: Int = 0) throws -> Tensor {
        guard let first = tensors.first else { throw TensorError.invalidArgument(op: "stack", "needs at least one tensor") }
        for t in tensors where t.shape != first.shape {
            throw TensorError.shapeMismatch(op: "stack", first.shape.shapeText, t.shape.shapeText)
        }
        let a = try Shape.axis(axis, rank: first.rank + 1, op: "stack")
        return try concat(tensors.map { try $0.unsqueeze(a) }, axis: a)
    }

    /// Cuts along `axis` into pieces of the given sizes (views).
    public func split(_ sizes: [Int], axis: Int = 0) throws -> [Tensor] {
        let a = try Shape.axis(axis, rank: rank, op: "split")
        guard sizes.allSatisfy({ $0 >= 0 }), sizes.reduce(0, +) == shape[a] else {
            throw TensorError.invalidArgument(op: "split", "sizes \(sizes) do not add up to \(shape[a]), the size of axis \(axis)")
        }
        var start = 0
        return try sizes.map { size in
            defer { start += size }
            return try slice(axis: a, start: start, end: start + size)
        }
    }

    /// Cuts along `axis` into `parts` equal pieces.
    public func chunk(_ parts: Int, axis: Int = 0) throws -> [Tensor] {
        let a = try Shape.axis(axis, rank: rank, op: "chunk")
        guard parts > 0, shape[a] % parts == 0 else {
            throw TensorError.invalidArgument(op: "chunk", "axis \(axis) of size \(shape[a]) does not divide into \(parts) parts")
        }
        return try split([Int](repeating: shape[a] / parts, count: parts), axis: a)
    }

    /// out[..., j, ...] = self[..., index[..., j, ...], ...] along `axis` (torch.gather):
    /// `index` has this tensor's rank and, off `axis`, no larger sizes.
    public func gather(axis: Int, _ index: Tensor) throws -> Tensor {
        let a = try Shape.axis(axis, rank: rank, op: "gather")
        guard index.rank == rank, (0..<rank).allSatisfy({ $0 == a || index.shape[$0] <= shape[$0] }) else {
            throw TensorError.shapeMismatch(op: "gather", shape.shapeText, index.shape.shapeText)
        }
        let idx = try index.contiguousNoGrad()
        let out = try Tensor.empty(index.shape, op: "gather")
        let outStrides = Shape.contiguousStrides(index.shape)
        let inputShape = shape
        let cs = Shape.contiguousStrides(inputShape)
        // Where each output element was read, as a row-major index into the input.
        var positions = [Int](repeating: 0, count: index.count)
        for p in 0..<index.count {
            var rest = p, at = offset, flat = 0
            for d in 0..<rank {
                let i = rest / outStrides[d]
                rest %= outStrides[d]
                if d == a {
                    let f = idx.pointer[p]
                    guard let j = Int(exactly: f), j >= -shape[a], j < shape[a] else {
                        throw TensorError.indexOutOfRange(op: "gather", index: Int(f.isFinite ? f : -1), size: shape[a])
                    }
                    let k = j < 0 ? j + shape[a] : j
                    at += k * strides[d]
                    flat += k * cs[d]
                } else {
                    at += i * strides[d]
                    flat += i * cs[d]
                }
            }
            positions[p] = flat
            out.pointer[p] = storage.base[at]
        }
        return out.recorded("gather", [self]) { g, _ in
            let gc = try g.contiguousNoGrad()
            let dx = try Tensor.zeros(inputShape)
            for p in 0..<positions.count { dx.pointer[positions[p]] += gc.pointer[p] }
            return [dx]
        }
    }
}
