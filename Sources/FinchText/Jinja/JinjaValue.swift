import Foundation

/// A value in a Jinja template, with Python's semantics as jinja2 gives them (templates are
/// written against Python: `str()`, `==`, truthiness and `len` behave as there).
public indirect enum JinjaValue: @unchecked Sendable {
    /// A name or item that does not exist; printing it gives "", using it otherwise is an error that says `reason`.
    case undefined(reason: String)
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([JinjaValue])
    case dict(JinjaDict)
    /// A namespace, a loop, a macro, a function: things with attributes or that can be called.
    case object(JinjaObject)

    /// Python's truthiness: empty, zero, none and undefined are false.
    public var isTruthy: Bool {
        switch self {
        case .undefined, .none: return false
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .double(let d): return d != 0
        case .string(let s): return !s.isEmpty
        case .list(let l): return !l.isEmpty
        case .dict(let d): return !d.isEmpty
        case .object: return true
        }
    }

    public var isUndefined: Bool { if case .undefined = self { return true }; return false }

    /// A number from JSON or Finch, where 1 and 1.0 are one value: whole numbers become ints, as
    /// Python's json gives them and templates compare and print them.
    public static func number(_ n: Double) -> JinjaValue {
        n.rounded() == n && abs(n) < 9e15 ? .int(Int(n)) : .double(n)
    }

    /// A chat message's role: the "role" string of a dict, nil for anything else.
    public var role: String? {
        if case .dict(let d) = self, case .string(let r)? = d["role"] { return r }
        return nil
    }

    /// What Python's `str()` gives, which is what `{{ x }}` prints.
    public var text: String {
        switch self {
        case .undefined: return ""
        case .string(let s): return s
        default: return repr
        }
    }

    /// What Python's `repr()` gives (how lists and dicts print their items).
    public var repr: String {
        switch self {
        case .undefined: return ""
        case .none: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .double(let d): return Self.pythonFloat(d)
        case .string(let s): return Self.pythonRepr(s)
        case .list(let l): return "[" + l.map(\.repr).joined(separator: ", ") + "]"
        case .dict(let d): return "{" + d.pairs.map { Self.pythonRepr($0.key) + ": " + $0.value.repr }.joined(separator: ", ") + "}"
        case .object(let o): return o.repr
        }
    }

    /// The kind as Python names it, for error messages.
    public var typeName: String {
        switch self {
        case .undefined: return "undefined"
        case .none: return "NoneType"
        case .bool: return "bool"
        case .int: return "int"
        case .double: return "float"
        case .string: return "str"
        case .list: return "list"
        case .dict: return "dict"
        case .object(let o): return o.typeName
        }
    }

    /// Python's float repr: shortest round-trip digits, ".0" on whole numbers, exponent beyond 1e16.
    static func pythonFloat(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d < 0 ? "-inf" : "inf" }
        return d.description
    }

    /// Python's string repr: single quotes unless the text has one and no double quote.
    static func pythonRepr(_ s: String) -> String {
        let quote: Character = s.contains("'") && !s.contains("\"") ? "\"" : "'"
        var out = String(quote)
        for u in s.unicodeScalars {
            switch u {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if Character(u) == quote { out += "\\" + String(quote) }
                else if u.value < 0x20 || u.value == 0x7F { out += String(format: "\\x%02x", u.value) }
                else { out.unicodeScalars.append(u) }
            }
        }
        out.append(quote)
        return out
    }

    /// A number as a Double, if it is one (bools count, as in Python).
    var number: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }

    /// Python's `==`.
    public static func equal(_ a: JinjaValue, _ b: JinjaValue) -> Bool {
        switch (a, b) {
        case (.undefined, .undefined), (.none, .none): return true
        case (.string(let x), .string(let y)): return x.unicodeScalars.elementsEqual(y.unicodeScalars)
        case (.int(let x), .int(let y)): return x == y
        case (.list(let x), .list(let y)): return x.count == y.count && zip(x, y).allSatisfy { equal($0, $1) }
        case (.dict(let x), .dict(let y)):
            return x.count == y.count && x.pairs.allSatisfy { p in y[p.key].map { equal(p.value, $0) } ?? false }
        case (.object(let x), .object(let y)): return x === y
        default:
            if let x = a.number, let y = b.number { return x == y }
            return false
        }
    }
}

/// A dict that keeps its keys' order (JSON objects and literals alike), keyed by strings.
public struct JinjaDict: @unchecked Sendable {
    public private(set) var keys: [String] = []
    private var values: [String: JinjaValue] = [:]

    public init() {}
    public init(_ pairs: [(String, JinjaValue)]) { for (k, v) in pairs { self[k] = v } }

    public subscript(key: String) -> JinjaValue? {
        get { values[key] }
        set {
            if values[key] == nil, newValue != nil { keys.append(key) }
            if newValue == nil, values[key] != nil { keys.removeAll { $0 == key } }
            values[key] = newValue
        }
    }
    public var count: Int { keys.count }
    public var isEmpty: Bool { keys.isEmpty }
    public var pairs: [(key: String, value: JinjaValue)] { keys.map { ($0, values[$0]!) } }
}

/// Something a template can hold that is not plain data.
public class JinjaObject: @unchecked Sendable {
    var typeName: String { "object" }
    var repr: String { "<\(typeName)>" }
    /// An attribute, or nil when it has none of that name.
    func attribute(_ name: String) -> JinjaValue? { nil }
    /// Calling it; nil means it cannot be called.
    func call(_ args: JinjaArguments, _ context: JinjaContext) throws -> JinjaValue? { nil }
}

/// `namespace(...)`: the one mutable thing a template has (`{% set ns.x = ... %}`), how values leave a loop.
final class JinjaNamespace: JinjaObject, @unchecked Sendable {
    var fields = JinjaDict()
    override var typeName: String { "Namespace" }
    override var repr: String { "<Namespace " + JinjaValue.dict(fields).repr + ">" }
    override func attribute(_ name: String) -> JinjaValue? { fields[name] }
}

/// A native function: a global (`range`, `raise_exception`) or a method bound to its value (`"a".upper`).
final class JinjaFunction: JinjaObject, @unchecked Sendable {
    let name: String
    let body: (JinjaArguments, JinjaContext) throws -> JinjaValue
    init(_ name: String, _ body: @escaping (JinjaArguments, JinjaContext) throws -> JinjaValue) {
        self.name = name
        self.body = body
    }
    override var typeName: String { "function" }
    override var repr: String { "<function \(name)>" }
    override func call(_ args: JinjaArguments, _ context: JinjaContext) throws -> JinjaValue? { try body(args, context) }
}

/// Positional and keyword arguments of a call, filter or test.
public struct JinjaArguments {
    var positional: [JinjaValue]
    var keywords: [(String, JinjaValue)]
    /// What is being called, for messages.
    var callee: String

    /// Argument `index` (or the keyword `name`); an error names it when neither was given.
    func get(_ index: Int, _ name: String) throws -> JinjaValue {
        guard let v = given(index, name) else { throw JinjaError("\(callee) needs its argument '\(name)'") }
        return v
    }

    /// Argument `index` (or the keyword `name`), or `fallback` when neither was given.
    func get(_ index: Int, _ name: String, default fallback: JinjaValue) -> JinjaValue { given(index, name) ?? fallback }

    private func given(_ index: Int, _ name: String) -> JinjaValue? {
        if let kw = keywords.first(where: { $0.0 == name }) { return kw.1 }
        return index < positional.count ? positional[index] : nil
    }

    func string(_ index: Int, _ name: String, _ fallback: String? = nil) throws -> String {
        let v = try fallback.map { get(index, name, default: .string($0)) } ?? get(index, name)
        guard case .string(let s) = v else { throw JinjaError("\(callee): '\(name)' must be a string, not \(v.typeName)") }
        return s
    }

    func int(_ index: Int, _ name: String, _ fallback: Int? = nil) throws -> Int {
        let v = try fallback.map { get(index, name, default: .int($0)) } ?? get(index, name)
        switch v {
        case .int(let i): return i
        case .bool(let b): return b ? 1 : 0
        default: throw JinjaError("\(callee): '\(name)' must be an integer, not \(v.typeName)")
        }
    }

    func bool(_ index: Int, _ name: String, _ fallback: Bool) -> Bool {
        get(index, name, default: .bool(fallback)).isTruthy
    }

    /// Errors unless at most `count` positional arguments and only the named keywords were given.
    func expect(atMost count: Int, keywords allowed: [String] = []) throws {
        if positional.count > count { throw JinjaError("\(callee) takes at most \(count) argument(s), got \(positional.count)") }
        if let bad = keywords.first(where: { !allowed.contains($0.0) }) { throw JinjaError("\(callee) got an unexpected keyword argument '\(bad.0)'") }
    }
}

/// What went wrong in a template, with the line it happened on.
public struct JinjaError: Error, CustomStringConvertible, Equatable {
    public var message: String
    /// The template line (from 1), when known.
    public var line: Int?
    /// True when the template itself said so (`raise_exception`).
    public var raised = false

    public init(_ message: String, line: Int? = nil) {
        self.message = message
        self.line = line
    }
    public var description: String { line.map { "line \($0): \(message)" } ?? message }
}
