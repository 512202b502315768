/// The one way native code reaches the language: functions and types with
/// named, typed, defaulted parameters and docstrings. help(), completion,
/// docs/reference.md and argument checking all read from here.

/// What a parameter accepts.
public indirect enum ParamType: Sendable, Equatable {
    case any, number, int, bool, string, list, dict, range, function
    /// An object of a registered native type, by name.
    case object(String)
    /// The value or nil.
    case optional(ParamType)
    /// Either of several types.
    case oneOf([ParamType])

    /// How the type reads in signatures and errors.
    public var name: String {
        switch self {
        case .any: return "any"
        case .number: return "number"
        case .int: return "int"
        case .bool: return "bool"
        case .string: return "string"
        case .list: return "list"
        case .dict: return "dict"
        case .range: return "range"
        case .function: return "function"
        case .object(let n): return n
        case .optional(let t): return t.name + "?"
        case .oneOf(let ts): return ts.map(\.name).joined(separator: " or ")
        }
    }

    func accepts(_ v: Value) -> Bool {
        switch (self, v) {
        case (.any, _): return true
        case (.number, .number), (.bool, .bool), (.string, .string), (.list, .list), (.dict, .dict), (.range, .range): return true
        case (.int, .number(let n)): return n == n.rounded() && abs(n) < 9_007_199_254_740_992
        case (.function, .function), (.function, .native): return true
        case (.object(let n), .object(let o)): return o.type.name == n
        case (.optional, .nil): return true
        case (.optional(let t), _): return t.accepts(v)
        case (.oneOf(let ts), _): return ts.contains { $0.accepts(v) }
        default: return false
        }
    }
}

/// One parameter of a native function.
public struct Param: Sendable {
    public let name: String
    public let type: ParamType
    /// The default, or nil when the argument is required.
    public let defaultValue: DefaultValue?
    public let doc: String

    public init(_ name: String, _ type: ParamType = .any, default defaultValue: DefaultValue? = nil, doc: String = "") {
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
        self.doc = doc
    }
}

/// A parameter default that can be written into signatures.
public enum DefaultValue: Sendable {
    case `nil`, bool(Bool), number(Double), string(String)

    var value: Value {
        switch self {
        case .nil: return .nil
        case .bool(let b): return .bool(b)
        case .number(let n): return .number(n)
        case .string(let s): return .string(s)
        }
    }
}

/// The bound arguments of a native call, read by parameter name: the declaration's names are
/// the only way in, so adding or reordering parameters cannot shift what a native reads.
/// Every value has already been checked against its parameter's type by `bind`.
public struct Arguments {
    /// The values in parameter order, then any extra positional ones of a variadic function.
    public let values: [Value]
    public let function: NativeFunction
    public let interpreter: Interpreter

    /// The argument of parameter `name`.
    public subscript(_ name: String) -> Value { values[function.index(of: name)] }

    public func number(_ name: String) -> Double { if case .number(let n) = self[name] { return n }; return 0 }
    /// An `.int` parameter's value (bind checked it is a whole number within 2^53).
    public func int(_ name: String) -> Int { if case .number(let n) = self[name] { return Checked.int(n) ?? 0 }; return 0 }
    public func bool(_ name: String) -> Bool { self[name].isTruthy }
    public func string(_ name: String) -> String { let v = self[name]; if case .string(let s) = v { return s }; return v.description }
    public func optionalNumber(_ name: String) -> Double? { if case .number(let n) = self[name] { return n }; return nil }
    public func optionalInt(_ name: String) -> Int? { optionalNumber(name).flatMap { Checked.int($0) } }
    public func optionalString(_ name: String) -> String? { if case .string(let s) = self[name] { return s }; return nil }
    public func list(_ name: String) -> [Value] { if case .list(let l) = self[name] { return l.items }; return [] }
    public func object<T: AnyObject>(_ name: String, as type: T.Type) -> T? {
        if case .object(let o) = self[name] { return o.value as? T }
        return nil
    }

    /// Parameter `name` as an index into `count` items called `what` (negative ones count from the
    /// end), or this call's error: "format(): row 9 is out of range for 3 rows".
    public func position(_ name: String, count: Int, what: String) throws -> Int {
        do { return try Checked.position(self[name], count: count, what: what) } catch let e as FinchError { throw error(e.message) }
    }

    /// A runtime error phrased for this call.
    public func error(_ message: String) -> FinchError { FinchError(.runtime, "\(function.name)(): \(message)") }
}

/// A function implemented in Swift.
public final class NativeFunction: @unchecked Sendable {
    public let name: String
    public let params: [Param]
    /// Accepts any number of extra positional arguments (print).
    public let variadic: Bool
    public let doc: String
    public let example: String
    public let returns: String
    let body: (Arguments) throws -> Value

    public init(_ name: String, _ params: [Param] = [], variadic: Bool = false, returns: String = "",
                doc: String, example: String = "", _ body: @escaping (Arguments) throws -> Value) {
        // A default its own type refuses would make every call that leaves the argument out an error.
        for p in params {
            if let d = p.defaultValue { precondition(p.type.accepts(d.value), "\(name)(): the default of '\(p.name)' is not \(article(p.type.name))") }
        }
        self.name = name
        self.params = params
        self.variadic = variadic
        self.doc = doc
        self.example = example
        self.returns = returns
        self.body = body
    }

    /// The position of parameter `name`. A native reading a name it does not declare is a bug in
    /// Finch itself: ArgumentNameTests checks every name the bindings' sources read.
    @inline(__always) func index(of name: String) -> Int {
        for i in params.indices where params[i].name == name { return i }
        preconditionFailure("\(self.name)() reads an argument '\(name)' it does not declare")
    }

    /// `name(a: type, b: type = default)` as help() and the reference show it.
    public var signature: String {
        var parts = params.map { p -> String in
            var s = "\(p.name): \(p.type.name)"
            if let d = p.defaultValue { s += " = " + d.valueForDocs }
            return s
        }
        if variadic { parts.append("...") }
        return "\(name)(" + parts.joined(separator: ", ") + ")" + (returns.isEmpty ? "" : " -> \(returns)")
    }

    /// Matches positional and named arguments to parameters, fills defaults and checks types.
    func bind(_ positional: [Value], _ named: [(String, Value)], interpreter: Interpreter, displayName: String) throws -> Arguments {
        var slots = [Value?](repeating: nil, count: params.count)
        var extra: [Value] = []
        for (i, v) in positional.enumerated() {
            if i < params.count { slots[i] = v } else if variadic { extra.append(v) } else {
                throw FinchError(.runtime, "\(displayName)() takes at most \(params.count) argument\(params.count == 1 ? "" : "s"), got \(positional.count)")
            }
        }
        for (name, v) in named {
            guard let i = params.firstIndex(where: { $0.name == name }) else {
                let valid = params.map(\.name)
                var message = "\(displayName)() has no argument '\(name)'"
                if let guess = closestMatch(name, in: valid) { message += "; did you mean '\(guess)'?" }
                message += valid.isEmpty ? " (it takes no arguments)" : " (arguments: \(valid.joined(separator: ", ")))"
                throw FinchError(.runtime, message)
            }
            guard slots[i] == nil else { throw FinchError(.runtime, "\(displayName)() got argument '\(name)' twice") }
            slots[i] = v
        }
        var values: [Value] = []
        values.reserveCapacity(params.count + extra.count)
        for (i, p) in params.enumerated() {
            guard let v = slots[i] ?? p.defaultValue?.value else {
                throw FinchError(.runtime, "\(displayName)() is missing argument '\(p.name)' (\(p.type.name))")
            }
            guard p.type.accepts(v) else {
                throw FinchError(.runtime, "\(displayName)() argument '\(p.name)' must be \(article(p.type.name)), got \(article(v.typeName))")
            }
            values.append(v)
        }
        values.append(contentsOf: extra)
        return Arguments(values: values, function: self, interpreter: interpreter)
    }
}

/// "a list", "an int": for error messages.
public func article(_ word: String) -> String {
    if word.contains(" or ") { return word.components(separatedBy: " or ").map(article).joined(separator: " or ") }
    if word == "nil" || word.hasSuffix("?") { return word }
    return (["a", "e", "i", "o", "u"].contains(word.first.map { String($0) } ?? "") ? "an " : "a ") + word
}

/// A host type: its methods (called with the object as `self`, the first
/// argument) and properties.
public final class NativeType: @unchecked Sendable {
    public let name: String
    public let doc: String
    public private(set) var methods: [String: NativeFunction] = [:]
    public private(set) var properties: [String: Property] = [:]
    /// Binary operators: (op, lhs, rhs) -> result, or nil when this type does not handle that pairing.
    public var binaryOperator: ((String, Value, Value) throws -> Value?)?
    public var unaryOperator: ((String, Value) throws -> Value?)?
    /// obj[indices] and obj[indices] = value.
    public var getIndex: ((NativeObject, [IndexArgument]) throws -> Value)?
    public var setIndex: ((NativeObject, [IndexArgument], Value) throws -> Void)?
    public var describe: ((NativeObject) -> String)?
    /// How many elements, for len() and iteration.
    public var length: ((NativeObject) throws -> Int)?

    /// A read (and optionally write) attribute.
    public struct Property {
        public let name: String
        public let doc: String
        public let get: (NativeObject) throws -> Value
        public let set: ((NativeObject, Value) throws -> Void)?
    }

    public init(name: String, doc: String) {
        self.name = name
        self.doc = doc
    }

    /// Adds a method; its first parameter is the object itself.
    public func method(_ f: NativeFunction) { methods[f.name] = f }

    public func property(_ name: String, doc: String, get: @escaping (NativeObject) throws -> Value,
                         set: ((NativeObject, Value) throws -> Void)? = nil) {
        properties[name] = Property(name: name, doc: doc, get: get, set: set)
    }
}

/// One position inside `x[...]`: a single index or a slice.
public enum IndexArgument {
    case index(Value)
    case slice(start: Int?, end: Int?, step: Int?)
}

/// Every native function and type the language offers.
public final class Registry: @unchecked Sendable {
    public private(set) var functions: [String: NativeFunction] = [:]
    /// Registration order, for docs and listings.
    public private(set) var order: [String] = []
    public private(set) var types: [String: NativeType] = [:]
    public private(set) var typeOrder: [String] = []
    /// Topics for `:help` and the reference: name -> section title.
    public private(set) var sections: [(title: String, names: [String])] = []

    public init() {}

    /// Adds the core built-ins (print, len, ...) and the methods of lists, strings and dicts; safe to call twice.
    public func registerCore() { Builtins.register(in: self) }

    /// Starts a section of the reference; functions registered next belong to it.
    public func section(_ title: String) { sections.append((title, [])) }

    public func register(_ f: NativeFunction) {
        if functions[f.name] == nil { order.append(f.name) }
        functions[f.name] = f
        if sections.isEmpty { sections.append(("Built-ins", [])) }
        sections[sections.count - 1].names.append(f.name)
    }

    public func register(_ t: NativeType) {
        if types[t.name] == nil { typeOrder.append(t.name) }
        types[t.name] = t
    }
}
