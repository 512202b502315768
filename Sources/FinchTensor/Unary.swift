#if canImport(Glibc)
import Glibc
#endif

enum NegOp: UnaryOp { @inline(__always) static func apply(_ x: Float) -> Float { -x } }
enum ExpOp: UnaryOp { @inline(__always) static func apply(_ x: Float) -> Float { FastMath.exp(x) } }
enum LogOp: UnaryOp { @inline(__always) static func apply(_ x: Float) -> Float { logf(x) } }
enum SqrtOp: UnaryOp { @inline(__always) static func apply(_ x: Float) -> Float { x.squareRoot() } }
enum TanhOp: UnaryOp { @inline(__always) static func apply(_ x: Float) -> Float { FastMath.tanh(x) } }
enum SigmoidOp: UnaryOp { @inline(__always) static func apply(_ x: Float) -> Float { FastMath.sigmoid(x) } }
enum ReluOp: UnaryOp { @inline(__always) static func apply(_ x: Float) -> Float { x > 0 ? x : 0 } }
enum AbsOp: UnaryOp { @inline(__always) static func apply(_ x: Float) -> Float { Swift.abs(x) } }
/// gelu(x) = x·Φ(x) = ½x(1 + erf(x/√2)), the exact form (PyTorch's default).
enum GeluOp: UnaryOp {
    @inline(__always) static func apply(_ x: Float) -> Float { 0.5 * x * (1 + FastMath.erf(x * 0.707_106_78)) }
}
/// gelu_tanh(x) = ½x(1 + tanh(√(2/π)(x + 0.044715x³))), the tanh form GPT-2 and Gemma use.
enum GeluTanhOp: UnaryOp {
    @inline(__always) static func apply(_ x: Float) -> Float { 0.5 * x * (1 + FastMath.tanh(0.797_884_56 * (x + 0.044_715 * x * x * x))) }
}
/// silu(x) = x·σ(x).
enum SiluOp: UnaryOp { @inline(__always) static func apply(_ x: Float) -> Float { x / (1 + FastMath.exp(-x)) } }

// Backward kernels: apply(g, saved) = g · f'(…), saved being the input or output as noted.
/// exp: g·y (output).
enum ExpGrad: BinaryOp { @inline(__always) static func apply(_ g: Float, _ y: Float) -> Float { g * y } }
/// log: g / x (input).
enum LogGrad: BinaryOp { @inline(__always) static func apply(_ g: Float, _ x: Float) -> Float { g / x } }
/// sqrt: g / (2y) (output).
enum SqrtGrad: BinaryOp { @inline(__always) static func apply(_ g: Float, _ y: Float) -> Float { g * 0.5 / y } }
/// tanh: g·(1 − y²) (output).
enum TanhGrad: BinaryOp { @inline(__always) static func apply(_ g: Float, _ y: Float) -> Float { g * (1 - y * y) } }
/// sigmoid: g·y(1 − y) (output).
enum SigmoidGrad: BinaryOp { @inline(__always) static func apply(_ g: Float, _ y: Float) -> Float { g * y * (1 - y) } }
/// relu: g where x > 0 (input).
enum ReluGrad: BinaryOp { @inline(__always) static func apply(_ g: Float, _ x: Float) -> Float { x > 0 ? g : 0 } }
/// abs: g·sign(x) (input).
enum AbsGrad: BinaryOp { @inline(__always) static func apply(_ g: Float, _ x: Float) -> Float { x > 0 ? g : (x < 0 ? -g : 0) } }
/// gelu: g·(Φ(x) + x·φ(x)) (input).
enum GeluGrad: BinaryOp {
    @inline(__always) static func apply(_ g: Float, _ x: Float) -> Float {
        let cdf = 0.5 * (1 + FastMath.erf(x * 0.707_106_78))
        let pdf = 0.398_942_28 * FastMath.exp(-0.5 * x * x)
        return g * (cdf + x * pdf)
    }
}
/// gelu_tanh: with u = √(2/π)(x + 0.044715x³), t = tanh u:
/// g·(½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3·0.044715x²)) (input).
enum GeluTanhGrad: BinaryOp {
    @inline(__always) static func apply(_ g: Float, _ x: Float) -> Float {
        let t = FastMath.tanh(0.797_884_56 * (x + 0.044_715 * x * x * x))
        return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * 0.797_884_56 * (1 + 0.134_145 * x * x))
    }
}
/// silu: g·σ(x)(1 + x(1 − σ(x))) (input).
enum SiluGrad: BinaryOp {
    @inline(__always) static func apply(_ g: Float, _ x: Float) -> Float {
        let s = 1 / (1 + FastMath.exp(-x))
        return g * s * (1 + x * (1 - s))
    }
}

extension Tensor {
    /// Applies a unary kernel whose derivative reads the input.
    @inline(__always)
    private func unaryFromInput<F: UnaryOp, G: BinaryOp>(_ f: F.Type, _ grad: G.Type, _ name: String) throws -> Tensor {
        let x = detached()
        return try Kernels.unary(self, f, name: name).recorded(name, [self]) { g, _ in
            [try Kernels.binary(g, x, grad, name: name)]
        }
    }

    /// Applies a unary kernel whose derivative reads the output.
    @inline(__always)
    private func unaryFromOutput<F: UnaryOp, G: BinaryOp>(_ f: F.Type, _ grad: G.Type, _ name: String) throws -> Tensor {
        let out = try Kernels.unary(self, f, name: name)
        let y = out.detached()
        return out.recorded(name, [self]) { g, _ in [try Kernels.binary(g, y, grad, name: name)] }
    }

    /// −x.
    public func negated() throws -> Tensor {
        try Kernels.unary(self, NegOp.self, name: "neg").recorded("neg", [self]) { g, _ in [try g.negated()] }
    }
    /// e^x.
    public func exp() throws -> Tensor { try unaryFromOutput(ExpOp.self, ExpGrad.self, "exp") }
    /// Natural logarithm.
    public func log() throws -> Tensor { try unaryFromInput(LogOp.self, LogGrad.self, "log") }
    /// Square root.
    public func sqrt() throws -> Tensor { try unaryFromOutput(SqrtOp.self, SqrtGrad.self, "sqrt") }
    /// Hyperbolic tangent.
    public func tanh() throws -> Tensor { try unaryFromOutput(TanhOp.self, TanhGrad.self, "tanh") }
    /// 1 / (1 + e^−x).
    public func sigmoid() throws -> Tensor { try unaryFromOutput(SigmoidOp.self, SigmoidGrad.self, "sigmoid") }
    /// max(x, 0).
    public func relu() throws -> Tensor { try unaryFromInput(ReluOp.self, ReluGrad.self, "relu") }
    /// |x|.
    public func abs() throws -> Tensor { try unaryFromInput(AbsOp.self, AbsGrad.self, "abs") }
    /// Gaussian error linear unit, exact (erf) form.
    public func gelu() throws -> Tensor { try unaryFromInput(GeluOp.self, GeluGrad.self, "gelu") }
    /// Gaussian error linear unit, tanh approximation (GPT-2's gelu_new, gelu_pytorch_tanh).
    public func geluTanh() throws -> Tensor { try unaryFromInput(GeluTanhOp.self, GeluTanhGrad.self, "gelu_tanh") }
    /// x·σ(x), the SwiGLU gate's activation.
    public func silu() throws -> Tensor { try unaryFromInput(SiluOp.self, SiluGrad.self, "silu") }
    /// x^p for a constant exponent.
    public func pow(_ p: Float) throws -> Tensor { try pow(.scalar(p)) }
}
