import Foundation

/// What operators, indexing and member access mean for each kind of value.
enum Operators {
    static func binary(_ op: BinaryOp, _ l: Value, _ r: Value) throws -> Value {
        if case .object(let o) = l, let f = o.type.binaryOperator, let v = try f(op.rawValue, l, r) { return v }
        if case .object(let o) = r, let f = o.type.binaryOperator, let v = try f(op.rawValue, l, r) { return v }
        switch op {
        case .eq: return .bool(valuesEqual(l, r))
        case .ne: return .bool(!valuesEqual(l, r))
        case .in: return .bool(try contains(r, l))
        default: break
        }
        switch (l, r) {
        case let (.number(x), .number(y)):
            switch op {
            case .add: return .number(x + y)
            case .sub: return .number(x - y)
            case .mul: return .number(x * y)
            case .div: return .number(x / y)
            case .mod:
                // Floored, as in Python: the result has the sign of the divisor.
                let m = fmod(x, y)
                return .number(m != 0 && (m < 0) != (y < 0) ? m + y : m)
            case .pow: return .number(Foundation.pow(x, y))
            case .lt: return .bool(x < y)
            case .le: return .bool(x <= y)
            case .gt: return .bool(x > y)
            case .ge: return .bool(x >= y)
            default: break
            }
        case let (.string(x), .string(y)):
            switch op {
            case .add: return .string(x + y)
            case .lt: return .bool(x < y)
            case .le: return .bool(x <= y)
            case .gt: return .bool(x > y)
            case .ge: return .bool(x >= y)
            default: break
            }
        case let (.string(s), .number(n)) where op == .mul:
            let times = try count(n)
            guard s.utf8.count * times <= maxElements * 8 else { throw tooBig(s.utf8.count * times, "bytes of text", limit: maxElements * 8) }
            return .string(String(repeating: s, count: times))
        case let (.list(a), .list(b)) where op == .add:
            return .list(ListRef(a.items + b.items))
        case let (.list(a), .number(n)) where op == .mul:
            let times = try count(n)
            guard a.items.count * times <= maxElements else { throw tooBig(a.items.count * times, "items") }
            return .list(ListRef(Array([[Value]](repeating: a.items, count: times).joined())))
        case let (.list(a), .list(b)) where [.lt, .le, .gt, .ge].contains(op):
            let c = try compareLists(a.items, b.items)
            switch op {
            case .lt: return .bool(c < 0)
            case .le: return .bool(c <= 0)
            case .gt: return .bool(c > 0)
            default: return .bool(c >= 0)
            }
        default: break
        }
        throw FinchError(.runtime, "cannot apply '\(op.rawValue)' to \(article(l.typeName)) and \(article(r.typeName))")
    }

    /// The most items a list built in one step may have (about 2.4 GB of values).
    static let maxElements = 100_000_000

    static func tooBig(_ n: Int, _ what: String, limit: Int = maxElements) -> FinchError {
        FinchError(.runtime, "that would make \(n) \(what), more than the \(limit) allowed at once")
    }

    private static func count(_ n: Double) throws -> Int {
        guard n == n.rounded(), n >= 0, n < 1e9 else { throw FinchError(.runtime, "repeat count must be a non-negative integer, got \(Value.format(n))") }
        return Int(n)
    }

    /// Orders two values of the same kind (numbers, strings, lists), for `<` on lists and sort.
    static func compare(_ a: Value, _ b: Value) throws -> Int {
        switch (a, b) {
        case let (.number(x), .number(y)): return x < y ? -1 : (x > y ? 1 : 0)
        case let (.string(x), .string(y)): return x < y ? -1 : (x > y ? 1 : 0)
        case let (.list(x), .list(y)): return try compareLists(x.items, y.items)
        case let (.bool(x), .bool(y)): return x == y ? 0 : (x ? 1 : -1)
        default: throw FinchError(.runtime, "cannot compare \(article(a.typeName)) with \(article(b.typeName))")
        }
    }

    private static func compareLists(_ a: [Value], _ b: [Value]) throws -> Int {
        for (x, y) in zip(a, b) {
            let c = try compare(x, y)
            if c != 0 { return c }
        }
        return a.count < b.count ? -1 : (a.count > b.count ? 1 : 0)
    }

    static func contains(_ container: Value, _ item: Value) throws -> Bool {
        switch container {
        case .list(let l): return l.items.contains { valuesEqual($0, item) }
        case .dict(let d): return try d.get(item) != nil
        case .string(let s):
            guard case .string(let sub) = item else { throw FinchError(.runtime, "'in' on a string needs a string on the left, got \(article(item.typeName))") }
            return s.contains(sub)
        case .range(let r):
            guard case .number(let x) = item else { return false }
            let k = (x - r.start) / r.step
            return k == k.rounded() && k >= 0 && k < Double(r.count)
        default: throw FinchError(.runtime, "cannot use 'in' with \(article(container.typeName))")
        }
    }

    static func unary(_ op: String, _ v: Value) throws -> Value {
        if case .object(let o) = v, let f = o.type.unaryOperator, let r = try f(op, v) { return r }
        if case .number(let n) = v { return .number(op == "-" ? -n : n) }
        throw FinchError(.runtime, "cannot apply unary '\(op)' to \(article(v.typeName))")
    }

    // MARK: Indexing

    /// Resolves a possibly negative index against a length.
    static func position(_ v: Value, count: Int, what: String) throws -> Int {
        let (i, k) = try Checked.index(v, count: count, what: what)
        guard let i else { throw FinchError(.runtime, "index \(k) is out of range for \(article(what)) of length \(count)") }
        return i
    }

    /// Python slice semantics: indices of start:end:step over a length.
    static func sliceIndices(_ start: Int?, _ end: Int?, _ step: Int?, count: Int) throws -> [Int] {
        let step = step ?? 1
        guard step != 0 else { throw FinchError(.runtime, "slice step cannot be zero") }
        func clamp(_ i: Int?, _ fallback: Int, low: Int, high: Int) -> Int {
            guard var i else { return fallback }
            if i < 0 { i += count }
            return min(max(i, low), high)
        }
        var out: [Int] = []
        if step > 0 {
            var i = clamp(start, 0, low: 0, high: count)
            let e = clamp(end, count, low: 0, high: count)
            while i < e { out.append(i); i += step }
        } else {
            var i = clamp(start, count - 1, low: -1, high: count - 1)
            let e = clamp(end, -1, low: -1, high: count - 1)
            while i > e { out.append(i); i += step }
        }
        return out
    }

    static func index(_ object: Value, _ parts: [IndexArgument]) throws -> Value {
        if case .object(let o) = object {
            guard let get = o.type.getIndex else { throw FinchError(.runtime, "\(article(o.type.name)) cannot be indexed") }
            return try get(o, parts)
        }
        guard parts.count == 1 else { throw FinchError(.runtime, "\(article(object.typeName)) takes one index, got \(parts.count)") }
        switch (object, parts[0]) {
        case let (.list(l), .index(i)): return l.items[try position(i, count: l.items.count, what: "list")]
        case let (.list(l), .slice(a, b, c)):
            return .list(ListRef(try sliceIndices(a, b, c, count: l.items.count).map { l.items[$0] }))
        case let (.string(s), .index(i)):
            let chars = Array(s)
            return .string(String(chars[try position(i, count: chars.count, what: "string")]))
        case let (.string(s), .slice(a, b, c)):
            let chars = Array(s)
            return .string(String(try sliceIndices(a, b, c, count: chars.count).map { chars[$0] }))
        case let (.dict(d), .index(k)):
            guard let v = try d.get(k) else { throw FinchError(.runtime, "key \(k.repr) is not in the dict" + suggestion(k, d)) }
            return v
        case let (.range(r), .index(i)): return .number(r.element(try position(i, count: r.count, what: "range")))
        case let (.range(r), .slice(a, b, c)):
            return .list(ListRef(try sliceIndices(a, b, c, count: r.count).map { .number(r.element($0)) }))
        default:
            throw FinchError(.runtime, "\(article(object.typeName)) cannot be indexed")
        }
    }

    private static func suggestion(_ key: Value, _ d: DictRef) -> String {
        guard case .string(let s) = key else { return "" }
        let names = d.keys.compactMap { k -> String? in if case .string(let t) = k { return t }; return nil }
        return closestMatch(s, in: names).map { "; did you mean \"\($0)\"?" } ?? ""
    }

    static func setIndex(_ object: Value, _ parts: [IndexArgument], _ value: Value) throws {
        if case .object(let o) = object {
            guard let set = o.type.setIndex else { throw FinchError(.runtime, "\(article(o.type.name)) does not support item assignment") }
            return try set(o, parts, value)
        }
        guard parts.count == 1 else { throw FinchError(.runtime, "\(article(object.typeName)) takes one index, got \(parts.count)") }
        switch (object, parts[0]) {
        case let (.list(l), .index(i)): l.items[try position(i, count: l.items.count, what: "list")] = value
        case let (.dict(d), .index(k)): try d.set(k, value)
        default: throw FinchError(.runtime, "\(article(object.typeName)) does not support item assignment")
        }
    }

    // MARK: Members

    static func member(_ object: Value, _ name: String, interpreter: Interpreter) throws -> Value {
        switch object {
        case .object(let o):
            if let p = o.type.properties[name] { return try p.get(o) }
            if let m = o.type.methods[name] { return boundMethod(m, object) }
            var message = "\(o.type.name) has no attribute '\(name)'"
            if let guess = closestMatch(name, in: Array(o.type.properties.keys) + Array(o.type.methods.keys)) { message += "; did you mean '\(guess)'?" }
            throw FinchError(.runtime, message)
        case .dict(let d):
            if let v = try d.get(.string(name)) { return v }
            throw FinchError(.runtime, "the dict has no key \"\(name)\"" + suggestion(.string(name), d))
        default:
            if let m = method(of: object, name, registry: interpreter.registry) { return boundMethod(m, object) }
            throw FinchError(.runtime, "\(article(object.typeName)) has no attribute '\(name)'")
        }
    }

    /// A method taken as a value (`f = xs.push`): a native with `self` filled in.
    private static func boundMethod(_ m: NativeFunction, _ object: Value) -> Value {
        .native(NativeFunction(m.name, Array(m.params.dropFirst()), variadic: m.variadic, doc: m.doc) { args in
            try m.body(Arguments(values: [object] + args.values, function: m, interpreter: args.interpreter))
        })
    }

    static func setMember(_ object: Value, _ name: String, _ value: Value) throws {
        switch object {
        case .object(let o):
            guard let p = o.type.properties[name] else { throw FinchError(.runtime, "\(o.type.name) has no attribute '\(name)'") }
            guard let set = p.set else { throw FinchError(.runtime, "\(o.type.name).\(name) is read-only") }
            try set(o, value)
        case .dict(let d): try d.set(.string(name), value)
        default: throw FinchError(.runtime, "cannot set attribute '\(name)' on \(article(object.typeName))")
        }
    }

    static func method(of object: Value, _ name: String, registry: Registry) -> NativeFunction? {
        if case .object(let o) = object { return o.type.methods[name] }
        return registry.types[object.typeName]?.methods[name]
    }

    static func methodNames(of object: Value, registry: Registry) -> [String] {
        if case .object(let o) = object { return Array(o.type.methods.keys) + Array(o.type.properties.keys) }
        return Array(registry.types[object.typeName]?.methods.keys ?? [:].keys)
    }
}
