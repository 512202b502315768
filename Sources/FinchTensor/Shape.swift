/// Shape arithmetic shared by every op: element counts, strides, axes, broadcasting.
enum Shape {
    /// Number of elements, or an error when the product overflows.
    static func count(_ shape: [Int], op: String) throws -> Int {
        var n = 1
        for d in shape {
            guard d >= 0 else { throw TensorError.invalidShape(op: op, "negative dimension in \(shape.shapeText)") }
            let (p, overflow) = n.multipliedReportingOverflow(by: d)
            guard !overflow else { throw TensorError.invalidShape(op: op, "shape \(shape.shapeText) has too many elements") }
            n = p
        }
        return n
    }

    /// Element count for a shape already known to be valid.
    @inline(__always) static func product(_ shape: [Int]) -> Int { shape.reduce(1, *) }

    /// Row-major strides.
    static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var s = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[i] = s
            s *= max(shape[i], 1)
        }
        return strides
    }

    /// Resolves a possibly negative axis against a rank.
    static func axis(_ axis: Int, rank: Int, op: String) throws -> Int {
        let a = axis < 0 ? axis + rank : axis
        guard a >= 0, a < rank else { throw TensorError.axisOutOfRange(op: op, axis: axis, rank: rank) }
        return a
    }

    /// The shape two shapes broadcast to (NumPy rules), or a mismatch naming the op.
    static func broadcast(_ a: [Int], _ b: [Int], op: String) throws -> [Int] {
        if a == b { return a }
        let rank = max(a.count, b.count)
        var out = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            if da == db || db == 1 { out[i] = da } else if da == 1 { out[i] = db } else {
                throw TensorError.shapeMismatch(op: op, a.shapeText, b.shapeText)
            }
        }
        return out
    }
}
