/// Views share storage with their base; their backward maps the gradient back
/// to the base's shape.
extension Tensor {
    /// A row-major copy (or self when already contiguous), outside autograd.
    func contiguousNoGrad() throws -> Tensor {
        if isContiguous { return self }
        let out = try Tensor.empty(shape, op: "contiguous")
        Strided.copy(from: self, into: out)
        return out
    }

    /// A row-major tensor with the same elements: self when already contiguous.
    public func contiguous() throws -> Tensor {
        if isContiguous { return self }
        return try contiguousNoGrad().recorded("contiguous", [self]) { g, _ in [g] }
    }

    /// A fresh copy of the elements that shares nothing with self.
    public func copy() throws -> Tensor {
        let out = try Tensor.empty(shape, op: "copy")
        Strided.copy(from: self, into: out)
        return out.recorded("copy", [self]) { g, _ in [g] }
    }

    /// The same elements in a new shape; one dimension may be -1. A view when possible.
    public func reshape(_ newShape: [Int]) throws -> Tensor {
        var target = newShape
        let unknown = newShape.indices.filter { newShape[$0] == -1 }
        guard unknown.count <= 1 else { throw TensorError.invalidShape(op: "reshape", "only one dimension can be -1 in \(newShape.shapeText)") }
        if let u = unknown.first {
            let known = newShape.enumerated().filter { $0.offset != u }.reduce(1) { $0 * $1.element }
            guard known > 0, count % known == 0 else {
                throw TensorError.shapeMismatch(op: "reshape", shape.shapeText, newShape.shapeText)
            }
            target[u] = count / known
        }
        guard try Shape.count(target, op: "reshape") == count else {
            throw TensorError.shapeMismatch(op: "reshape", shape.shapeText, newShape.shapeText)
        }
        if target == shape { return self }
        let base = try contiguousNoGrad()
        let out = Tensor(storage: base.storage, shape: target, strides: Shape.contiguousStrides(target), offset: base.offset)
        let original = shape
        return out.recorded("reshape", [self]) { g, _ in [try g.reshape(original)] }
    }

    /// All elements in one dimension.
    public func flatten() throws -> Tensor { try reshape([count]) }

    /// Reorders the axes: result axis i is input axis `axes[i]`.
    public func permute(_ axes: [Int]) throws -> Tensor {
        guard axes.count == rank else {
            throw TensorError.invalidArgument(op: "permute", "\(axes.count) axes for a tensor of rank \(rank)")
        }
        let resolved = try axes.map { try Shape.axis($0, rank: rank, op: "permute") }
        guard Set(resolved).count == rank else { throw TensorError.invalidArgument(op: "permute", "axes \(axes) repeat an axis") }
        let out = Tensor(storage: storage, shape: resolved.map { shape[$0] }, strides: resolved.map { strides[$0] }, offset: offset)
        var inverse = [Int](repeating: 0, count: rank)
        for (i, a) in resolved.enumerated() { inverse[a] = i }
        return out.recorded("permute", [self]) { g, _ in [try g.permute(inverse)] }
    }

    /// Swaps two axes (a view).
    public func transpose(_ a: Int = -2, _ b: Int = -1) throws -> Tensor {
        guard rank >= 2 else { throw TensorError.invalidShape(op: "transpose", "needs at least 2 dimensions, got \(shape.shapeText)") }
        let x = try Shape.axis(a, rank: rank, op: "transpose"), y = try Shape.axis(b, rank: rank, op: "transpose")
        var axes = Array(0..<rank)
        axes.swapAt(x, y)
        return try permute(axes)
    }

    /// Elements `start..<end` by `step` along `axis`, Python-style: negative
    /// indices count from the end, bounds are clamped. A view.
    public func slice(axis: Int = 0, start: Int? = nil, end: Int? = nil, step: Int = 1) throws -> Tensor {
        let a = try Shape.axis(axis, rank: rank, op: "slice")
        guard step > 0 else { throw TensorError.invalidArgument(op: "slice", "step must be positive, got \(step)") }
        let n = shape[a]
        func clamp(_ i: Int?, _ fallback: Int) -> Int {
            guard var i else { return fallback }
            if i < 0 { i += n }
            return Swift.min(Swift.max(i, 0), n)
        }
        let lo = clamp(start, 0), hi = Swift.max(clamp(end, n), lo)
        var newShape = shape, newStrides = strides
        newShape[a] = (hi - lo + step - 1) / step
        newStrides[a] = strides[a] * step
        let out = Tensor(storage: storage, shape: newShape, strides: newStrides, offset: offset + lo * strides[a])
        let inputShape = shape
        return out.recorded("slice", [self]) { g, _ in
            let full = try Tensor.zeros(inputShape)
            let region = Tensor(storage: full.storage, shape: newShape,
                                strides: Shape.contiguousStrides(inputShape).enumerated().map { $0.offset == a ? $0.element * step : $0.element },
                                offset: lo * Shape.contiguousStrides(inputShape)[a])
            Strided.copy(from: g, into: region)
            return [full]
        }
    }

    /// The sub-tensor at `index` along `axis`, with that axis removed (negative index from the end).
    public func select(axis: Int = 0, _ index: Int) throws -> Tensor {
        let a = try Shape.axis(axis, rank: rank, op: "select")
        let i = index < 0 ? index + shape[a] : index
        guard i >= 0, i < shape[a] else { throw TensorError.indexOutOfRange(op: "select", index: index, size: shape[a]) }
        var s = shape
        s.remove(at: a)
        return try slice(axis: a, start: i, end: i + 1).reshapeView(s)
    }

    /// Reshape that keeps the strides of the other axes (drops or adds size-1 axes).
    private func reshapeView(_ target: [Int]) throws -> Tensor { try reshape(target) }

    /// Adds a size-1 axis at `axis`.
    public func unsqueeze(_ axis: Int) throws -> Tensor {
        let a = try Shape.axis(axis, rank: rank + 1, op: "unsqueeze")
        var s = shape
        s.insert(1, at: a)
        return try reshape(s)
    }

    /// Removes size-1 axes (all of them, or only `axis`).
    public func squeeze(_ axis: Int? = nil) throws -> Tensor {
        if let axis {
            let a = try Shape.axis(axis, rank: rank, op: "squeeze")
            guard shape[a] == 1 else { throw TensorError.invalidShape(op: "squeeze", "axis \(axis) has size \(shape[a]), not 1") }
            var s = shape
            s.remove(at: a)
            return try reshape(s)
        }
        return try reshape(shape.filter { $0 != 1 })
    }

    /// A broadcast view of this tensor in a larger shape (stride 0 on repeated axes).
    public func expand(_ target: [Int]) throws -> Tensor {
        guard target.count >= rank, try Shape.broadcast(shape, target, op: "expand") == target else {
            throw TensorError.shapeMismatch(op: "expand", shape.shapeText, target.shapeText)
        }
        if target == shape { return self }
        let out = Tensor(storage: storage, shape: target, strides: Strided.broadcastStrides(self, to: target), offset: offset)
        let original = shape
        return out.recorded("expand", [self]) { g, _ in [try g.sumToShape(original)] }
    }

    /// Sums a broadcast gradient back down to `target` (the inverse of broadcasting).
    func sumToShape(_ target: [Int]) throws -> Tensor {
        if shape == target { return self }
        let pad = rank - target.count
        var axes = Array(0..<pad)
        for i in 0..<target.count where target[i] == 1 && shape[i + pad] != 1 { axes.append(i + pad) }
        let summed = axes.isEmpty ? self : try sum(axes: axes, keepdims: true)
        return try summed.reshape(target)
    }
}

extension Tensor {
    /// Overwrites every element with `value`, in place (not recorded for autograd).
    public func fill(_ value: Float) throws {
        let source = try Tensor.full([], value).expand(shape)
        Strided.copy(from: source, into: self)
        storage.markWritten()
    }

    /// Overwrites the elements with `source` (broadcast to this shape), in place (not recorded).
    public func assign(_ source: Tensor) throws {
        let s = try GradMode.noGrad { try source.expand(shape) }
        Strided.copy(from: try s.contiguousNoGrad(), into: self)
        storage.markWritten()
    }
}
