import FinchTensor
import Foundation

/// GGUF tensor types Finch reads, with their block layouts (ggml's reference dequantisers).
///   F32, F16, BF16: one value each.
///   Q8_0: 32 values: f16 d, 32 × int8 q;               x = d·q
///   Q4_0: 32 values: f16 d, 16 bytes;                  x[j] = d·((b[j] & 15) − 8), x[j+16] = d·((b[j] >> 4) − 8)
///   Q4_1: 32 values: f16 d, f16 m, 16 bytes;           x[j] = d·(b[j] & 15) + m, x[j+16] = d·(b[j] >> 4) + m
///   Q4_K: 256 values: f16 d, f16 dmin, 12 bytes of 6-bit scales and mins for 8 sub-blocks, 128 bytes of nibbles;
///         x = d·scale·q − dmin·min
///   Q6_K: 256 values: 128 bytes low nibbles, 64 bytes high 2-bit pairs, 16 int8 scales, f16 d;
///         x = d·scale·(q − 32)
public enum GGUFType: UInt32, Sendable, CaseIterable {
    case f32 = 0, f16 = 1, q4_0 = 2, q4_1 = 3, q8_0 = 8, q4_K = 12, q6_K = 14, bf16 = 30

    var blockElements: Int {
        switch self {
        case .f32, .f16, .bf16: return 1
        case .q4_0, .q4_1, .q8_0: return 32
        case .q4_K, .q6_K: return 256
        }
    }
    var blockBytes: Int {
        switch self {
        case .f32: return 4
        case .f16, .bf16: return 2
        case .q4_0: return 18
        case .q4_1: return 20
        case .q8_0: return 34
        case .q4_K: return 144
        case .q6_K: return 210
        }
    }

    /// Bytes that `elements` values take in this type.
    func byteCount(elements: Int) -> Int { elements / blockElements * blockBytes }

    /// The name llama.cpp and the gguf package use.
    public var name: String { String(describing: self).uppercased() }
}

extension GGUFFile {
    /// The tensor named `name`, dequantised to Float32 straight from the mapped file.
    /// Its shape is GGUF's dimensions reversed (row-major, the last axis fastest).
    public func tensor(named name: String) throws -> Tensor {
        guard let info = tensors.first(where: { $0.name == name }) else {
            throw GGUFError(path: path, offset: 0, message: "no tensor named \(name)")
        }
        return try tensor(info)
    }

    /// A tensor of this file, dequantised to Float32. The table was checked when the file was opened.
    public func tensor(_ info: GGUFTensorInfo) throws -> Tensor {
        let type = GGUFType(rawValue: info.type)!
        let count = try checkedCount(info)
        let start = dataOffset + info.offset
        return try Tensor.filling(info.dimensions.reversed()) { out in
            data.withUnsafeBytes { raw in
                let src = raw.baseAddress! + start
                let blocks = count / type.blockElements
                Parallel.forEachRange(blocks, grain: Swift.max(1, 4096 * 32 / type.blockElements)) { range in
                    for blk in range { Dequantize.block(type, src + blk * type.blockBytes, out.baseAddress! + blk * type.blockElements) }
                }
            }
        }
    }

    /// The number of elements, refused when the dimensions multiply past what any file could hold.
    func checkedCount(_ info: GGUFTensorInfo) throws -> Int {
        var count = 1
        for d in info.dimensions {
            let (p, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow, p <= data.count * 8 + 1024 else {
                throw GGUFError(path: path, offset: dataOffset + info.offset, message: "tensor \(info.name) has dimensions \(info.dimensions), too large for a file of \(data.count) bytes")
            }
            count = p
        }
        return count
    }
}

enum Dequantize {
    @inline(__always)
    static func half(_ p: UnsafeRawPointer) -> Float {
        Float(Float16(bitPattern: p.loadUnaligned(as: UInt16.self).littleEndian))
    }

    @inline(__always)
    static func block(_ type: GGUFType, _ p: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>) {
        switch type {
        case .f32:
            out.pointee = Float(bitPattern: p.loadUnaligned(as: UInt32.self).littleEndian)
        case .f16:
            out.pointee = half(p)
        case .bf16:
            out.pointee = Float(bitPattern: UInt32(p.loadUnaligned(as: UInt16.self).littleEndian) << 16)
        case .q8_0:
            let d = half(p)
            let q = (p + 2).assumingMemoryBound(to: Int8.self)
            for j in 0..<32 { out[j] = d * Float(q[j]) }
        case .q4_0:
            let d = half(p)
            let q = (p + 2).assumingMemoryBound(to: UInt8.self)
            for j in 0..<16 {
                out[j] = d * Float(Int(q[j] & 0x0F) - 8)
                out[j + 16] = d * Float(Int(q[j] >> 4) - 8)
            }
        case .q4_1:
            let d = half(p), m = half(p + 2)
            let q = (p + 4).assumingMemoryBound(to: UInt8.self)
            for j in 0..<16 {
                out[j] = d * Float(q[j] & 0x0F) + m
                out[j + 16] = d * Float(q[j] >> 4) + m
            }
        case .q4_K: q4K(p, out)
        case .q6_K: q6K(p, out)
        }
    }

    /// The 6-bit scale and min of sub-block j (of 8) from Q4_K's 12 packed bytes.
    @inline(__always)
    static func scaleMin(_ j: Int, _ s: UnsafePointer<UInt8>) -> (Float, Float) {
        if j < 4 { return (Float(s[j] & 63), Float(s[j + 4] & 63)) }
        return (Float((s[j + 4] & 0x0F) | ((s[j - 4] >> 6) << 4)), Float((s[j + 4] >> 4) | ((s[j] >> 6) << 4)))
    }

    static func q4K(_ p: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>) {
        let d = half(p), dmin = half(p + 2)
        let scales = (p + 4).assumingMemoryBound(to: UInt8.self)
        var q = (p + 16).assumingMemoryBound(to: UInt8.self)
        var y = out
        for pair in 0..<4 {
            let (s1, m1) = scaleMin(2 * pair, scales), (s2, m2) = scaleMin(2 * pair + 1, scales)
            let d1 = d * s1, mn1 = dmin * m1, d2 = d * s2, mn2 = dmin * m2
            for l in 0..<32 { y[l] = d1 * Float(q[l] & 0x0F) - mn1 }
            for l in 0..<32 { y[l + 32] = d2 * Float(q[l] >> 4) - mn2 }
            q += 32
            y += 64
        }
    }

    static func q6K(_ p: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>) {
        var ql = p.assumingMemoryBound(to: UInt8.self)
        var qh = (p + 128).assumingMemoryBound(to: UInt8.self)
        var sc = (p + 192).assumingMemoryBound(to: Int8.self)
        let d = half(p + 208)
        var y = out
        for _ in 0..<2 {
            for l in 0..<32 {
                let s = l / 16
                let q1 = Int((ql[l] & 0x0F) | ((qh[l] & 3) << 4)) - 32
                let q2 = Int((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32
                let q3 = Int((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32
                let q4 = Int((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32
                y[l] = d * Float(sc[s]) * Float(q1)
                y[l + 32] = d * Float(sc[s + 2]) * Float(q2)
                y[l + 64] = d * Float(sc[s + 4]) * Float(q3)
                y[l + 96] = d * Float(sc[s + 6]) * Float(q4)
            }
            y += 128
            ql += 64
            qh += 32
            sc += 8
        }
    }
}
