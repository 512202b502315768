import CKernels
import FinchTensor
#if canImport(Glibc)
import Glibc
#endif

/// Updates parameters from their gradients. The state (moments, step count) lives here,
/// keyed by the parameter's position in `params`, so it can be saved and restored.
public protocol Optimizer: AnyObject {
    /// The parameters it updates, in order.
    var params: [Tensor] { get }
    /// The learning rate of the next step (schedules set it).
    var lr: Float { get set }
    /// Applies one update from each parameter's `grad` (parameters without one are left alone).
    func step() throws
    /// Its state as named float arrays, for checkpoints.
    func state() -> [String: [Float]]
    /// Restores what `state()` returned.
    func load(state: [String: [Float]]) throws
}

extension Optimizer {
    /// Clears every parameter's gradient.
    public func zeroGrad() { for p in params { p.zeroGrad() } }
}

/// Raw access to a parameter's values and gradient for the update loops.
@inline(__always)
func withValues(_ p: Tensor, _ body: (UnsafeMutablePointer<Float>, UnsafePointer<Float>, Int) throws -> Void) throws -> Bool {
    guard let g = p.grad else { return false }
    guard p.isContiguous else { throw TensorError.invalidArgument(op: "optimizer", "parameters must be contiguous, got a view of shape \(p.shape)") }
    let gc = try g.contiguous()
    try body(p.unsafePointer, UnsafePointer(gc.unsafePointer), p.count)
    p.storage.markWritten()  // derived copies (the Q8_0 weights of decoding) must be remade
    return true
}

/// The optimizer's step count from a saved state: a whole number, never NaN or infinite.
func savedStep(_ state: [String: [Float]]) throws -> Int {
    let t = try checkedState(state, "t", count: 1)[0]
    guard t >= 0, t < 1e15, t == t.rounded() else {
        throw TensorError.invalidArgument(op: "optimizer", "the saved step count t is \(t), not a whole number of steps")
    }
    return Int(t)
}

func checkedState(_ state: [String: [Float]], _ key: String, count: Int) throws -> [Float] {
    guard let v = state[key] else { throw TensorError.invalidArgument(op: "optimizer", "the saved state has no \(key)") }
    guard v.count == count else { throw TensorError.invalidArgument(op: "optimizer", "the saved \(key) has \(v.count) values, the parameter \(count)") }
    return v
}

/// AdamW with decoupled weight decay (Loshchilov & Hutter), as PyTorch computes it:
///   p ← p − lr·wd·p;  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
///   p ← p − lr · (m / (1−β1ᵗ)) / (√(v / (1−β2ᵗ)) + ε)
public final class AdamW: Optimizer {
    public let params: [Tensor]
    public var lr: Float
    public let beta1: Float, beta2: Float, eps: Float, weightDecay: Float
    public private(set) var t = 0
    var m: [[Float]], v: [[Float]]

    public init(params: [Tensor], lr: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8, weightDecay: Float = 0.01) {
        self.params = params
        self.lr = lr
        self.beta1 = beta1; self.beta2 = beta2; self.eps = eps; self.weightDecay = weightDecay
        m = params.map { [Float](repeating: 0, count: $0.count) }
        v = m
    }

    public func step() throws {
        t += 1
        let c1 = 1 - powf(beta1, Float(t)), c2 = 1 - powf(beta2, Float(t))
        let (lr, b1, b2, eps, decay) = (self.lr, beta1, beta2, self.eps, 1 - self.lr * weightDecay)
        for (k, p) in params.enumerated() {
            _ = try m[k].withUnsafeMutableBufferPointer { mb in
                try v[k].withUnsafeMutableBufferPointer { vb in
                    try withValues(p) { w, g, n in
                        let mp = mb.baseAddress!, vp = vb.baseAddress!
                        // Both cores: the update streams seven floats per parameter through memory,
                        // and a single thread leaves the other core idle for 5% of a full step.
                        // In C (CKernels): its divisions and square root as vector instructions, each
                        // element's operations in the scalar formula's order, so the same bits.
                        Parallel.forEachRange(n) { r in
                            let i = r.lowerBound
                            finch_adamw_update(w + i, g + i, mp + i, vp + i, r.count, lr, b1, b2, c1, c2, eps, decay)
                        }
                    }
                }
            }
        }
    }

    public func state() -> [String: [Float]] {
        var s: [String: [Float]] = ["t": [Float(t)]]
        for k in params.indices { s["m.\(k)"] = m[k]; s["v.\(k)"] = v[k] }
        return s
    }

    public func load(state s: [String: [Float]]) throws {
        t = try savedStep(s)
        for (k, p) in params.enumerated() {
            m[k] = try checkedState(s, "m.\(k)", count: p.count)
            v[k] = try checkedState(s, "v.\(k)", count: p.count)
        }
    }
}

/// SGD with momentum (PyTorch's form) and coupled weight decay:
///   g ← g + wd·p;  b ← μ·b + g (b = g on the first step);  p ← p − lr·b
public final class SGD: Optimizer {
    public let params: [Tensor]
    public var lr: Float
    public let momentum: Float, weightDecay: Float
    var buffers: [[Float]]
    var started = false

    public init(params: [Tensor], lr: Float = 0.01, momentum: Float = 0.9, weightDecay: Float = 0) {
        self.params = params
        self.lr = lr
        self.momentum = momentum
        self.weightDecay = weightDecay
        buffers = params.map { [Float](repeating: 0, count: $0.count) }
    }

    public func step() throws {
        let (lr, mu, wd, first) = (self.lr, momentum, weightDecay, !started)
        for (k, p) in params.enumerated() {
            _ = try buffers[k].withUnsafeMutableBufferPointer { bb in
                try withValues(p) { w, g, n in
                    let b = bb.baseAddress!
                    for i in 0..<n {
                        let gi = g[i] + wd * w[i]
                        let bi = mu == 0 ? gi : (first ? gi : mu * b[i] + gi)
                        b[i] = bi
                        w[i] -= lr * bi
                    }
                }
            }
        }
        started = true
    }

    public func state() -> [String: [Float]] {
        var s: [String: [Float]] = ["started": [started ? 1 : 0]]
        for k in params.indices { s["momentum.\(k)"] = buffers[k] }
        return s
    }

    public func load(state s: [String: [Float]]) throws {
        started = try checkedState(s, "started", count: 1)[0] != 0
        for (k, p) in params.enumerated() { buffers[k] = try checkedState(s, "momentum.\(k)", count: p.count) }
    }
}

/// Adafactor (Shazeer & Stern) as Hugging Face runs it with a fixed learning rate
/// (relative_step=False, scale_parameter=False, warmup_init=False): the second moment
/// of a matrix is kept as its row and column means, so it costs rows + cols floats.
///   ρ = 1 − t^−0.8;  R ← ρR + (1−ρ)·mean_cols(g² + ε₁);  C ← ρC + (1−ρ)·mean_rows(g² + ε₁)
///   v̂ = R Cᵀ / mean(R);  u = g / √v̂;  u ← u / max(1, RMS(u) / d);  p ← p − lr·wd·p − lr·u
/// (vectors keep a full second moment).  ε₁ = 1e-30, d = 1.
public final class Adafactor: Optimizer {
    public let params: [Tensor]
    public var lr: Float
    public let weightDecay: Float
    public private(set) var t = 0
    static let eps1: Float = 1e-30, clip: Float = 1
    var rows: [[Float]], cols: [[Float]], full: [[Float]]

    public init(params: [Tensor], lr: Float = 1e-3, weightDecay: Float = 0) {
        self.params = params
        self.lr = lr
        self.weightDecay = weightDecay
        rows = params.map { $0.rank >= 2 ? [Float](repeating: 0, count: $0.count / $0.shape[$0.rank - 1]) : [] }
        cols = params.map { $0.rank >= 2 ? [Float](repeating: 0, count: $0.shape[$0.rank - 1]) : [] }
        full = params.map { $0.rank < 2 ? [Float](repeating: 0, count: $0.count) : [] }
    }

    public func step() throws {
        t += 1
        let rho = 1 - powf(Float(t), -0.8)
        for (k, p) in params.enumerated() {
            let lr = self.lr, wd = weightDecay
            if p.rank >= 2 {
                let nc = p.shape[p.rank - 1], nr = p.count / nc
                var r = rows[k], c = cols[k]
                _ = try withValues(p) { w, g, _ in
                    var rowMean = [Float](repeating: 0, count: nr), colMean = [Float](repeating: 0, count: nc)
                    for i in 0..<nr {
                        for j in 0..<nc {
                            let g2 = g[i * nc + j] * g[i * nc + j] + Adafactor.eps1
                            rowMean[i] += g2; colMean[j] += g2
                        }
                    }
                    for i in 0..<nr { r[i] = rho * r[i] + (1 - rho) * rowMean[i] / Float(nc) }
                    for j in 0..<nc { c[j] = rho * c[j] + (1 - rho) * colMean[j] / Float(nr) }
                    let rMean = r.reduce(0, +) / Float(nr)
                    // u = g / √v̂ is computed twice (for its RMS, then for the update) rather than stored:
                    // storing it would allocate a parameter's worth of floats every step.
                    func u(_ i: Int, _ j: Int) -> Float { g[i * nc + j] / (r[i] * c[j] / rMean).squareRoot() }
                    var sq: Float = 0
                    for i in 0..<nr { for j in 0..<nc { let ui = u(i, j); sq += ui * ui } }
                    let scale = 1 / Swift.max(1, (sq / Float(nr * nc)).squareRoot() / Adafactor.clip)
                    for i in 0..<nr {
                        for j in 0..<nc { w[i * nc + j] = w[i * nc + j] - lr * wd * w[i * nc + j] - lr * u(i, j) * scale }
                    }
                }
                rows[k] = r; cols[k] = c
            } else {
                var v = full[k]
                _ = try withValues(p) { w, g, n in
                    var u = [Float](repeating: 0, count: n)
                    var sq: Float = 0
                    for i in 0..<n {
                        v[i] = rho * v[i] + (1 - rho) * (g[i] * g[i] + Adafactor.eps1)
                        u[i] = g[i] / v[i].squareRoot()
                        sq += u[i] * u[i]
                    }
                    let scale = 1 / Swift.max(1, (sq / Float(Swift.max(n, 1))).squareRoot() / Adafactor.clip)
                    for i in 0..<n { w[i] = w[i] - lr * wd * w[i] - lr * u[i] * scale }
                }
                full[k] = v
            }
        }
    }

    public func state() -> [String: [Float]] {
        var s: [String: [Float]] = ["t": [Float(t)]]
        for k in params.indices { s["row.\(k)"] = rows[k]; s["col.\(k)"] = cols[k]; s["full.\(k)"] = full[k] }
        return s
    }

    public func load(state s: [String: [Float]]) throws {
        t = try savedStep(s)
        for k in params.indices {
            rows[k] = try checkedState(s, "row.\(k)", count: rows[k].count)
            cols[k] = try checkedState(s, "col.\(k)", count: cols[k].count)
            full[k] = try checkedState(s, "full.\(k)", count: full[k].count)
        }
    }
}

/// Scales all gradients together so their global L2 norm is at most `maxNorm`; returns the norm before.
/// Σ x² in Double, in one chunk per thread (a fixed split, so the sum is the same run after run).
func sumOfSquares(_ x: UnsafeMutablePointer<Float>, count: Int) -> Double {
    let grain = 1 << 16
    let chunks = max(1, (count + grain - 1) / grain)
    var partial = [Double](repeating: 0, count: chunks)
    partial.withUnsafeMutableBufferPointer { out in
        let out = out.baseAddress!
        Parallel.forEachRange(chunks, grain: 1) { r in
            for c in r {
                // Eight lanes: one serial sum was bound by its adds' latency (80 ms of a full
                // step for 135M gradients, four times what reading them takes).
                var lanes = SIMD8<Double>(repeating: 0)
                var i = c * grain
                let end = min(count, (c + 1) * grain)
                while i + 8 <= end {
                    let v = SIMD8<Double>(UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self))
                    lanes += v * v
                    i += 8
                }
                var s = lanes.sum()
                while i < end { s += Double(x[i]) * Double(x[i]); i += 1 }
                out[c] = s
            }
        }
    }
    return partial.reduce(0, +)
}

public func clipGradients(_ params: [Tensor], maxNorm: Float) throws -> Float {
    var total: Double = 0
    for p in params {
        guard let g = try p.grad?.contiguous() else { continue }
        // Read in place: copying every gradient into an array would move the whole model's worth of floats.
        total += sumOfSquares(g.unsafePointer, count: g.count)
    }
    let norm = Float(total.squareRoot())
    if maxNorm > 0, norm > maxNorm, norm.isFinite {
        let scale = maxNorm / (norm + 1e-6)
        for p in params {
            guard let g = p.grad else { continue }
            if g.isContiguous { g.scaleInPlace(scale) } else { p.grad = try g.multiplying(.scalar(scale)) }
        }
    }
    return norm
}
