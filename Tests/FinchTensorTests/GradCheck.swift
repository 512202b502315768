import FinchTensor
import Testing

/// Checks autograd against central finite differences: for L = Σ f(inputs) ⊙ R
/// with a fixed random R, every input element's ∂L/∂x from backward() must
/// match (L(x + h) − L(x − h)) / 2h.
func checkGradients(_ name: String, _ inputs: [Tensor], h: Float = 1e-2, tolerance: Float = 2e-2,
                    sourceLocation: SourceLocation = #_sourceLocation,
                    _ f: ([Tensor]) throws -> Tensor) throws {
    for x in inputs { x.requiresGrad = true; x.zeroGrad() }
    var rng = RNG(seed: 99)
    let probe = try f(inputs)
    let weights = try Tensor.normal(probe.shape, rng: &rng)
    func objective() throws -> Tensor { try f(inputs).multiplying(weights).sum() }
    try objective().backward()

    for (k, x) in inputs.enumerated() {
        let analytic = try #require(x.grad, "\(name): input \(k) got no gradient", sourceLocation: sourceLocation)
        #expect(analytic.shape == x.shape, "\(name): gradient shape", sourceLocation: sourceLocation)
        let values = analytic.scalars
        for i in 0..<x.count {
            let index = unravel(i, x.shape)
            let saved = try x.element(index)
            try x.setElement(index, saved + h)
            let up = try GradMode.noGrad { try objective().item() }
            try x.setElement(index, saved - h)
            let down = try GradMode.noGrad { try objective().item() }
            try x.setElement(index, saved)
            let numeric = (up - down) / (2 * h)
            let scale = max(1, abs(numeric), abs(values[i]))
            #expect(abs(numeric - values[i]) <= tolerance * scale,
                    "\(name): input \(k) element \(index): autograd \(values[i]) vs finite difference \(numeric)",
                    sourceLocation: sourceLocation)
        }
    }
}

func unravel(_ i: Int, _ shape: [Int]) -> [Int] {
    var rest = i
    var out = [Int](repeating: 0, count: shape.count)
    for d in stride(from: shape.count - 1, through: 0, by: -1) {
        out[d] = rest % shape[d]
        rest /= shape[d]
    }
    return out
}

/// Random tensor with values kept away from zero (for log, div, sqrt and kinks).
func randomTensor(_ shape: [Int], seed: UInt64, low: Float = -2, high: Float = 2, awayFromZero: Bool = false) throws -> Tensor {
    var rng = RNG(seed: seed)
    let t = try Tensor.uniform(shape, low: low, high: high, rng: &rng)
    if awayFromZero {
        let values = t.scalars.map { v -> Float in abs(v) < 0.2 ? (v < 0 ? v - 0.3 : v + 0.3) : v }
        return try Tensor(values, shape: shape)
    }
    return t
}

/// |a − b| ≤ atol + rtol·|b| for every element.
func expectClose(_ a: Tensor, _ b: [Float], atol: Float = 1e-5, rtol: Float = 1e-5,
                 _ what: String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    let av = a.scalars
    #expect(av.count == b.count, "\(what): \(av.count) values, expected \(b.count)", sourceLocation: sourceLocation)
    for (i, (x, y)) in zip(av, b).enumerated() where !(abs(x - y) <= atol + rtol * abs(y)) && !(x.isNaN && y.isNaN) && x != y {
        Issue.record("\(what): element \(i) is \(x), expected \(y)", sourceLocation: sourceLocation)
        return
    }
}
