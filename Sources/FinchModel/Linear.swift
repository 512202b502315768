import FinchTensor

/// A linear layer y = x Wᵀ + b with W stored [out, in], as Hugging Face stores it.
public final class Linear {
    public var weight: Tensor
    public var bias: Tensor?
    /// A low-rank adapter added to the output, if any.
    public var lora: LoRA?
    /// The weight in Q8_0 for decoding, with the storage it was made from.
    private var q8: (matrix: Q8Matrix, storage: ObjectIdentifier)?

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

    /// x Wᵀ computed elsewhere (the Q8_0 paths), plus the bias and the adapter's term.
    private func finish(_ y: Tensor, input x: Tensor) throws -> Tensor {
        var y = y
        if let bias { y = try y.adding(bias) }
        if let lora { y = try y.adding(lora.delta(x)) }
        return y
    }

    /// The weight in Q8_0 form, made again whenever the weight was replaced or written since.
    public func quantized() throws -> Q8Matrix {
        if let q8, q8.storage == ObjectIdentifier(weight.storage), q8.matrix.sourceVersion == weight.storage.version { return q8.matrix }
        let m = try Q8Matrix(weight)
        q8 = (m, ObjectIdentifier(weight.storage))
        return m
    }

    /// y = x Wᵀ + b with the weight in Q8_0: for decoding, where reading the weight is the cost.
    /// Layers whose rows are not whole blocks of 32 stay in float32.
    public func quantizedCall(_ x: Tensor) throws -> Tensor {
        guard inFeatures % 32 == 0 else { return try callAsFunction(x) }
        return try finish(quantized().apply(x), input: x)
    }

    /// Several layers applied to the same rows with their Q8_0 weights, in one parallel job.
    public static func quantizedCall(_ layers: [Linear], _ x: Tensor) throws -> [Tensor] {
        guard layers.allSatisfy({ $0.inFeatures % 32 == 0 }) else {
            return try layers.map { try $0.quantizedCall(x) }
        }
        let ys = try Q8Matrix.apply(layers.map { try $0.quantized() }, x)
        return try zip(layers, ys).map { layer, y in try layer.finish(y, input: x) }
    }
}
