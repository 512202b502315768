/// Reductions along axes. Each works on one axis of a contiguous tensor seen
/// as [outer, n, inner]; several axes are reduced one after another.
enum Reduce {
    /// The [outer, n, inner] view of `shape` around `axis`.
    static func split(_ shape: [Int], _ axis: Int) -> (outer: Int, n: Int, inner: Int) {
        (Shape.product(Array(shape[..<axis])), shape[axis], Shape.product(Array(shape[(axis + 1)...])))
    }

    /// Sum over one axis (keepdims shape). Rows are summed in float blocks of
    /// 256 and the block sums in double, so long rows keep their precision.
    static func sum(_ x: Tensor, axis: Int) throws -> Tensor {
        let c = try x.contiguousNoGrad()
        let (outer, n, inner) = split(x.shape, axis)
        var shape = x.shape
        shape[axis] = 1
        let out = try Tensor.empty(shape, op: "sum")
        let src = c.pointer, dst = out.pointer
        if inner == 1 && outer == 1 && n >= 2 * elementwiseGrain {
            // One long row: split it across threads.
            let threads = Threads.count
            let chunk = (n + threads - 1) / threads
            let partial = UnsafeMutablePointer<Double>.allocate(capacity: threads)
            defer { partial.deallocate() }
            parallelRanges(threads, grain: 1) { ts in
                for t in ts {
                    let lo = t * chunk, hi = Swift.min(n, lo + chunk)
                    partial[t] = lo < hi ? Double(sumRow(src + lo, hi - lo)) : 0
                }
            }
            var total = 0.0
            for t in 0..<threads { total += partial[t] }
            dst[0] = Float(total)
        } else if inner == 1 {
            parallelRanges(outer, grain: Swift.max(1, elementwiseGrain / Swift.max(n, 1))) { rows in
                for o in rows { dst[o] = sumRow(src + o &* n, n) }
            }
        } else {
            parallelRanges(outer, grain: 1) { rows in
                for o in rows {
                    let d = dst + o &* inner
                    d.update(repeating: 0, count: inner)
                    for j in 0..<n {
                        let s = src + (o &* n &+ j) &* inner
                        for i in 0..<inner { d[i] += s[i] }
                    }
                }
            }
        }
        return out
    }

    @inline(__always) static func sumRow(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
        var total = 0.0
        var start = 0
        while start < n {
            let end = Swift.min(n, start + 256)
            var block: Float = 0
            for i in start..<end { block += p[i] }
            total += Double(block)
            start = end
        }
        return Float(total)
    }

    /// Max (or min) over one axis: values and the index of the first extreme.
    static func extreme(_ x: Tensor, axis: Int, max: Bool, op: String) throws -> (Tensor, Tensor) {
        let c = try x.contiguousNoGrad()
        let (outer, n, inner) = split(x.shape, axis)
        guard n > 0 else { throw TensorError.invalidShape(op: op, "cannot reduce an empty axis of shape \(x.shape.shapeText)") }
        var shape = x.shape
        shape[axis] = 1
        let values = try Tensor.empty(shape, op: op), indices = try Tensor.empty(shape, op: op)
        let src = c.pointer, pv = values.pointer, pi = indices.pointer
        if inner == 1 {
            // Rows (a decoding step's logits): vector passes, the same answer as the loop below.
            parallelRanges(outer, grain: Swift.max(1, 65536 / n)) { r in
                for o in r { (pv[o], pi[o]) = rowExtreme(src + o &* n, n, max: max) }
            }
            return (values, indices)
        }
        parallelRanges(outer * inner, grain: 4096) { r in
            for k in r {
                let o = k / inner, i = k % inner
                let base = src + (o &* n &* inner &+ i)
                var best = base[0], at = 0
                if !best.isNaN {
                    for j in 1..<n {
                        let v = base[j &* inner]
                        if v.isNaN { best = v; at = j; break }
                        if max ? v > best : v < best { best = v; at = j }
                    }
                }
                pv[k] = best
                pi[k] = Float(at)
            }
        }
        return (values, indices)
    }
}

extension Reduce {
    /// A contiguous row's maximum and sum with 16 independent lanes (softmax's and the head's
    /// cross-entropy's): a plain loop's single accumulator would not vectorise.
    @inline(__always) static func rowMax(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        // Compare-and-blend, which compiles to two vector instructions: pointwiseMax and SIMD16's max()
        // went lane by lane (Swift.max's NaN rules), 5% of a prefill. A NaN is skipped either way.
        var acc = SIMD16<Float>(repeating: -.infinity)
        var j = 0
        while j + 16 <= n {
            let v = UnsafeRawPointer(x + j).loadUnaligned(as: SIMD16<Float>.self)
            acc = acc.replacing(with: v, where: acc .< v)
            j += 16
        }
        let m8 = acc.lowHalf.replacing(with: acc.highHalf, where: acc.lowHalf .< acc.highHalf)
        let m4 = m8.lowHalf.replacing(with: m8.highHalf, where: m8.lowHalf .< m8.highHalf)
        var m = Swift.max(Swift.max(m4[0], m4[1]), Swift.max(m4[2], m4[3]))
        while j < n { m = Swift.max(m, x[j]); j += 1 }
        return m
    }

    @inline(__always) static func rowSum(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD16<Float>(repeating: 0)
        var j = 0
        while j + 16 <= n { acc += UnsafeRawPointer(x + j).loadUnaligned(as: SIMD16<Float>.self); j += 16 }
        var total = acc.sum()
        while j < n { total += x[j]; j += 1 }
        return total
    }

    /// The first NaN of a contiguous row if it has one, else its largest (smallest) value and the
    /// first index holding it: what a scan keeping strictly better values finds, in two vector passes.
    static func rowExtreme(_ p: UnsafePointer<Float>, _ n: Int, max: Bool) -> (Float, Float) {
        let lanes = 16
        var best = SIMD16<Float>(repeating: p[0])
        var nan = SIMDMask<SIMD16<Int32>>()
        var j = 0
        while j + lanes <= n {
            let v = UnsafeRawPointer(p + j).loadUnaligned(as: SIMD16<Float>.self)
            nan .|= v .!= v
            best = max ? best.replacing(with: v, where: v .> best) : best.replacing(with: v, where: v .< best)
            j += lanes
        }
        var m = max ? best.max() : best.min()
        while j < n {
            if p[j].isNaN { nan[0] = true }
            if max ? p[j] > m : p[j] < m { m = p[j] }
            j += 1
        }
        if any(nan) || m.isNaN {
            for k in 0..<n where p[k].isNaN { return (p[k], Float(k)) }
        }
        for k in 0..<n where p[k] == m { return (p[k], Float(k)) }
        return (m, 0)
    }
}

extension Tensor {
    /// Resolves reduction axes: nil means all of them.
    private func reductionAxes(_ axes: [Int]?, op: String) throws -> [Int] {
        guard let axes else { return Array(0..<rank) }
        let resolved = try axes.map { try Shape.axis($0, rank: rank, op: op) }
        guard Set(resolved).count == resolved.count else { throw TensorError.invalidArgument(op: op, "axes \(axes) repeat an axis") }
        return resolved.sorted()
    }

    private func droppingAxes(_ axes: [Int]) -> [Int] {
        shape.enumerated().filter { !axes.contains($0.offset) }.map { $0.element }
    }

    /// Sum over `axes` (all when nil); keepdims keeps them as size 1.
    public func sum(axes: [Int]? = nil, keepdims: Bool = false) throws -> Tensor {
        let resolved = try reductionAxes(axes, op: "sum")
        var out = detached()
        for a in resolved.reversed() { out = try Reduce.sum(out, axis: a) }
        if !keepdims { out = try out.reshape(droppingAxes(resolved)) }
        let original = shape
        var kept = shape
        for a in resolved { kept[a] = 1 }
        return out.recorded("sum", [self]) { [kept] g, _ in [try g.reshape(kept).expand(original)] }
    }

    /// Sum along one axis.
    public func sum(axis: Int, keepdims: Bool = false) throws -> Tensor { try sum(axes: [axis], keepdims: keepdims) }

    /// Mean over `axes` (all when nil).
    public func mean(axes: [Int]? = nil, keepdims: Bool = false) throws -> Tensor {
        let resolved = try reductionAxes(axes, op: "mean")
        let n = resolved.reduce(1) { $0 * shape[$1] }
        return try sum(axes: resolved, keepdims: keepdims).multiplying(.scalar(1 / Float(Swift.max(n, 1))))
    }

    /// Mean along one axis.
    public func mean(axis: Int, keepdims: Bool = false) throws -> Tensor { try mean(axes: [axis], keepdims: keepdims) }

    /// Variance over `axes`: Σ(x − mean)² / (n − correction); correction 1 (the default) is the unbiased estimate, as in PyTorch.
    public func variance(axes: [Int]? = nil, correction: Int = 1, keepdims: Bool = false) throws -> Tensor {
        let resolved = try reductionAxes(axes, op: "var")
        let n = resolved.reduce(1) { $0 * shape[$1] }
        guard n - correction > 0 else {
            throw TensorError.invalidArgument(op: "var", "\(n) elements are too few for correction \(correction)")
        }
        let centered = try subtracting(mean(axes: resolved, keepdims: true))
        return try centered.multiplying(centered).sum(axes: resolved, keepdims: keepdims).multiplying(.scalar(1 / Float(n - correction)))
    }

    private func extreme(axis: Int?, keepdims: Bool, max: Bool) throws -> Tensor {
        let op = max ? "max" : "min"
        let source = axis == nil ? try reshape([count]) : self
        let a = try Shape.axis(axis ?? 0, rank: source.rank, op: op)
        let (values, indices) = try Reduce.extreme(source, axis: a, max: max, op: op)
        var shape = source.shape
        if !keepdims { shape.remove(at: a) }
        let out = try values.reshape(axis == nil ? (keepdims ? [Int](repeating: 1, count: rank) : []) : shape)
        let inputShape = self.shape, sourceShape = source.shape
        return out.recorded(op, [self]) { g, _ in
            // The gradient flows to the first position that held the extreme.
            let grad = try Tensor.zeros(sourceShape)
            let gk = try g.contiguousNoGrad()
            let (outer, n, inner) = Reduce.split(sourceShape, a)
            for k in 0..<(outer * inner) {
                let o = k / inner, i = k % inner
                grad.pointer[(o * n + Int(indices.pointer[k])) * inner + i] = gk.pointer[k]
            }
            return [try grad.reshape(inputShape)]
        }
    }

    /// Largest element over `axis` (all elements when nil).
    public func max(axis: Int? = nil, keepdims: Bool = false) throws -> Tensor { try extreme(axis: axis, keepdims: keepdims, max: true) }
    /// Smallest element over `axis` (all elements when nil).
    public func min(axis: Int? = nil, keepdims: Bool = false) throws -> Tensor { try extreme(axis: axis, keepdims: keepdims, max: false) }

    /// Index of the first largest element along `axis` (of the flattened tensor when nil), as floats.
    public func argmax(axis: Int? = nil, keepdims: Bool = false) throws -> Tensor {
        let source = axis == nil ? try detached().reshape([count]) : detached()
        let a = try Shape.axis(axis ?? 0, rank: source.rank, op: "argmax")
        let (_, indices) = try Reduce.extreme(source, axis: a, max: true, op: "argmax")
        var shape = source.shape
        if !keepdims { shape.remove(at: a) }
        return try indices.reshape(axis == nil ? (keepdims ? [Int](repeating: 1, count: rank) : []) : shape)
    }
}
