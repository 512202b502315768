import FinchTensor

/// A linear layer y = x Wᵀ + b with W stored [out, in], as Hugging Face stores it.
public final class Linear {
    public var weight: Tensor
    public var bias: Tensor?

    public init(weight: Tensor, bias: Tensor? = nil) {
        self.weight = weight
        self.bias = bias
    }

    public var inFeatures: Int { weight.shape[1] }
    public var outFeatures: Int { weight.shape[0] }

    /// x [..., in] -> [..., out].
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        let y = try x.matmul(weight.transpose())
        return try bias.map { try y.adding($0) } ?? y
    }
}
