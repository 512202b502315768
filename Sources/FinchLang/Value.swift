import Foundation

/// A Finch value. Numbers and booleans are stored inline, so arithmetic
/// and comparisons never touch a reference count.
public enum Value {
    case `nil`
    case bool(Bool)
    case number(Double)
    case string(String)
    case list(ListRef)
    case dict(DictRef)
    case range(RangeValue)
    case function(Closure)
    case native(NativeFunction)
    case object(NativeObject)
    /// A captured variable's box; lives only in frame slots, never in user values.
    case cell(Cell)

    /// The name of this value's type, as `type(x)` reports it.
    public var typeName: String {
        switch self {
        case .nil: return "nil"
        case .bool: return "bool"
        case .number: return "number"
        case .string: return "string"
        case .list: return "list"
        case .dict: return "dict"
        case .range: return "range"
        case .function, .native: return "function"
        case .object(let o): return o.type.name
        case .cell: return "cell"
        }
    }

    /// Truthiness: nil, false, 0, "" and empty containers are false.
    /// Whether this is nil.
    public var isNil: Bool { if case .nil = self { return true }; return false }

    @inline(__always) public var isTruthy: Bool {
        switch self {
        case .nil: return false
        case .bool(let b): return b
        case .number(let n): return n != 0
        case .string(let s): return !s.isEmpty
        case .list(let l): return !l.items.isEmpty
        case .dict(let d): return !d.isEmpty
        case .range(let r): return r.count > 0
        default: return true
        }
    }

    /// Makes a list value.
    public static func list(_ items: [Value]) -> Value { .list(ListRef(items)) }
}

/// A mutable list shared by reference, as in Python and JavaScript.
public final class ListRef {
    public var items: [Value]
    public init(_ items: [Value]) { self.items = items }
}

/// A dictionary with string/number/bool keys that keeps insertion order.
public final class DictRef {
    public private(set) var keys: [Value] = []
    private var index: [HashKey: Int] = [:]
    public private(set) var values: [Value] = []

    public init() {}

    /// Builds from ordered pairs (later duplicates overwrite).
    public init(_ pairs: [(Value, Value)]) throws {
        for (k, v) in pairs { try set(k, v) }
    }

    public var isEmpty: Bool { keys.isEmpty }
    public var count: Int { keys.count }

    public func get(_ key: Value) throws -> Value? {
        guard let i = index[try HashKey(key)] else { return nil }
        return values[i]
    }

    public func set(_ key: Value, _ value: Value) throws {
        let h = try HashKey(key)
        if let i = index[h] { values[i] = value; return }
        index[h] = keys.count
        keys.append(key)
        values.append(value)
    }

    /// Removes a key; returns its value.
    @discardableResult
    public func remove(_ key: Value) throws -> Value? {
        guard let i = index.removeValue(forKey: try HashKey(key)) else { return nil }
        let v = values[i]
        keys.remove(at: i)
        values.remove(at: i)
        for (k, j) in index where j > i { index[k] = j - 1 }
        return v
    }

    /// Convenience for natives: string-keyed lookup.
    public subscript(name: String) -> Value? { (try? get(.string(name))) ?? nil }
}

/// Keys a dict can hold: strings, numbers, booleans and nil.
struct HashKey: Hashable {
    let kind: UInt8
    let number: Double
    let text: String

    init(_ v: Value) throws {
        switch v {
        case .nil: kind = 0; number = 0; text = ""
        case .bool(let b): kind = 1; number = b ? 1 : 0; text = ""
        case .number(let n): kind = 2; number = n; text = ""
        case .string(let s): kind = 3; number = 0; text = s
        default: throw FinchError(.runtime, "a \(v.typeName) cannot be a dict key (use a string, number or bool)")
        }
    }
}

/// start..<end by step, iterated lazily.
public final class RangeValue {
    public let start: Double, end: Double, step: Double
    public init(start: Double, end: Double, step: Double = 1) {
        self.start = start
        self.end = end
        self.step = step
    }
    public var count: Int {
        guard step != 0 else { return 0 }
        var span = (end - start) / step
        if span.isInfinite, step.isFinite { span = end / step - start / step }  // end - start overflowed
        let n = span.rounded(.up)
        guard n > 0 else { return 0 }
        return n < 9e15 ? Int(n) : 9_000_000_000_000_000  // endless in practice; never materialised whole
    }
    public func element(_ i: Int) -> Double { start + Double(i) * step }
}

/// A captured variable shared between a frame and the closures that use it.
public final class Cell {
    public var value: Value
    init(_ value: Value) { self.value = value }
}

/// A Finch function value: its declaration and the variables it captured.
public final class Closure {
    let decl: FunctionDecl
    let upvalues: [Cell]
    init(_ decl: FunctionDecl, upvalues: [Cell]) {
        self.decl = decl
        self.upvalues = upvalues
    }
    public var name: String { decl.name }
}

/// A host object with a registered type (a tensor, a dataset, a model ...).
public final class NativeObject {
    public let type: NativeType
    public let value: AnyObject
    public init(type: NativeType, value: AnyObject) {
        self.type = type
        self.value = value
    }
}

extension Value: CustomStringConvertible {
    /// How `print` shows a value: strings as they are, everything else as its repr.
    public var description: String {
        if case .string(let s) = self { return s }
        return repr
    }

    /// How the REPL shows a value: strings quoted, numbers without a needless ".0".
    /// A list or dict that contains itself shows `[...]` / `{...}` there, as in Python.
    public var repr: String {
        var visiting = Set<ObjectIdentifier>()
        return repr(visiting: &visiting)
    }

    private func repr(visiting: inout Set<ObjectIdentifier>) -> String {
        switch self {
        case .list(let l):
            guard visiting.insert(ObjectIdentifier(l)).inserted else { return "[...]" }
            defer { visiting.remove(ObjectIdentifier(l)) }
            var parts: [String] = []
            for item in l.items { parts.append(item.repr(visiting: &visiting)) }
            return "[" + parts.joined(separator: ", ") + "]"
        case .dict(let d):
            if d.isEmpty { return "{}" }
            guard visiting.insert(ObjectIdentifier(d)).inserted else { return "{...}" }
            defer { visiting.remove(ObjectIdentifier(d)) }
            var parts: [String] = []
            for (k, v) in zip(d.keys, d.values) { parts.append("\(k.repr(visiting: &visiting)): \(v.repr(visiting: &visiting))") }
            return "{" + parts.joined(separator: ", ") + "}"
        default:
            return reprLeaf
        }
    }

    private var reprLeaf: String {
        switch self {
        case .nil: return "nil"
        case .bool(let b): return b ? "true" : "false"
        case .number(let n): return Value.format(n)
        case .string(let s): return Value.quote(s)
        case .list, .dict: return repr
        case .range(let r):
            let base = "\(Value.format(r.start))..\(Value.format(r.end))"
            return r.step == 1 ? base : "range(\(Value.format(r.start)), \(Value.format(r.end)), \(Value.format(r.step)))"
        case .function(let c): return "<fn \(c.decl.name)>"
        case .native(let f): return "<native fn \(f.name)>"
        case .object(let o): return o.type.describe?(o) ?? "<\(o.type.name)>"
        case .cell(let c): return c.value.repr
        }
    }

    /// Integers (exact below 2^53) print without ".0"; other numbers as the shortest round-trip form.
    public static func format(_ n: Double) -> String {
        if n.isNaN { return "nan" }
        if n.isInfinite { return n > 0 ? "inf" : "-inf" }
        if n == n.rounded(), abs(n) <= 9_007_199_254_740_992 { return String(Int64(n)) }
        return "\(n)"
    }

    /// A string literal that reads back as `s`.
    public static func quote(_ s: String) -> String {
        var out = "\""
        var scalars = s.unicodeScalars.makeIterator()
        var next = scalars.next()
        while let ch = next {
            next = scalars.next()
            switch ch {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case "$": out += next == "{" ? "\\$" : "$"  // "${" would read back as interpolation
            default:
                if ch.value < 0x20 { out += "\\u{\(String(ch.value, radix: 16))}" } else { out.unicodeScalars.append(ch) }
            }
        }
        return out + "\""
    }
}

/// Equality as `==` sees it: by value for numbers, strings, lists and dicts; by identity for the rest.
/// Containers nested deeper than 1000 levels (a list inside itself) compare by identity.
func valuesEqual(_ a: Value, _ b: Value, depth: Int = 0) -> Bool {
    if depth > 1000 {
        switch (a, b) {
        case let (.list(x), .list(y)): return x === y
        case let (.dict(x), .dict(y)): return x === y
        default: break
        }
    }
    switch (a, b) {
    case (.nil, .nil): return true
    case let (.bool(x), .bool(y)): return x == y
    case let (.number(x), .number(y)): return x == y
    case let (.string(x), .string(y)): return x == y
    case let (.list(x), .list(y)):
        return x === y || (x.items.count == y.items.count && zip(x.items, y.items).allSatisfy { valuesEqual($0, $1, depth: depth + 1) })
    case let (.dict(x), .dict(y)):
        if x === y { return true }
        guard x.count == y.count else { return false }
        for (k, v) in zip(x.keys, x.values) {
            guard let w = (try? y.get(k)) ?? nil, valuesEqual(v, w, depth: depth + 1) else { return false }
        }
        return true
    case let (.range(x), .range(y)): return x.start == y.start && x.end == y.end && x.step == y.step
    case let (.function(x), .function(y)): return x === y
    case let (.native(x), .native(y)): return x === y
    case let (.object(x), .object(y)): return x === y || x.value === y.value
    default: return false
    }
}
