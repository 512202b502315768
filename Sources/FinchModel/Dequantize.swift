import FinchTensor
import Foundation

/// GGUF tensor types Finch reads, with their block layouts.
///   F32:  4-byte floats.   F16: 2-byte halves.
///   Q8_0: blocks of 32: f16 scale d, 32 × int8 q;            x = d·q
///   Q4_1: blocks of 32: f16 scale d, f16 min m, 16 bytes;   x[j] = d·(b[j] & 15) + m, x[j+16] = d·(b[j] >> 4) + m
public enum GGUFType: UInt32, Sendable {
    case f32 = 0, f16 = 1, q4_1 = 3, q8_0 = 8

    var blockElements: Int { self == .f32 || self == .f16 ? 1 : 32 }
    var blockBytes: Int {
        switch self {
        case .f32: return 4
        case .f16: return 2
        case .q4_1: return 20
        case .q8_0: return 34
        }
    }
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

    public func tensor(_ info: GGUFTensorInfo) throws -> Tensor {
        guard let type = GGUFType(rawValue: info.type) else {
            throw GGUFError(path: path, offset: dataOffset + info.offset, message: "tensor \(info.name) has type \(info.type), which Finch cannot read yet")
        }
        let count = info.dimensions.reduce(1, *)
        guard count % type.blockElements == 0 else {
            throw GGUFError(path: path, offset: dataOffset + info.offset, message: "tensor \(info.name) has \(count) elements, not whole blocks of \(type.blockElements)")
        }
        let bytes = count / type.blockElements * type.blockBytes
        let start = dataOffset + info.offset
        guard start >= 0, start + bytes <= data.count else {
            throw GGUFError(path: path, offset: start, message: "tensor \(info.name) (\(bytes) bytes) runs past the end of the file")
        }
        return try Tensor.filling(info.dimensions.reversed()) { out in
            data.withUnsafeBytes { raw in
                let src = raw.baseAddress! + start
                let blocks = count / type.blockElements
                Parallel.forEachRange(blocks, grain: 4096) { range in
                    for blk in range { Dequantize.block(type, src + blk * type.blockBytes, out.baseAddress! + blk * type.blockElements) }
                }
            }
        }
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
        case .q8_0:
            let d = half(p)
            let q = (p + 2).assumingMemoryBound(to: Int8.self)
            for j in 0..<32 { out[j] = d * Float(q[j]) }
        case .q4_1:
            let d = half(p), m = half(p + 2)
            let q = (p + 4).assumingMemoryBound(to: UInt8.self)
            for j in 0..<16 {
                out[j] = d * Float(q[j] & 0x0F) + m
                out[j + 16] = d * Float(q[j] >> 4) + m
            }
        }
    }
}
