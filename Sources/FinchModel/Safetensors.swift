import FinchIO
import FinchTensor
import Foundation

/// What went wrong reading a safetensors file, with the file and the field.
public struct SafetensorsError: Error, CustomStringConvertible {
    public let path: String
    public let message: String
    public var description: String { "\(path): \(message)" }
}

/// A safetensors file: an 8-byte little-endian header length, a JSON header naming each
/// tensor's dtype, shape and byte range, then the data. Memory-mapped; tensors are
/// converted to Float32 when asked for.
public final class SafetensorsFile: @unchecked Sendable {
    public struct Entry: Sendable {
        public let name: String
        public let dtype: String
        public let shape: [Int]
        public let begin: Int
        public let end: Int
    }

    public let path: String
    public let entries: [Entry]
    public let metadata: [String: String]
    private let data: Data
    private let dataStart: Int

    static let dtypeSizes = ["F32": 4, "F16": 2, "BF16": 2]

    public convenience init(path: String) throws {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
            throw SafetensorsError(path: path, message: "cannot read the file: \(error.localizedDescription)")
        }
        try self.init(data: data, path: path)
    }

    /// Parses safetensors bytes already in memory; `path` names them in errors.
    public init(data: Data, path: String) throws {
        self.path = path
        self.data = data
        func fail(_ m: String) -> SafetensorsError { SafetensorsError(path: path, message: m) }
        guard data.count >= 8 else { throw fail("too short to be a safetensors file (\(data.count) bytes)") }
        let headerSize = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard headerSize <= UInt64(data.count - 8), headerSize <= 100_000_000 else {
            throw fail("the header length \(headerSize) is larger than the file")
        }
        dataStart = 8 + Int(headerSize)
        let header: [String: Any]
        do {
            guard let h = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<dataStart)) as? [String: Any] else {
                throw fail("the header is not a JSON object")
            }
            header = h
        } catch let e as SafetensorsError { throw e } catch { throw fail("the header is not valid JSON: \(error.localizedDescription)") }
        var entries: [Entry] = []
        var metadata: [String: String] = [:]
        let available = data.count - dataStart
        for (name, value) in header {
            if name == "__metadata__" {
                for (k, v) in value as? [String: Any] ?? [:] { metadata[k] = v as? String ?? "\(v)" }
                continue
            }
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                  let shape = (info["shape"] as? [NSNumber])?.map(\.intValue), let offsets = (info["data_offsets"] as? [NSNumber])?.map(\.intValue),
                  offsets.count == 2 else {
                throw fail("\(name): needs dtype, shape and data_offsets [begin, end]")
            }
            guard let size = SafetensorsFile.dtypeSizes[dtype] else {
                throw fail("\(name) has dtype \(dtype); Finch reads \(SafetensorsFile.dtypeSizes.keys.sorted().joined(separator: ", "))")
            }
            var count = 1
            for d in shape {
                let (p, overflow) = count.multipliedReportingOverflow(by: d)
                guard d >= 0, !overflow, p <= available else { throw fail("\(name) has shape \(shape), larger than the file") }
                count = p
            }
            guard offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= available else {
                throw fail("\(name): data_offsets \(offsets) run outside the \(available) bytes of data")
            }
            guard offsets[1] - offsets[0] == count * size else {
                throw fail("\(name): data_offsets span \(offsets[1] - offsets[0]) bytes, but \(shape) in \(dtype) needs \(count * size)")
            }
            entries.append(Entry(name: name, dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1]))
        }
        entries.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
        // Empty tensors take no bytes and may share an offset with anything.
        let spans = entries.filter { $0.end > $0.begin }
        for (a, b) in zip(spans, spans.dropFirst()) where b.begin < a.end {
            throw fail("tensors \(a.name) and \(b.name) overlap")
        }
        self.entries = entries
        self.metadata = metadata
    }

    /// The tensor named `name`, converted to Float32.
    public func tensor(named name: String) throws -> Tensor {
        guard let e = entries.first(where: { $0.name == name }) else {
            throw SafetensorsError(path: path, message: "no tensor named \(name)")
        }
        return try tensor(e)
    }

    public func tensor(_ e: Entry) throws -> Tensor {
        try Tensor.filling(e.shape) { out in
            data.withUnsafeBytes { raw in
                let src = raw.baseAddress! + dataStart + e.begin
                let o = out.baseAddress!
                Parallel.forEachRange(out.count, grain: 1 << 16) { r in
                    switch e.dtype {
                    case "F32": for i in r { o[i] = Float(bitPattern: src.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self).littleEndian) }
                    case "F16": for i in r { o[i] = Float(Float16(bitPattern: src.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self).littleEndian)) }
                    default: for i in r { o[i] = Float(bitPattern: UInt32(src.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self).littleEndian) << 16) }
                    }
                }
            }
        }
    }

    /// Writes tensors (in the given order) as F32 or F16, atomically.
    public static func write(path: String, tensors: [(name: String, tensor: Tensor)], dtype: String = "F32",
                             metadata: [String: String] = ["format": "pt"]) throws {
        try write(path: path, tensors: tensors.map { ($0.name, DeferredTensor($0.tensor)) }, dtype: dtype, metadata: metadata)
    }

    /// `write` with each tensor made only when it is written, one at a time.
    public static func write(path: String, tensors: [(name: String, tensor: DeferredTensor)], dtype: String = "F32",
                             metadata: [String: String] = ["format": "pt"]) throws {
        guard dtype == "F32" || dtype == "F16" else { throw SafetensorsError(path: path, message: "Finch writes F32 or F16, not \(dtype)") }
        let size = dtype == "F32" ? 4 : 2
        var header: [String: Any] = ["__metadata__": metadata]
        var offset = 0
        for (name, t) in tensors {
            header[name] = ["dtype": dtype, "shape": t.shape, "data_offsets": [offset, offset + t.count * size]]
            offset += t.count * size
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // Pad with spaces so the data starts 8-byte aligned, as the format recommends.
        json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))
        try AtomicFile.write(to: path) { file in
            var length = UInt64(json.count).littleEndian
            file.write(Data(bytes: &length, count: 8))
            file.write(json)
            for (name, deferred) in tensors {
                let values = try deferred.made(name) { SafetensorsError(path: path, message: $0) }.scalars
                if size == 4 {
                    values.withUnsafeBytes { file.write(Data($0)) }
                } else {
                    let halves = values.map { Float16($0).bitPattern.littleEndian }
                    halves.withUnsafeBytes { file.write(Data($0)) }
                }
            }
        }
    }
}
