import Foundation

/// Attribute and item access, slices, and the methods of str, dict and list that templates call
/// (`message.content.strip()`, `messages[1:]`, `tool.get('name')`); the methods that would change
/// a list or dict are refused, as the immutable sandbox refuses them.
enum JinjaMethods {
    static let unsafeMethods: Set<String> = ["append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse",
                                             "update", "setdefault", "popitem", "add", "discard"]

    /// `value.name`: a method where the type has one, else the item of that name (dicts), else undefined.
    static func attribute(_ value: JinjaValue, _ name: String) throws -> JinjaValue {
        switch value {
        case .undefined(let reason):
            throw JinjaError(reason)
        case .dict(let d):
            if let m = method(value, name) { return m }
            return d[name] ?? .undefined(reason: "'dict object' has no attribute '\(name)'")
        case .object(let o):
            return o.attribute(name) ?? .undefined(reason: "'\(o.typeName)' object has no attribute '\(name)'")
        default:
            if let m = method(value, name) { return m }
            return .undefined(reason: "'\(value.typeName) object' has no attribute '\(name)'")
        }
    }

    /// `value[key]`: the item where there is one, else the attribute of that name, else undefined.
    static func item(_ value: JinjaValue, _ key: JinjaValue) throws -> JinjaValue {
        switch (value, key) {
        case (.undefined(let reason), _):
            throw JinjaError(reason)
        case (.dict(let d), .string(let k)):
            return d[k] ?? method(value, k) ?? .undefined(reason: "'dict object' has no attribute '\(k)'")
        case (.list(let l), _):
            guard let k = index(key) else { throw JinjaError("list indices must be integers, not \(key.typeName)") }
            let j = k < 0 ? l.count + k : k
            return l.indices.contains(j) ? l[j] : .undefined(reason: "list object has no element \(k)")
        case (.string(let s), _):
            guard let k = index(key) else { throw JinjaError("string indices must be integers, not \(key.typeName)") }
            let scalars = Array(s.unicodeScalars)
            let j = k < 0 ? scalars.count + k : k
            return scalars.indices.contains(j) ? .string(String(scalars[j])) : .undefined(reason: "string index \(k) out of range")
        case (_, .string(let k)):
            return try attribute(value, k)
        default:
            return .undefined(reason: "'\(value.typeName) object' has no element \(key.repr)")
        }
    }

    private static func index(_ v: JinjaValue) -> Int? {
        switch v {
        case .int(let i): return i
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }

    /// `value[start:stop:step]` with Python's rules for negative and missing bounds.
    static func slice(_ value: JinjaValue, _ start: JinjaValue?, _ stop: JinjaValue?, _ step: JinjaValue?) throws -> JinjaValue {
        func bound(_ v: JinjaValue?) throws -> Int? {
            guard let v, !(v.isUndefined), !({ if case .none = v { return true }; return false }()) else { return nil }
            guard let i = index(v) else { throw JinjaError("slice indices must be integers or None") }
            return i
        }
        let st = try bound(step) ?? 1
        guard st != 0 else { throw JinjaError("slice step cannot be zero") }
        func indices(_ n: Int) throws -> [Int] {
            func clamp(_ i: Int?, _ fallback: Int, low: Int, high: Int) -> Int {
                guard var i else { return fallback }
                if i < 0 { i += n }
                return min(max(i, low), high)
            }
            if st > 0 {
                let a = clamp(try bound(start), 0, low: 0, high: n), b = clamp(try bound(stop), n, low: 0, high: n)
                return a < b ? Array(stride(from: a, to: b, by: st)) : []
            }
            let a = clamp(try bound(start), n - 1, low: -1, high: n - 1), b = clamp(try bound(stop), -1, low: -1, high: n - 1)
            return a > b ? Array(stride(from: a, to: b, by: st)) : []
        }
        switch value {
        case .list(let l): return .list(try indices(l.count).map { l[$0] })
        case .string(let s):
            let scalars = Array(s.unicodeScalars)
            var out = String.UnicodeScalarView()
            for i in try indices(scalars.count) { out.append(scalars[i]) }
            return .string(String(out))
        case .undefined(let reason): throw JinjaError(reason)
        default: throw JinjaError("'\(value.typeName)' object is not subscriptable")
        }
    }

    /// The method `name` of `value`, bound to it, or nil when its type has no such method.
    static func method(_ value: JinjaValue, _ name: String) -> JinjaValue? {
        let body: ((JinjaArguments) throws -> JinjaValue)?
        switch value {
        case .string(let s): body = stringMethod(s, name)
        case .dict(let d): body = dictMethod(d, name)
        case .list(let l): body = listMethod(l, name)
        default: body = nil
        }
        if let body { return .object(JinjaFunction(name) { args, _ in try body(args) }) }
        if case .list = value, unsafeMethods.contains(name) { return unsafe(value, name) }
        if case .dict = value, unsafeMethods.contains(name) { return unsafe(value, name) }
        return nil
    }

    private static func unsafe(_ value: JinjaValue, _ name: String) -> JinjaValue {
        .object(JinjaFunction(name) { _, _ in
            throw JinjaError("access to attribute '\(name)' of '\(value.typeName)' object is unsafe (templates cannot change lists or dicts; use namespace())")
        })
    }

    private static func dictMethod(_ d: JinjaDict, _ name: String) -> ((JinjaArguments) throws -> JinjaValue)? {
        switch name {
        case "items": return { a in try a.expect(atMost: 0); return .list(d.pairs.map { .list([.string($0.key), $0.value]) }) }
        case "keys": return { a in try a.expect(atMost: 0); return .list(d.keys.map { .string($0) }) }
        case "values": return { a in try a.expect(atMost: 0); return .list(d.pairs.map(\.value)) }
        case "get":
            return { a in
                try a.expect(atMost: 2)
                let key = try a.get(0, "key")
                guard case .string(let k) = key else { return a.get(1, "default", default: .none) }
                if let x = d[k] { return x }
                return a.get(1, "default", default: .none)
            }
        case "copy": return { _ in .dict(d) }
        default: return nil
        }
    }

    private static func listMethod(_ l: [JinjaValue], _ name: String) -> ((JinjaArguments) throws -> JinjaValue)? {
        switch name {
        case "index":
            return { a in
                let x = try a.get(0, "value")
                guard let k = l.firstIndex(where: { JinjaValue.equal($0, x) }) else { throw JinjaError("\(x.repr) is not in list") }
                return .int(k)
            }
        case "count": return { a in let x = try a.get(0, "value"); return .int(l.filter { JinjaValue.equal($0, x) }.count) }
        case "copy": return { _ in .list(l) }
        default: return nil
        }
    }

    private static func stringMethod(_ s: String, _ name: String) -> ((JinjaArguments) throws -> JinjaValue)? {
        switch name {
        case "strip", "lstrip", "rstrip":
            return { a in
                try a.expect(atMost: 1)
                let chars = a.get(0, "chars", default: .none)
                let set: ((Unicode.Scalar) -> Bool)
                if case .string(let c) = chars { let cs = Set(c.unicodeScalars); set = { cs.contains($0) } } else { set = { $0.properties.isWhitespace } }
                return .string(strip(s, set, leading: name != "rstrip", trailing: name != "lstrip"))
            }
        case "upper": return { _ in .string(s.uppercased()) }
        case "lower": return { _ in .string(s.lowercased()) }
        case "title": return { _ in .string(title(s)) }
        case "capitalize": return { _ in .string(capitalize(s)) }
        case "startswith", "endswith":
            return { a in
                let p = try a.get(0, "prefix")
                let options: [String]
                switch p {
                case .string(let x): options = [x]
                case .list(let l): options = l.compactMap { if case .string(let x) = $0 { return x }; return nil }
                default: throw JinjaError("\(name) first arg must be str or a tuple of str, not \(p.typeName)")
                }
                let su = Array(s.unicodeScalars)
                return .bool(options.contains { o in
                    let ou = Array(o.unicodeScalars)
                    return name == "startswith" ? su.starts(with: ou) : su.count >= ou.count && Array(su.suffix(ou.count)) == ou
                })
            }
        case "split", "rsplit":
            return { a in
                let sep = a.get(0, "sep", default: .none)
                let maxsplit = try a.int(1, "maxsplit", -1)
                if case .string(let x) = sep {
                    guard !x.isEmpty else { throw JinjaError("empty separator") }
                    return .list(split(s, by: x, max: maxsplit, fromRight: name == "rsplit").map { .string($0) })
                }
                return .list(splitWhitespace(s, max: maxsplit, fromRight: name == "rsplit").map { .string($0) })
            }
        case "splitlines":
            return { _ in .list(splitLines(s).map { .string($0) }) }
        case "replace":
            return { a in
                let old = try a.string(0, "old"), new = try a.string(1, "new"), count = try a.int(2, "count", -1)
                return .string(replace(s, old, new, count: count))
            }
        case "find", "rfind", "count":
            return { a in
                let sub = try a.string(0, "sub")
                let hay = Array(s.unicodeScalars), needle = Array(sub.unicodeScalars)
                var hits: [Int] = []
                if needle.isEmpty { hits = Array(0...hay.count) } else if hay.count >= needle.count {
                    var i = 0
                    while i + needle.count <= hay.count {
                        if Array(hay[i..<(i + needle.count)]) == needle { hits.append(i); if name == "count" { i += needle.count; continue } }
                        i += 1
                    }
                }
                switch name {
                case "find": return .int(hits.first ?? -1)
                case "rfind": return .int(hits.last ?? -1)
                default: return .int(hits.count)
                }
            }
        case "join":
            return { a in
                let items = try a.get(0, "iterable")
                guard case .list(let l) = items else { throw JinjaError("join needs a list") }
                return .string(try l.map { v -> String in
                    guard case .string(let x) = v else { throw JinjaError("sequence item: expected str instance, \(v.typeName) found") }
                    return x
                }.joined(separator: s))
            }
        case "removeprefix", "removesuffix":
            return { a in
                let x = try a.string(0, name == "removeprefix" ? "prefix" : "suffix")
                if name == "removeprefix", s.unicodeScalars.starts(with: x.unicodeScalars) { return .string(String(String.UnicodeScalarView(s.unicodeScalars.dropFirst(x.unicodeScalars.count)))) }
                if name == "removesuffix", s.unicodeScalars.reversed().starts(with: x.unicodeScalars.reversed()) { return .string(String(String.UnicodeScalarView(s.unicodeScalars.dropLast(x.unicodeScalars.count)))) }
                return .string(s)
            }
        case "isdigit": return { _ in .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.numericType == .decimal }) }
        case "isalpha": return { _ in .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.isAlphabetic }) }
        case "isspace": return { _ in .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.isWhitespace }) }
        case "islower": return { _ in .bool(s.contains { $0.isLetter } && s == s.lowercased()) }
        case "isupper": return { _ in .bool(s.contains { $0.isLetter } && s == s.uppercased()) }
        default: return nil
        }
    }

    static func strip(_ s: String, _ drop: (Unicode.Scalar) -> Bool, leading: Bool = true, trailing: Bool = true) -> String {
        var u = Substring(s).unicodeScalars
        if leading { while let f = u.first, drop(f) { u.removeFirst() } }
        if trailing { while let l = u.last, drop(l) { u.removeLast() } }
        return String(String.UnicodeScalarView(u))
    }

    static func capitalize(_ s: String) -> String {
        guard let first = s.unicodeScalars.first else { return s }
        return String(first).uppercased() + String(String.UnicodeScalarView(s.unicodeScalars.dropFirst())).lowercased()
    }

    /// Python's str.title(): a letter after a non-letter is upper case, every other letter lower.
    static func title(_ s: String) -> String {
        var out = "", previousCased = false
        for u in s.unicodeScalars {
            let cased = u.properties.isCased
            out += previousCased ? String(u).lowercased() : String(u).uppercased()
            previousCased = cased
        }
        return out
    }

    static func replace(_ s: String, _ old: String, _ new: String, count: Int) -> String {
        if count < 0 { return old.isEmpty ? s : s.replacingOccurrences(of: old, with: new, options: .literal) }
        var out = "", rest = Substring(s), n = 0
        while n < count, !old.isEmpty, let r = rest.range(of: old, options: .literal) {
            out += rest[..<r.lowerBound] + new
            rest = rest[r.upperBound...]
            n += 1
        }
        return out + rest
    }

    static func split(_ s: String, by sep: String, max: Int, fromRight: Bool) -> [String] {
        var parts = s.components(separatedBy: sep)
        if max >= 0, parts.count > max + 1 {
            if fromRight {
                let head = parts[0..<(parts.count - max)].joined(separator: sep)
                parts = [head] + parts[(parts.count - max)...]
            } else {
                parts = Array(parts[0..<max]) + [parts[max...].joined(separator: sep)]
            }
        }
        return parts
    }

    static func splitWhitespace(_ s: String, max: Int, fromRight: Bool) -> [String] {
        let words = s.unicodeScalars.split(whereSeparator: { $0.properties.isWhitespace }).map { String(String.UnicodeScalarView($0)) }
        guard max >= 0, words.count > max + 1 else { return words }
        // The remainder keeps its inner whitespace, as Python's does.
        if fromRight {
            var rest = Substring(s).unicodeScalars
            var tail: [String] = []
            while let l = rest.last, l.properties.isWhitespace { rest.removeLast() }
            for _ in 0..<max {
                var word = String.UnicodeScalarView()
                while let l = rest.last, !l.properties.isWhitespace { word.insert(l, at: word.startIndex); rest.removeLast() }
                tail.insert(String(word), at: 0)
                while let l = rest.last, l.properties.isWhitespace { rest.removeLast() }
            }
            return [String(String.UnicodeScalarView(rest))] + tail
        }
        var rest = Substring(s).unicodeScalars
        var head: [String] = []
        while let f = rest.first, f.properties.isWhitespace { rest.removeFirst() }
        for _ in 0..<max {
            var word = String.UnicodeScalarView()
            while let f = rest.first, !f.properties.isWhitespace { word.append(f); rest.removeFirst() }
            head.append(String(word))
            while let f = rest.first, f.properties.isWhitespace { rest.removeFirst() }
        }
        return head + [String(String.UnicodeScalarView(rest))]
    }

    static func splitLines(_ s: String) -> [String] {
        var lines: [String] = [], current = String.UnicodeScalarView()
        var previousCR = false
        for u in s.unicodeScalars {
            if u == "\n" && previousCR { previousCR = false; continue }
            previousCR = u == "\r"
            if ["\n", "\r", "\u{0B}", "\u{0C}", "\u{1C}", "\u{1D}", "\u{1E}", "\u{85}", "\u{2028}", "\u{2029}"].contains(u) {
                lines.append(String(current))
                current = String.UnicodeScalarView()
            } else {
                current.append(u)
            }
        }
        if !current.isEmpty { lines.append(String(current)) }
        return lines
    }
}
