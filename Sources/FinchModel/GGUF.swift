import Foundation

/// A metadata value of a GGUF file.
public enum GGUFValue: Sendable, Equatable {
    case uint(UInt64), int(Int64), float(Double), bool(Bool), string(String)
    case array([GGUFValue])

    public var int: Int? {
        switch self {
        case .uint(let v): return v <= UInt64(Int.max) ? Int(v) : nil
        case .int(let v): return Int(v)
        default: return nil
        }
    }
    public var double: Double? {
        switch self {
        case .float(let v): return v
        case .uint(let v): return Double(v)
        case .int(let v): return Double(v)
        default: return nil
        }
    }
    public var string: String? { if case .string(let s) = self { return s }; return nil }
    public var bool: Bool? { if case .bool(let b) = self { return b }; return nil }
    public var array: [GGUFValue]? { if case .array(let a) = self { return a }; return nil }
    public var strings: [String]? { array?.compactMap(\.string) }
    public var ints: [Int]? { array?.compactMap(\.int) }
}

/// Where one tensor's data sits in a GGUF file.
public struct GGUFTensorInfo: Sendable {
    public let name: String
    /// Dimensions as GGUF stores them: the fastest-varying first.
    public let dimensions: [Int]
    public let type: UInt32
    /// Offset from the start of the data section.
    public let offset: Int
}

/// What went wrong reading a GGUF file, with the file and the byte offset.
public struct GGUFError: Error, CustomStringConvertible {
    public let path: String
    public let offset: Int
    public let message: String
    public var description: String { "\(path): \(message) (at byte \(offset))" }
}

/// A GGUF file (version 2 or 3): its metadata and tensor table, with the file
/// memory-mapped so tensor data is read in place, never copied whole.
public final class GGUFFile: @unchecked Sendable {
    public let path: String
    public let version: UInt32
    public let metadata: [String: GGUFValue]
    /// Metadata keys in file order.
    public let keys: [String]
    public let tensors: [GGUFTensorInfo]
    /// Offset of the data section (aligned to general.alignment).
    public let dataOffset: Int
    /// The mapped file.
    public let data: Data

    public convenience init(path: String) throws {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw GGUFError(path: path, offset: 0, message: "cannot read the file: \(error.localizedDescription)")
        }
        try self.init(data: data, path: path)
    }

    /// Parses GGUF bytes already in memory; `path` names them in errors.
    public init(data: Data, path: String) throws {
        self.path = path
        self.data = data
        var r = Reader(data: data, path: path)
        guard try r.bytes(4) == Array("GGUF".utf8) else {
            throw GGUFError(path: path, offset: 0, message: "not a GGUF file (no GGUF magic)")
        }
        version = try r.u32()
        guard version == 2 || version == 3 else {
            throw GGUFError(path: path, offset: 4, message: "unsupported GGUF version \(version) (2 and 3 are supported)")
        }
        let tensorCount = try r.length("tensor count")
        let kvCount = try r.length("metadata count")
        var metadata: [String: GGUFValue] = [:]
        var keys: [String] = []
        for _ in 0..<kvCount {
            let key = try r.string()
            let type = try r.u32()
            metadata[key] = try r.value(type, key: key)
            keys.append(key)
        }
        var tensors: [GGUFTensorInfo] = []
        tensors.reserveCapacity(tensorCount)
        for _ in 0..<tensorCount {
            let at = r.offset
            let name = try r.string()
            let rank = try r.u32()
            guard rank <= 8 else { throw GGUFError(path: path, offset: at, message: "tensor \(name) has \(rank) dimensions") }
            var dims: [Int] = []
            for _ in 0..<rank { dims.append(try r.count("a dimension of \(name)")) }
            let type = try r.u32()
            let offset = try r.count("the offset of \(name)")
            tensors.append(GGUFTensorInfo(name: name, dimensions: dims, type: type, offset: offset))
        }
        let alignment = metadata["general.alignment"]?.int ?? 32
        guard alignment > 0, alignment & (alignment - 1) == 0 else {
            throw GGUFError(path: path, offset: r.offset, message: "general.alignment \(alignment) is not a power of two")
        }
        dataOffset = (r.offset + alignment - 1) / alignment * alignment
        self.metadata = metadata
        self.keys = keys
        self.tensors = tensors
        try checkTensorData()
    }

    /// Every tensor has a known type, whole blocks, and data inside the file that no other tensor's overlaps.
    private func checkTensorData() throws {
        var spans: [(start: Int, end: Int, name: String)] = []
        for info in tensors {
            guard let type = GGUFType(rawValue: info.type) else {
                let known = GGUFType.allCases.map(\.name).joined(separator: ", ")
                throw GGUFError(path: path, offset: dataOffset, message: "tensor \(info.name) has type \(info.type), which Finch cannot read (it reads \(known))")
            }
            let count = try checkedCount(info)
            guard count % type.blockElements == 0, (info.dimensions.first ?? 1) % type.blockElements == 0 else {
                throw GGUFError(path: path, offset: dataOffset, message: "tensor \(info.name) has rows of \(info.dimensions.first ?? 1) values, not whole blocks of \(type.blockElements) for \(type.name)")
            }
            let start = dataOffset + info.offset, end = start + type.byteCount(elements: count)
            guard end <= data.count else {
                throw GGUFError(path: path, offset: start, message: "tensor \(info.name) (\(end - start) bytes at \(start)) runs past the end of the file (\(data.count) bytes)")
            }
            spans.append((start, end, info.name))
        }
        spans.sort { $0.start < $1.start }
        for (a, b) in zip(spans, spans.dropFirst()) where b.start < a.end {
            throw GGUFError(path: path, offset: b.start, message: "tensors \(a.name) and \(b.name) overlap")
        }
        if let dup = Dictionary(grouping: tensors, by: \.name).first(where: { $0.value.count > 1 }) {
            throw GGUFError(path: path, offset: 0, message: "two tensors are named \(dup.key)")
        }
    }

    /// A metadata value that must be present.
    public func require(_ key: String) throws -> GGUFValue {
        guard let v = metadata[key] else { throw GGUFError(path: path, offset: 0, message: "missing metadata key \(key)") }
        return v
    }
}

/// Bounds-checked little-endian reads over the mapped file.
private struct Reader {
    let data: Data
    let path: String
    var offset = 0

    func fail(_ message: String) -> GGUFError { GGUFError(path: path, offset: offset, message: message) }

    mutating func bytes(_ n: Int) throws -> [UInt8] {
        guard n >= 0, offset + n <= data.count else { throw fail("the file ends early (needed \(n) more bytes)") }
        defer { offset += n }
        return [UInt8](data[data.startIndex + offset ..< data.startIndex + offset + n])
    }

    mutating func load<T: FixedWidthInteger>(_: T.Type) throws -> T {
        let size = MemoryLayout<T>.size
        guard offset + size <= data.count else { throw fail("the file ends early") }
        defer { offset += size }
        return data.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
    }

    mutating func u32() throws -> UInt32 { try load(UInt32.self) }

    /// A u64 count or size, refused when it cannot fit in the file.
    mutating func count(_ what: String) throws -> Int {
        let v = try load(UInt64.self)
        guard v <= UInt64(data.count) * 8 + 1_000_000 else { throw fail("\(what) is \(v), impossible for a file of \(data.count) bytes") }
        return Int(v)
    }

    /// A u64 count of things stored after this point, each at least a byte: at most the bytes left.
    mutating func length(_ what: String) throws -> Int {
        let at = offset
        let v = try load(UInt64.self)
        guard v <= UInt64(data.count - offset) else {
            offset = at
            throw fail("\(what) is \(v), more than the \(data.count - offset - 8) bytes left in the file")
        }
        return Int(v)
    }

    mutating func string() throws -> String {
        let n = try length("a string length")
        guard offset + n <= data.count else { throw fail("a string of \(n) bytes runs past the end of the file") }
        defer { offset += n }
        return data.withUnsafeBytes { raw in
            String(decoding: UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + n)]), as: UTF8.self)
        }
    }

    mutating func value(_ type: UInt32, key: String) throws -> GGUFValue {
        switch type {
        case 0: return .uint(UInt64(try load(UInt8.self)))
        case 1: return .int(Int64(try load(Int8.self)))
        case 2: return .uint(UInt64(try load(UInt16.self)))
        case 3: return .int(Int64(try load(Int16.self)))
        case 4: return .uint(UInt64(try load(UInt32.self)))
        case 5: return .int(Int64(try load(Int32.self)))
        case 6: return .float(Double(Float(bitPattern: try load(UInt32.self))))
        case 7: return .bool(try load(UInt8.self) != 0)
        case 8: return .string(try string())
        case 9:
            let elementType = try u32()
            guard elementType != 9 else { throw fail("\(key): arrays of arrays are not supported") }
            let n = try length("the length of \(key)")
            var items: [GGUFValue] = []
            items.reserveCapacity(n)
            for _ in 0..<n { items.append(try value(elementType, key: key)) }
            return .array(items)
        case 10: return .uint(try load(UInt64.self))
        case 11: return .int(try load(Int64.self))
        case 12: return .float(Double(bitPattern: try load(UInt64.self)))
        default: throw fail("\(key) has unknown value type \(type)")
        }
    }
}
