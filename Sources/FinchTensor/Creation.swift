/// Ways to make tensors. Random ones draw from the given generator or, when
/// none is passed, from DefaultRNG (reseed it with DefaultRNG.manualSeed).
extension Tensor {
    /// A tensor of the given elements and shape.
    public convenience init(_ values: [Float], shape: [Int]) throws {
        let n = try Shape.count(shape, op: "tensor")
        guard n == values.count else {
            throw TensorError.invalidShape(op: "tensor", "\(values.count) values do not fill shape \(shape.shapeText)")
        }
        let storage = try Storage(uninitializedCount: n)
        values.withUnsafeBufferPointer { storage.base.update(from: $0.baseAddress!, count: n) }
        self.init(storage: storage, shape: shape)
    }

    /// A 1-D tensor.
    public convenience init(_ values: [Float]) {
        try! self.init(values, shape: [values.count])
    }

    /// A 2-D tensor from rows of equal length.
    public convenience init(_ rows: [[Float]]) throws {
        let width = rows.first?.count ?? 0
        for (i, r) in rows.enumerated() where r.count != width {
            throw TensorError.invalidShape(op: "tensor", "row \(i) has \(r.count) values, row 0 has \(width)")
        }
        try self.init(rows.flatMap { $0 }, shape: [rows.count, width])
    }

    /// A 0-dimensional tensor holding one value.
    public static func scalar(_ value: Float) -> Tensor { try! Tensor([value], shape: []) }

    /// All zeros.
    public static func zeros(_ shape: [Int]) throws -> Tensor {
        Tensor(storage: try Storage(zeros: try Shape.count(shape, op: "zeros")), shape: shape)
    }

    /// All ones.
    public static func ones(_ shape: [Int]) throws -> Tensor { try full(shape, 1) }

    /// Every element `value`.
    public static func full(_ shape: [Int], _ value: Float) throws -> Tensor {
        let t = try empty(shape, op: "full")
        t.pointer.update(repeating: value, count: t.count)
        return t
    }

    /// start, start+step, ... below end.
    public static func arange(_ start: Float = 0, _ end: Float, step: Float = 1) throws -> Tensor {
        guard start.isFinite, end.isFinite else { throw TensorError.invalidArgument(op: "arange", "start and end must be finite float32 numbers, got \(start) and \(end)") }
        guard step != 0, step.isFinite else { throw TensorError.invalidArgument(op: "arange", "step must be finite and non-zero, got \(step)") }
        // Counted in Double: a float32 span over a tiny step overflows Int long before memory runs out.
        let span = ((Double(end) - Double(start)) / Double(step)).rounded(.up)
        guard span <= 1e15 else { throw TensorError.invalidArgument(op: "arange", "\(start) to \(end) by \(step) is \(span) values, too many") }
        let n = span > 0 ? Int(span) : 0
        let t = try empty([n], op: "arange")
        for i in 0..<n { t.pointer[i] = start + Float(i) * step }
        return t
    }

    /// `count` evenly spaced values from start to end inclusive.
    public static func linspace(_ start: Float, _ end: Float, count: Int) throws -> Tensor {
        guard count >= 0 else { throw TensorError.invalidArgument(op: "linspace", "count must be non-negative, got \(count)") }
        let t = try empty([count], op: "linspace")
        let step = count > 1 ? (end - start) / Float(count - 1) : 0
        for i in 0..<count { t.pointer[i] = start + Float(i) * step }
        if count > 1 { t.pointer[count - 1] = end }
        return t
    }

    /// The n×n identity.
    public static func eye(_ n: Int) throws -> Tensor {
        let t = try zeros([n, n])
        for i in 0..<n { t.pointer[i * n + i] = 1 }
        return t
    }

    /// Uniform in [low, high).
    public static func uniform(_ shape: [Int], low: Float = 0, high: Float = 1, rng: inout RNG) throws -> Tensor {
        let t = try empty(shape, op: "uniform")
        for i in 0..<t.count { t.pointer[i] = low + (high - low) * rng.uniform() }
        return t
    }

    /// Normal with the given mean and standard deviation.
    public static func normal(_ shape: [Int], mean: Float = 0, std: Float = 1, rng: inout RNG) throws -> Tensor {
        let t = try empty(shape, op: "normal")
        for i in 0..<t.count { t.pointer[i] = mean + std * rng.normal() }
        return t
    }

    /// Uniform in [0, 1) from the default generator.
    public static func rand(_ shape: [Int]) throws -> Tensor { try DefaultRNG.use { try uniform(shape, rng: &$0) } }

    /// Standard normal from the default generator.
    public static func randn(_ shape: [Int]) throws -> Tensor { try DefaultRNG.use { try normal(shape, rng: &$0) } }
}

extension Tensor {
    /// A new contiguous tensor whose elements `fill` writes in place (every one of them):
    /// loaders use it to decode straight into tensor storage, never holding a second copy.
    public static func filling(_ shape: [Int], _ fill: (UnsafeMutableBufferPointer<Float>) throws -> Void) throws -> Tensor {
        let t = try empty(shape, op: "tensor")
        try fill(UnsafeMutableBufferPointer(start: t.pointer, count: t.count))
        return t
    }
}
