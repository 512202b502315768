/// Branch-free float math the loop vectoriser can widen: libm's expf is a call
/// per element, which would leave silu, softmax and cross-entropy far below
/// memory bandwidth.
enum FastMath {
    /// e^x to about 2 ulp (Cephes expf polynomial, Cody–Waite reduction).
    /// exp(x) = 2^n · e^r with n = round(x / ln 2), r = x − n·ln 2.
    /// Returns 0 below −86.5 and +inf above 88.72; NaN stays NaN.
    @inline(__always) static func exp(_ x: Float) -> Float {
        // NaN passes through the clamp (Swift's min/max return x when x is NaN) and poisons the result.
        let xc = Swift.min(Swift.max(x, -86.5), 88.72)
        // Adding 1.5·2^23 rounds to an integer, which then sits in the low mantissa bits.
        let t = (12_582_912.0 as Float).addingProduct(xc, 1.442_695_04)
        let n = t - 12_582_912.0
        let r = xc.addingProduct(n, -0.693_359_375).addingProduct(n, 2.121_944_4e-4)
        var p: Float = 1.987_569_15e-4
        p = (1.398_199_95e-3 as Float).addingProduct(p, r)
        p = (8.333_451_9e-3 as Float).addingProduct(p, r)
        p = (4.166_579_59e-2 as Float).addingProduct(p, r)
        p = (1.666_666_55e-1 as Float).addingProduct(p, r)
        p = (5.000_000_12e-1 as Float).addingProduct(p, r)
        let y = (r + 1).addingProduct(p * r, r)
        // 2^(n-1) · 2 keeps n = 128 representable.
        let bits = (Int32(bitPattern: t.bitPattern) &- 0x4B40_0000 &+ 126) << 23
        let scaled = y * Float(bitPattern: UInt32(bitPattern: bits)) * 2
        return x < -86.5 ? 0 : (x > 88.72 ? Float.infinity : scaled)
    }

    /// x[i] = e^(x[i] − shift) for n values, 16 lanes at a time with exp's operations lane by lane, so
    /// the same bits as exp(x[i] − shift): the plain loop over exp vectorised its polynomial but
    /// handled the range checks element by element (softmax's exponentials were 9% of a prefill).
    static func expShifted(_ x: UnsafeMutablePointer<Float>, _ n: Int, minus shift: Float) {
        var j = 0
        while j + 16 <= n {
            let v = UnsafeRawPointer(x + j).loadUnaligned(as: SIMD16<Float>.self) - SIMD16(repeating: shift)
            UnsafeMutableRawPointer(x + j).storeBytes(of: exp(v), as: SIMD16<Float>.self)
            j += 16
        }
        while j < n { x[j] = exp(x[j] - shift); j += 1 }
    }

    /// exp on 16 lanes.
    @inline(__always) static func exp(_ x: SIMD16<Float>) -> SIMD16<Float> {
        typealias V = SIMD16<Float>
        // Blends, not pointwiseMin/Max (which go lane by lane for Swift.max's NaN rules); a NaN stays NaN.
        let low = x.replacing(with: -86.5, where: x .< -86.5)
        let xc = low.replacing(with: 88.72, where: low .> 88.72)
        let t = V(repeating: 12_582_912.0).addingProduct(xc, V(repeating: 1.442_695_04))
        let n = t - V(repeating: 12_582_912.0)
        let r = xc.addingProduct(n, V(repeating: -0.693_359_375)).addingProduct(n, V(repeating: 2.121_944_4e-4))
        var p = V(repeating: 1.987_569_15e-4)
        p = V(repeating: 1.398_199_95e-3).addingProduct(p, r)
        p = V(repeating: 8.333_451_9e-3).addingProduct(p, r)
        p = V(repeating: 4.166_579_59e-2).addingProduct(p, r)
        p = V(repeating: 1.666_666_55e-1).addingProduct(p, r)
        p = V(repeating: 5.000_000_12e-1).addingProduct(p, r)
        let y = (r + 1).addingProduct(p * r, r)
        let bits = (unsafeBitCast(t, to: SIMD16<Int32>.self) &- 0x4B40_0000 &+ 126) &<< 23
        let scaled = y * unsafeBitCast(bits, to: V.self) * 2
        return scaled.replacing(with: .infinity, where: x .> 88.72).replacing(with: 0, where: x .< -86.5)
    }

    /// 1 / (1 + e^−x).
    @inline(__always) static func sigmoid(_ x: Float) -> Float { 1 / (1 + exp(-x)) }

    /// tanh x = 2·sigmoid(2x) − 1 (absolute error about 1e-7).
    @inline(__always) static func tanh(_ x: Float) -> Float { 2 / (1 + exp(-2 * x)) - 1 }

    /// erf x by Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7).
    @inline(__always) static func erf(_ x: Float) -> Float {
        let a = Swift.abs(x)
        let t = 1 / (1 + 0.327_591_1 * a)
        var p: Float = 1.061_405_429
        p = p * t - 1.453_152_027
        p = p * t + 1.421_413_741
        p = p * t - 0.284_496_736
        p = p * t + 0.254_829_592
        let y = 1 - p * t * exp(-a * a)
        return x < 0 ? -y : y
    }
}
