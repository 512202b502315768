import Foundation
import FinchText

/// A JSON parser over UTF-8 bytes that keeps the order of object keys and reports
/// where it stopped (byte offset), so a bad JSONL line is named by line and column.
struct JSONParser {
    struct Failure: Error {
        let offset: Int
        let message: String
    }

    let bytes: UnsafeBufferPointer<UInt8>
    var i: Int
    let end: Int
    /// Objects and arrays deeper than this are refused (a stack overflow is never an answer).
    static let maxDepth = 512

    init(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int = 0, to end: Int? = nil) {
        self.bytes = bytes
        self.i = start
        self.end = end ?? bytes.count
    }

    /// Parses one value that must fill the range (whitespace around it allowed).
    mutating func parseDocument() throws -> DataValue {
        skipSpace()
        let v = try value(depth: 0)
        skipSpace()
        guard i == end else { throw fail("unexpected text after the value") }
        return v
    }

    func fail(_ message: String) -> Failure { Failure(offset: i, message: message) }

    mutating func skipSpace() {
        while i < end {
            let c = bytes[i]
            guard c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D else { return }
            i += 1
        }
    }

    mutating func value(depth: Int) throws -> DataValue {
        guard i < end else { throw fail("the value is missing (the text ends)") }
        switch bytes[i] {
        case UInt8(ascii: "{"): return try object(depth: depth + 1)
        case UInt8(ascii: "["): return try array(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw fail("expected a value, found \(describe(bytes[i]))")
        }
    }

    func describe(_ c: UInt8) -> String {
        c >= 0x20 && c < 0x7F ? "'\(Character(Unicode.Scalar(c)))'" : String(format: "byte 0x%02X", c)
    }

    mutating func literal(_ word: StaticString) throws {
        let n = word.utf8CodeUnitCount
        guard i + n <= end else { throw fail("expected \(word)") }
        for k in 0..<n where bytes[i + k] != word.utf8Start[k] { throw fail("expected \(word)") }
        i += n
    }

    mutating func object(depth: Int) throws -> DataValue {
        guard depth <= JSONParser.maxDepth else { throw fail("nested more than \(JSONParser.maxDepth) deep") }
        i += 1
        var fields: [DataValue.Field] = []
        skipSpace()
        if i < end, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(fields) }
        while true {
            skipSpace()
            guard i < end, bytes[i] == UInt8(ascii: "\"") else { throw fail("expected a key in quotes") }
            let key = try string()
            skipSpace()
            guard i < end, bytes[i] == UInt8(ascii: ":") else { throw fail("expected ':' after the key \"\(key)\"") }
            i += 1
            skipSpace()
            let v = try value(depth: depth)
            if let k = fields.firstIndex(where: { $0.name == key }) { fields[k].value = v } else { fields.append(.init(key, v)) }
            skipSpace()
            guard i < end else { throw fail("the object is not closed (expected '}')") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(fields) }
            throw fail("expected ',' or '}' in an object, found \(describe(bytes[i]))")
        }
    }

    mutating func array(depth: Int) throws -> DataValue {
        guard depth <= JSONParser.maxDepth else { throw fail("nested more than \(JSONParser.maxDepth) deep") }
        i += 1
        var items: [DataValue] = []
        skipSpace()
        if i < end, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
        while true {
            skipSpace()
            items.append(try value(depth: depth))
            skipSpace()
            guard i < end else { throw fail("the array is not closed (expected ']')") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
            throw fail("expected ',' or ']' in an array, found \(describe(bytes[i]))")
        }
    }

    mutating func number() throws -> Double {
        let start = i
        if bytes[i] == UInt8(ascii: "-") { i += 1 }
        func digits() -> Int { let s = i; while i < end, bytes[i] >= 0x30, bytes[i] <= 0x39 { i += 1 }; return i - s }
        guard digits() > 0 else { throw fail("a number needs digits") }
        if i < end, bytes[i] == UInt8(ascii: ".") { i += 1; guard digits() > 0 else { throw fail("a number needs digits after '.'") } }
        if i < end, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            if i < end, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard digits() > 0 else { throw fail("a number needs digits in its exponent") }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
        guard let v = Double(text) else { i = start; throw fail("\(text) is not a number") }
        return v
    }

    /// A string in quotes: escapes decoded, UTF-8 checked.
    mutating func string() throws -> String {
        i += 1
        let start = i
        // Fast path: no escapes.
        while i < end, bytes[i] != UInt8(ascii: "\""), bytes[i] != UInt8(ascii: "\\"), bytes[i] >= 0x20 { i += 1 }
        if i < end, bytes[i] == UInt8(ascii: "\"") {
            let slice = UnsafeBufferPointer(rebasing: bytes[start..<i])
            guard let s = String(validating: slice, as: UTF8.self) else { i = start; throw fail("the string is not valid UTF-8") }
            i += 1
            return s
        }
        var out = Array(UnsafeBufferPointer(rebasing: bytes[start..<i]))
        while true {
            guard i < end else { throw fail("the string is not closed (expected '\"')") }
            let c = bytes[i]
            if c == UInt8(ascii: "\"") { i += 1; break }
            if c < 0x20 { throw fail("a control character (\(describe(c))) inside a string must be escaped") }
            if c != UInt8(ascii: "\\") { out.append(c); i += 1; continue }
            i += 1
            guard i < end else { throw fail("the string ends inside an escape") }
            let e = bytes[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if scalar >= 0xD800, scalar < 0xDC00 {
                    guard i + 1 < end, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
                        throw fail("a lone surrogate \\u\(String(scalar, radix: 16)) in a string")
                    }
                    i += 2
                    let low = try hex4()
                    guard low >= 0xDC00, low < 0xE000 else { throw fail("a lone surrogate in a string") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if scalar >= 0xDC00, scalar < 0xE000 {
                    throw fail("a lone surrogate \\u\(String(scalar, radix: 16)) in a string")
                }
                out.append(contentsOf: Array(String(Character(Unicode.Scalar(scalar)!)).utf8))
            default: i -= 1; throw fail("unknown escape \\\(Character(Unicode.Scalar(e)))")
            }
        }
        guard let s = String(validating: out, as: UTF8.self) else { i = start; throw fail("the string is not valid UTF-8") }
        return s
    }

    mutating func hex4() throws -> UInt32 {
        guard i + 4 <= end else { throw fail("\\u needs four hex digits") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[i]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            default: throw fail("\\u needs four hex digits")
            }
            v = v << 4 | d
            i += 1
        }
        return v
    }
}

/// JSON text for values (rows written to JSONL, values shown in templates).
public enum JSONWriter {
    public static func write(_ v: DataValue) -> String {
        var out = ""
        append(v, to: &out)
        return out
    }

    static func number(_ n: Double) -> String {
        if n == n.rounded(), abs(n) < 1e15 { return String(Int64(n)) }
        return n.isFinite ? "\(n)" : "null"
    }

    static func append(_ v: DataValue, to out: inout String) {
        switch v {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += number(n)
        case .string(let s): JSONString.quote(s, to: &out)
        case .array(let items):
            out += "["
            for (k, item) in items.enumerated() { if k > 0 { out += ", " }; append(item, to: &out) }
            out += "]"
        case .object(let fields):
            out += "{"
            for (k, f) in fields.enumerated() {
                if k > 0 { out += ", " }
                JSONString.quote(f.name, to: &out)
                out += ": "
                append(f.value, to: &out)
            }
            out += "}"
        }
    }

}

extension DataValue {
    /// Parses one JSON document (a request body, say); the error names the line and column.
    public static func parseJSON(_ bytes: [UInt8]) throws -> DataValue {
        try bytes.withUnsafeBufferPointer { b in
            var parser = JSONParser(b)
            do { return try parser.parseDocument() } catch let f as JSONParser.Failure {
                let (line, column, start, end) = Dataset.position(b, f.offset)
                throw DataError("line \(line), column \(column): \(f.message): \(Dataset.snippet(b, start, end, at: f.offset))")
            }
        }
    }
}
