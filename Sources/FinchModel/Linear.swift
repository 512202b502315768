import FinchTensor

/// A linear layer y = x Wᵀ + b with W stored [out, in], as Hugging Face stores it.
public final class Linear {
    public var weight: Tensor
    public var bias: Tensor?
    /// A low-rank adapter added to the output, if any.
    public var lora: LoRA?
    /// The weight in Q8_0 and in Q4_1 for decoding, each with the storage it was made from.
    private var copies: [QuantFormat: (matrix: QuantizedMatrix, storage: ObjectIdentifier)] = [:]

    public init(weight: Tensor, bias: Tensor? = nil) {
        self.weight = weight
        self.bias = bias
    }

    public var inFeatures: Int { weight.shape[1] }
    public var outFeatures: Int { weight.shape[0] }

    /// x [..., in] -> [..., out].
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        let y = try x.linear(weight, bias: bias)
        return try lora.map { try y.adding($0.delta(x)) } ?? y
    }

    /// x Wᵀ computed elsewhere (the quantized paths), plus the bias and the adapter's term.
    private func finish(_ y: Tensor, input x: Tensor) throws -> Tensor {
        var y = y
        if let bias { y = try y.adding(bias) }
        if let lora { y = try y.adding(lora.delta(x)) }
        return y
    }

    /// The weight in a block format, made again whenever the weight was replaced or written since.
    public func quantized(_ format: QuantFormat = .q8_0) throws -> QuantizedMatrix {
        if let copy = copies[format], copy.storage == ObjectIdentifier(weight.storage), copy.matrix.sourceVersion == weight.storage.version {
            return copy.matrix
        }
        let m = try QuantizedMatrix(weight, format: format)
        copies[format] = (m, ObjectIdentifier(weight.storage))
        return m
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
