import Foundation

/// An n-dimensional array of Float32: a shape and strides over shared storage.
/// Views (reshape, transpose, slice, expand) share storage; kernels that need
/// contiguous memory copy only when a view is not already laid out row-major.
public final class Tensor {
    public let shape: [Int]
    public let strides: [Int]
    /// Offset of the first element in `storage`, in elements.
    public let offset: Int
    public let storage: Storage

    /// Gradient accumulated by `backward()` for a leaf that requires it.
    public var grad: Tensor? { didSet { ownsGrad = false } }
    /// Whether `grad` is a contiguous buffer of this tensor's own, which kernels may add into in place.
    var ownsGrad = false
    /// The operation that produced this tensor, when gradients flow through it.
    var node: Node?
    private var leafRequiresGrad = false

    init(storage: Storage, shape: [Int], strides: [Int], offset: Int = 0) {
        self.storage = storage
        self.shape = shape
        self.strides = strides
        self.offset = offset
    }

    /// A fresh contiguous tensor over new storage.
    convenience init(storage: Storage, shape: [Int]) {
        self.init(storage: storage, shape: shape, strides: Shape.contiguousStrides(shape))
    }

    /// Uninitialised contiguous tensor; every kernel that uses it writes all elements.
    static func empty(_ shape: [Int], op: String = "tensor") throws -> Tensor {
        Tensor(storage: try Storage(uninitializedCount: try Shape.count(shape, op: op)), shape: shape)
    }

    public var rank: Int { shape.count }
    /// Number of elements.
    public var count: Int { Shape.product(shape) }

    /// Whether gradients are tracked for this tensor (a leaf that asked for them, or the result of one).
    public var requiresGrad: Bool {
        get { leafRequiresGrad || node != nil }
        set { leafRequiresGrad = newValue }
    }

    /// Whether the elements are laid out row-major with no gaps.
    public var isContiguous: Bool {
        var expected = 1
        for i in stride(from: rank - 1, through: 0, by: -1) where shape[i] != 1 {
            if strides[i] != expected { return false }
            expected *= shape[i]
        }
        return true
    }

    /// Pointer to the first element.
    @inline(__always) var pointer: UnsafeMutablePointer<Float> { storage.base + offset }

    /// Pointer to the first element, for kernels in other modules; valid while the tensor lives.
    @inline(__always) public var unsafePointer: UnsafeMutablePointer<Float> { storage.base + offset }

    /// The same elements, detached from the graph.
    public func detached() -> Tensor { Tensor(storage: storage, shape: shape, strides: strides, offset: offset) }

    /// The elements in row-major order.
    public var scalars: [Float] {
        if isContiguous { return Array(UnsafeBufferPointer(start: pointer, count: count)) }
        if count == 0 { return [] }  // an empty axis: no rows to walk (rows2 would divide by it)
        // A view is gathered straight into the array: no temporary tensor that could fail to allocate.
        let shape = shape, strides = strides, src = pointer, n = shape.last ?? 1, step = strides.last ?? 1
        let rows = Strided.rowCount(shape)
        return [Float](unsafeUninitializedCapacity: count) { out, filled in
            guard let dst = out.baseAddress else { filled = 0; return }
            Strided.rows2(shape, strides, strides, rows: 0..<rows) { row, offset, _ in
                let s = src + offset, d = dst + row &* n
                for i in 0..<n { d[i] = s[i &* step] }
            }
            filled = count
        }
    }

    /// The single value of a one-element tensor.
    public func item() throws -> Float {
        guard count == 1 else { throw TensorError.invalidShape(op: "item", "tensor of shape \(shape.shapeText) has \(count) elements, not 1") }
        return pointer.pointee
    }

    /// The element at `indices` (negative indices count from the end).
    public func element(_ indices: [Int]) throws -> Float { storage.base[try storageIndex(indices)] }

    /// Writes one element in place (not recorded for autograd).
    public func setElement(_ indices: [Int], _ value: Float) throws {
        storage.base[try storageIndex(indices)] = value
        storage.markWritten()
    }

    /// Where the element at `indices` lives in storage, checking every index.
    private func storageIndex(_ indices: [Int]) throws -> Int {
        guard indices.count == rank else {
            throw TensorError.invalidArgument(op: "index", "\(indices.count) indices for a tensor of rank \(rank)")
        }
        var at = offset
        for (axis, i) in indices.enumerated() {
            let j = i < 0 ? i + shape[axis] : i
            guard j >= 0, j < shape[axis] else { throw TensorError.indexOutOfRange(op: "index", index: i, size: shape[axis]) }
            at += j * strides[axis]
        }
        return at
    }

    /// Clears the accumulated gradient.
    public func zeroGrad() { grad = nil }
}

extension Tensor: CustomStringConvertible {
    public var description: String { TensorFormatter.format(self) }
}

/// Prints tensors the way NumPy users expect: nested brackets, aligned, elided when large.
enum TensorFormatter {
    static let edgeItems = 3
    static let threshold = 1000

    static func format(_ t: Tensor) -> String {
        let values = t.scalars
        if t.rank == 0 { return number(values.first ?? 0) }
        let elide = t.count > threshold
        let body = render(values, shape: t.shape, strides: Shape.contiguousStrides(t.shape), base: 0, depth: 0, elide: elide)
        return "tensor(" + body + ", shape: \(t.shape.shapeText))"
    }

    static func number(_ x: Float) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x > 0 ? "inf" : "-inf" }
        if x == x.rounded(), abs(x) < 1e7 { return String(Int(x)) }
        let a = abs(x)
        if a >= 1e-4, a < 1e6 {
            var s = String(format: "%.4f", x)
            while s.hasSuffix("0") { s.removeLast() }
            return s
        }
        return String(format: "%.4e", x)
    }

    static func render(_ v: [Float], shape: [Int], strides: [Int], base: Int, depth: Int, elide: Bool) -> String {
        let n = shape[depth]
        var indices = Array(0..<n)
        var gap = -1
        if elide, n > 2 * edgeItems {
            indices = Array(0..<edgeItems) + Array((n - edgeItems)..<n)
            gap = edgeItems
        }
        var parts: [String] = []
        for (k, i) in indices.enumerated() {
            if k == gap { parts.append("...") }
            let at = base + i * strides[depth]
            if depth == shape.count - 1 {
                parts.append(number(v[at]))
            } else {
                parts.append(render(v, shape: shape, strides: strides, base: at, depth: depth + 1, elide: elide))
            }
        }
        let sep = depth == shape.count - 1 ? ", " : ",\n" + String(repeating: " ", count: depth + 8)
        return "[" + parts.joined(separator: sep) + "]"
    }
}
