import FinchTensor
import Synchronization

/// A weight as a model holds it: a float32 tensor, or, frozen under LoRA over a quantized base,
/// the blocks of a Q8_0 or Q4_1 matrix and nothing else.
public enum Weight {
    case dense(Tensor)
    case frozen(QuantizedMatrix)

    public var shape: [Int] {
        switch self {
        case .dense(let t): t.shape
        case .frozen(let m): m.shape
        }
    }

    public var count: Int { shape.reduce(1, *) }

    /// The float32 tensor, when it is one.
    public var tensor: Tensor? { if case .dense(let t) = self { t } else { nil } }

    /// The block format of a frozen weight (nil for float32).
    public var format: QuantFormat? { if case .frozen(let m) = self { m.format } else { nil } }

    /// Whether it trains: only a float32 tensor can.
    public var requiresGrad: Bool { tensor?.requiresGrad ?? false }

    /// Bytes it takes in memory.
    public var bytes: Int {
        switch self {
        case .dense(let t): t.count * 4
        case .frozen(let m): m.byteCount
        }
    }

    /// Float32 values: the tensor itself, or the blocks widened into a new tensor (for writing files).
    public func floats() throws -> Tensor {
        switch self {
        case .dense(let t): t
        case .frozen(let m): try m.widened()
        }
    }
}

extension Weight {
    /// A tensor read from a file as a model keeps it: a projection's weight in `base`'s blocks
    /// when one is given (and its rows are whole blocks of 32), anything else float32.
    static func loaded(_ t: Tensor, name: String, family: any Architecture.Type, base: QuantFormat?) throws -> Weight {
        guard let base, family.projection(ofWeight: name) != nil, t.rank == 2, t.shape[1] % 32 == 0 else { return .dense(t) }
        return .frozen(try QuantizedMatrix(t, format: base))
    }
}

/// A linear layer y = x Wᵀ + b with W stored [out, in], as Hugging Face stores it.
public final class Linear {
    /// The weight: float32, or frozen in a block format (`freeze`).
    public var stored: Weight
    public var bias: Tensor?
    /// A low-rank adapter added to the output, if any.
    public var lora: LoRA?
    /// The weight in Q8_0 and in Q4_1 for decoding, each with the weight it was made from and that
    /// weight's version; locked, as several generations may decode with one model at once.
    private let copies = Mutex<[QuantFormat: (matrix: QuantizedMatrix, source: ObjectIdentifier, version: UInt64)]>([:])

    public convenience init(weight: Tensor, bias: Tensor? = nil) {
        self.init(stored: .dense(weight), bias: bias)
    }

    public init(stored: Weight, bias: Tensor? = nil) {
        self.stored = stored
        self.bias = bias
    }

    /// The float32 weight [out, in]; an error while the layer keeps it frozen in a block format.
    public var weight: Tensor {
        get throws {
            guard case .dense(let t) = stored else {
                throw ModelError("this projection's weight is kept in \(stored.format!.rawValue.uppercased()) blocks (LoRA over a quantized base), not in float32: m.lora(base: \"f32\") widens it back")
            }
            return t
        }
    }

    public var inFeatures: Int { stored.shape[1] }
    public var outFeatures: Int { stored.shape[0] }

    /// x [..., in] -> [..., out].
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        switch stored {
        case .dense(let w):
            let y = try x.linear(w, bias: bias)
            return try lora.map { try y.adding($0.delta(x)) } ?? y
        case .frozen(let m):
            return try finish(x.linear(frozen: m), input: x)
        }
    }

    /// x Wᵀ computed elsewhere (the quantized paths), plus the bias and the adapter's term.
    private func finish(_ y: Tensor, input x: Tensor) throws -> Tensor {
        var y = y
        if let bias { y = try y.adding(bias) }
        if let lora { y = try y.adding(lora.delta(x)) }
        return y
    }

    /// Keeps the weight only as `format`'s blocks from now on (frozen: it no longer trains), or with
    /// nil as float32 again (the blocks widened). Rows must be whole blocks of 32.
    public func freeze(_ format: QuantFormat?) throws {
        switch (stored, format) {
        case (.dense, nil): return
        case (.frozen(let m), let f?) where m.format == f: return
        case (.frozen(let m), nil):
            let w = try m.widened()
            w.requiresGrad = false
            stored = .dense(w)
        case (_, let f?):
            stored = .frozen(try QuantizedMatrix(stored.floats(), format: f))
        }
        copies.withLock { $0 = [:] }
    }

    /// The weight in a block format, made again whenever the weight was replaced or written since
    /// (a weight frozen in that format is its own copy).
    public func quantized(_ format: QuantFormat = .q8_0) throws -> QuantizedMatrix {
        let source: ObjectIdentifier, version: UInt64
        switch stored {
        case .frozen(let m) where m.format == format: return m
        case .frozen(let m): (source, version) = (ObjectIdentifier(m), 0)
        case .dense(let w): (source, version) = (ObjectIdentifier(w.storage), w.storage.version)
        }
        let weight = stored
        return try copies.withLock { copies in
            if let copy = copies[format], copy.source == source, copy.version == version { return copy.matrix }
            let m = try QuantizedMatrix(weight.floats(), format: format)
            copies[format] = (m, source, version)
            return m
        }
    }

    /// y = x Wᵀ + b with the weight in a block format: for decoding, where reading the weight is the
    /// cost. Layers whose rows are not whole blocks of 32 stay in float32.
    public func quantizedCall(_ x: Tensor, format: QuantFormat = .q8_0) throws -> Tensor {
        guard inFeatures % 32 == 0 else { return try callAsFunction(x) }
        return try finish(quantized(format).apply(x), input: x)
    }

    /// Several layers applied to the same rows with their quantized weights, in one parallel job.
    public static func quantizedCall(_ layers: [Linear], _ x: Tensor, format: QuantFormat = .q8_0) throws -> [Tensor] {
        guard layers.allSatisfy({ $0.inFeatures % 32 == 0 }) else {
            return try layers.map { try $0.quantizedCall(x, format: format) }
        }
        let ys = try QuantizedMatrix.apply(layers.map { try $0.quantized(format) }, x)
        return try zip(layers, ys).map { layer, y in try layer.finish(y, input: x) }
    }
}
