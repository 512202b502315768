/// Branch-free float math the loop vectoriser can widen: libm's expf is a call
/// per element, which would leave silu, softmax and cross-entropy far below
/// memory bandwidth.
enum FastMath {
    /// exp's constants, which its scalar and 16-lane forms share (they must give the same bits).
    enum ExpConstants {
        static let low: Float = -86.5, high: Float = 88.72
        /// 1.5·2^23: adding it rounds to an integer.
        static let shifter: Float = 12_582_912.0, log2e: Float = 1.442_695_04
        /// ln 2 in two parts (Cody–Waite), the second correcting the first.
        static let ln2High: Float = -0.693_359_375, ln2Low: Float = 2.121_944_4e-4
        /// The polynomial's coefficients, highest degree first (Horner).
        static let p5: Float = 1.987_569_15e-4, p4: Float = 1.398_199_95e-3, p3: Float = 8.333_451_9e-3
        static let p2: Float = 4.166_579_59e-2, p1: Float = 1.666_666_55e-1, p0: Float = 5.000_000_12e-1
    }

    /// e^x to about 2 ulp (Cephes expf polynomial, Cody–Waite reduction).
    /// exp(x) = 2^n · e^r with n = round(x / ln 2), r = x − n·ln 2.
    /// Returns 0 below −86.5 and +inf above 88.72; NaN stays NaN.
    @inline(__always) static func exp(_ x: Float) -> Float {
        typealias C = ExpConstants
        // NaN passes through the clamp (Swift's min/max return x when x is NaN) and poisons the result.
        let xc = Swift.min(Swift.max(x, C.low), C.high)
        // Adding 1.5·2^23 rounds to an integer, which then sits in the low mantissa bits.
        let t = C.shifter.addingProduct(xc, C.log2e)
        let n = t - C.shifter
        let r = xc.addingProduct(n, C.ln2High).addingProduct(n, C.ln2Low)
        var p = C.p5
        p = C.p4.addingProduct(p, r)
        p = C.p3.addingProduct(p, r)
        p = C.p2.addingProduct(p, r)
        p = C.p1.addingProduct(p, r)
        p = C.p0.addingProduct(p, r)
        let y = (r + 1).addingProduct(p * r, r)
        // 2^(n-1) · 2 keeps n = 128 representable.
        let bits = (Int32(bitPattern: t.bitPattern) &- 0x4B40_0000 &+ 126) << 23
        let scaled = y * Float(bitPattern: UInt32(bitPattern: bits)) * 2
        return x < C.low ? 0 : (x > C.high ? Float.infinity : scaled)
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
        typealias C = ExpConstants
        // Blends, not pointwiseMin/Max (which go lane by lane for Swift.max's NaN rules); a NaN stays NaN.
        let low = x.replacing(with: C.low, where: x .< C.low)
        let xc = low.replacing(with: C.high, where: low .> C.high)
        let t = V(repeating: C.shifter).addingProduct(xc, V(repeating: C.log2e))
        let n = t - V(repeating: C.shifter)
        let r = xc.addingProduct(n, V(repeating: C.ln2High)).addingProduct(n, V(repeating: C.ln2Low))
        var p = V(repeating: C.p5)
        p = V(repeating: C.p4).addingProduct(p, r)
        p = V(repeating: C.p3).addingProduct(p, r)
        p = V(repeating: C.p2).addingProduct(p, r)
        p = V(repeating: C.p1).addingProduct(p, r)
        p = V(repeating: C.p0).addingProduct(p, r)
        let y = (r + 1).addingProduct(p * r, r)
        let bits = (unsafeBitCast(t, to: SIMD16<Int32>.self) &- 0x4B40_0000 &+ 126) &<< 23
        let scaled = y * unsafeBitCast(bits, to: V.self) * 2
        return scaled.replacing(with: .infinity, where: x .> C.high).replacing(with: 0, where: x .< C.low)
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
