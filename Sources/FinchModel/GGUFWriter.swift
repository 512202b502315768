import FinchIO
import FinchTensor
import Foundation

/// Writes GGUF version 3 files: metadata, then the tensor table, then the tensor data,
/// each tensor aligned to `general.alignment` (32). Tensors are written as F32, F16, Q8_0
/// (blocks of 32 along the fastest axis: an f16 scale d = max|x| / 127 and 32 int8 values
/// round(x / d)), Q4_0 or Q4_K (Quantize); one-dimensional tensors (norms, biases) stay F32,
/// and a row that is not a whole number of blocks takes the next format that fits it (Q4_K's
/// 256 → Q4_0's 32 → F32), as llama.cpp's quantizer falls back.
public enum GGUFWriter {
    public static let alignment = 32

    /// A tensor to write, with its GGUF name and the type it should be stored in.
    public struct Entry {
        public let name: String
        public let tensor: DeferredTensor
        public let type: GGUFType
        public var shape: [Int] { tensor.shape }

        public init(name: String, tensor: Tensor, type: GGUFType) {
            self.init(name: name, tensor: DeferredTensor(tensor), type: type)
        }

        public init(name: String, tensor: DeferredTensor, type: GGUFType) {
            self.name = name
            self.tensor = tensor
            let shape = tensor.shape
            let row = shape.count < 2 ? 0 : shape[shape.count - 1]
            var type = shape.count < 2 ? .f32 : type
            if type == .q4_K, row % 256 != 0 { type = .q4_0 }
            if [.q4_0, .q8_0].contains(type), row % 32 != 0 { type = .f32 }
            self.type = type
        }
    }

    /// Writes the file atomically.
    public static func write(path: String, metadata: [(String, GGUFValue)], tensors: [Entry]) throws {
        for e in tensors where ![.f32, .f16, .q8_0, .q4_0, .q4_K].contains(e.type) {
            throw GGUFError(path: path, offset: 0, message: "Finch writes F32, F16, Q8_0, Q4_0 and Q4_K tensors, not \(e.type.name) (\(e.name))")
        }
        var header = ByteBuffer()
        header.append(Array("GGUF".utf8))
        header.append(UInt32(3))
        header.append(UInt64(tensors.count))
        header.append(UInt64(metadata.count))
        for (key, value) in metadata {
            header.appendString(key)
            try header.appendValue(value, key: key, path: path)
        }
        var offset = 0
        var offsets: [Int] = []
        for e in tensors {
            header.appendString(e.name)
            let dims = e.shape.reversed()
            header.append(UInt32(dims.count))
            for d in dims { header.append(UInt64(d)) }
            header.append(e.type.rawValue)
            header.append(UInt64(offset))
            offsets.append(offset)
            offset += align(e.type.byteCount(elements: e.tensor.count))
        }
        header.bytes += [UInt8](repeating: 0, count: align(header.bytes.count) - header.bytes.count)
        try AtomicFile.write(to: path) { file in
            file.write(Data(header.bytes))
            for e in tensors {
                let t = try e.tensor.made(e.name) { GGUFError(path: path, offset: 0, message: $0) }
                var data = encode(t.scalars, as: e.type)
                data += [UInt8](repeating: 0, count: align(data.count) - data.count)
                file.write(Data(data))
            }
        }
    }

    static func align(_ n: Int) -> Int { (n + alignment - 1) / alignment * alignment }

    /// The values' bytes in a GGUF type.
    static func encode(_ values: [Float], as type: GGUFType) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: type.byteCount(elements: values.count))
        values.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBytes { dst in
                let base = dst.baseAddress!
                switch type {
                case .f32:
                    for (i, v) in src.enumerated() { base.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: i * 4, as: UInt32.self) }
                case .f16:
                    for (i, v) in src.enumerated() { base.storeBytes(of: Float16(v).bitPattern.littleEndian, toByteOffset: i * 2, as: UInt16.self) }
                case .q8_0:
                    Parallel.forEachRange(src.count / 32, grain: 1024) { blocks in
                        for b in blocks {
                            let block = base + b * 34
                            let d = QuantizedMatrix.quantizeBlock(src.baseAddress! + b * 32, into: (block + 2).assumingMemoryBound(to: Int8.self))
                            block.storeBytes(of: Float16(d).bitPattern.littleEndian, as: UInt16.self)
                        }
                    }
                case .q4_0, .q4_K:
                    let (n, bytes) = (type.blockElements, type.blockBytes)
                    Parallel.forEachRange(src.count / n, grain: 64) { blocks in
                        for b in blocks {
                            if type == .q4_0 { Quantize.q4_0(src.baseAddress! + b * n, base + b * bytes) }
                            else { Quantize.q4_K(src.baseAddress! + b * n, base + b * bytes) }
                        }
                    }
                default:
                    break
                }
            }
        }
        return out
    }
}

/// Little-endian bytes for the GGUF header.
struct ByteBuffer {
    var bytes: [UInt8] = []

    mutating func append(_ b: [UInt8]) { bytes += b }
    mutating func append<T: FixedWidthInteger>(_ v: T) {
        withUnsafeBytes(of: v.littleEndian) { bytes += $0 }
    }
    mutating func appendString(_ s: String) {
        append(UInt64(s.utf8.count))
        bytes += Array(s.utf8)
    }

    /// Integers as 32 bits when they fit (what llama.cpp expects of counts and ids), else 64.
    static func typeCode(_ v: GGUFValue) -> UInt32 {
        switch v {
        case .uint(let u): return u <= UInt64(UInt32.max) ? 4 : 10
        case .int(let i): return i >= Int64(Int32.min) && i <= Int64(Int32.max) ? 5 : 11
        case .float: return 6
        case .bool: return 7
        case .string: return 8
        case .array: return 9
        }
    }

    mutating func appendValue(_ v: GGUFValue, key: String, path: String) throws {
        append(ByteBuffer.typeCode(v))
        try appendPayload(v, as: ByteBuffer.typeCode(v), key: key, path: path)
    }

    private mutating func appendPayload(_ v: GGUFValue, as code: UInt32, key: String, path: String) throws {
        switch (v, code) {
        case (.uint(let u), 4): append(UInt32(u))
        case (.uint(let u), 10): append(u)
        case (.int(let i), 5): append(Int32(i))
        case (.int(let i), 11): append(i)
        case (.uint(let u), 5): append(Int32(truncatingIfNeeded: u))
        case (.uint(let u), 11): append(Int64(truncatingIfNeeded: u))
        case (.int(let i), 4): append(UInt32(truncatingIfNeeded: i))
        case (.int(let i), 10): append(UInt64(truncatingIfNeeded: i))
        case (.float(let f), 6): append(Float(f).bitPattern)
        case (.bool(let b), 7): append(UInt8(b ? 1 : 0))
        case (.string(let s), 8): appendString(s)
        case (.array(let items), 9):
            // One element type for the whole array: the widest any element needs.
            let codes = Set(items.map(ByteBuffer.typeCode))
            var element: UInt32 = items.isEmpty ? 4 : ByteBuffer.typeCode(items[0])
            if codes.count > 1 {
                guard codes.isSubset(of: [4, 5, 10, 11]) else {
                    throw GGUFError(path: path, offset: 0, message: "\(key): an array must hold values of one type")
                }
                let signed = !codes.isDisjoint(with: [5, 11]), wide = !codes.isDisjoint(with: [10, 11])
                element = signed ? (wide ? 11 : 5) : (wide ? 10 : 4)
            }
            guard element != 9 else { throw GGUFError(path: path, offset: 0, message: "\(key): arrays of arrays are not supported") }
            append(element)
            append(UInt64(items.count))
            for item in items { try appendPayload(item, as: element, key: key, path: path) }
        default:
            throw GGUFError(path: path, offset: 0, message: "\(key): cannot write \(v) as type \(code)")
        }
    }
}
