import Foundation

/// GGUF's 4-bit block formats, written as llama.cpp reads them (the readers are in Dequantize).
enum Quantize {
    @inline(__always)
    static func storeHalf(_ x: Float, _ p: UnsafeMutableRawPointer) -> Float {
        let h = Float16(x)
        p.storeBytes(of: h.bitPattern.littleEndian, as: UInt16.self)
        return Float(h)
    }

    /// Q4_0: 32 values as d·(q − 8), q in 0...15; d = m / −8 where m is the value of largest
    /// magnitude, so m itself is exact (q = 0). Bytes: f16 d, then 16 bytes holding values j
    /// (low nibble) and j + 16 (high nibble). llama.cpp's quantize_row_q4_0_ref rule.
    static func q4_0(_ x: UnsafePointer<Float>, _ out: UnsafeMutableRawPointer) {
        var amax: Float = 0, m: Float = 0
        for j in 0..<32 where abs(x[j]) > amax { amax = abs(x[j]); m = x[j] }
        let d = m / -8, id: Float = d == 0 ? 0 : 1 / d
        _ = storeHalf(d, out)
        let q = (out + 2).assumingMemoryBound(to: UInt8.self)
        for j in 0..<16 {
            let lo = min(15, Int(x[j] * id + 8.5)), hi = min(15, Int(x[j + 16] * id + 8.5))
            q[j] = UInt8(lo) | UInt8(hi) << 4
        }
    }

    /// Q4_K: 256 values in 8 sub-blocks of 32, each value = d·s_j·q − dmin·m_j with q in 0...15
    /// and 6-bit s_j, m_j (a sub-block's step and offset, m_j = −min(0, min x)) scaled by the
    /// block's f16 d and dmin. Bytes: d, dmin, 12 bytes of packed s/m, then 128 bytes where byte
    /// 32i + l holds values 64i + l (low nibble) and 64i + 32 + l (high nibble).
    static func q4_K(_ x: UnsafePointer<Float>, _ out: UnsafeMutableRawPointer) {
        // Per-block scratch on the stack: this runs once per 256 weights of a whole model.
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 16) { floats in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16) { bytes in
                q4_K(x, out, steps: floats.baseAddress!, offsets: floats.baseAddress! + 8, ls: bytes.baseAddress!, lm: bytes.baseAddress! + 8)
            }
        }
    }

    private static func q4_K(_ x: UnsafePointer<Float>, _ out: UnsafeMutableRawPointer, steps: UnsafeMutablePointer<Float>,
                             offsets: UnsafeMutablePointer<Float>, ls: UnsafeMutablePointer<UInt8>, lm: UnsafeMutablePointer<UInt8>) {
        for j in 0..<8 {
            var lo: Float = 0, hi = -Float.infinity
            for l in 0..<32 { lo = min(lo, x[32 * j + l]); hi = max(hi, x[32 * j + l]) }
            steps[j] = (hi - lo) / 15
            offsets[j] = -lo
        }
        var maxStep: Float = 0, maxOffset: Float = 0
        for j in 0..<8 {
            maxStep = max(maxStep, steps[j])
            maxOffset = max(maxOffset, offsets[j])
        }
        let d = storeHalf(maxStep / 63, out), dmin = storeHalf(maxOffset / 63, out + 2)
        for j in 0..<8 {
            ls[j] = UInt8(min(63, max(0, (d > 0 ? steps[j] / d : 0).rounded())))
            // The offset rounds up, so that d·s·q − dmin·m can still reach the sub-block's smallest value.
            lm[j] = UInt8(min(63, max(0, (dmin > 0 ? offsets[j] / dmin : 0).rounded(.up))))
        }
        let scales = (out + 4).assumingMemoryBound(to: UInt8.self)
        for j in 0..<12 { scales[j] = 0 }
        for j in 0..<8 {
            if j < 4 {
                scales[j] = ls[j]
                scales[j + 4] = lm[j]
            } else {
                scales[j + 4] = (ls[j] & 0x0F) | ((lm[j] & 0x0F) << 4)
                scales[j - 4] |= (ls[j] >> 4) << 6
                scales[j] |= (lm[j] >> 4) << 6
            }
        }
        let qs = (out + 16).assumingMemoryBound(to: UInt8.self)
        for i in 0..<4 {
            for half in 0..<2 {
                let j = 2 * i + half
                let step = d * Float(ls[j]), offset = dmin * Float(lm[j])
                for l in 0..<32 {
                    let q = step > 0 ? UInt8(min(15, max(0, ((x[32 * j + l] + offset) / step).rounded()))) : 0
                    if half == 0 { qs[32 * i + l] = q } else { qs[32 * i + l] |= q << 4 }
                }
            }
        }
    }
}
