import Foundation

/// jinja2's filters and tests that chat templates use, with jinja2's arguments and defaults
/// (and transformers' `tojson`).
enum JinjaFilters {
    static func apply(_ name: String, _ v: JinjaValue, _ a: JinjaArguments, _ context: JinjaContext) throws -> JinjaValue {
        switch name {
        case "default", "d":
            let fallback = a.get(0, "default_value", default: .string(""))
            let boolean = a.bool(1, "boolean", false)
            return v.isUndefined || (boolean && !v.isTruthy) ? fallback : v
        case "length", "count":
            switch v {
            case .string(let s): return .int(s.unicodeScalars.count)
            case .list(let l): return .int(l.count)
            case .dict(let d): return .int(d.count)
            case .undefined: return .int(0)
            default: throw JinjaError("object of type '\(v.typeName)' has no len()")
            }
        case "upper": return .string(try text(v).uppercased())
        case "lower": return .string(try text(v).lowercased())
        case "capitalize": return .string(JinjaMethods.capitalize(try text(v)))
        case "title": return .string(JinjaMethods.title(try text(v)))
        case "trim":
            let chars = a.get(0, "chars", default: .none)
            if case .string(let c) = chars {
                let cs = Set(c.unicodeScalars)
                return .string(JinjaMethods.strip(try text(v)) { cs.contains($0) })
            }
            return .string(JinjaMethods.strip(try text(v)) { $0.properties.isWhitespace })
        case "string": return .string(try text(v))
        case "safe", "e", "escape", "forceescape":
            if name == "safe" { return v }
            return .string(escapeHTML(try text(v)))
        case "replace":
            return .string(JinjaMethods.replace(try text(v), try a.string(0, "old"), try a.string(1, "new"), count: try a.int(2, "count", -1)))
        case "tojson":
            let indent = a.get(0, "indent", default: .none)
            let width: Int?
            switch indent {
            case .int(let n): width = n
            case .none: width = nil
            default: throw JinjaError("tojson's indent must be an integer")
            }
            var separators: (String, String)?
            if case .list(let s) = a.get(2, "separators", default: .none), s.count == 2, case .string(let x) = s[0], case .string(let y) = s[1] { separators = (x, y) }
            return .string(try JinjaJSON.dumps(v, indent: width, separators: separators, sortKeys: a.bool(3, "sort_keys", false),
                                               ensureASCII: a.bool(1, "ensure_ascii", false)))
        case "first", "last":
            let items = try context.iterate(try defined(v))
            guard let x = name == "first" ? items.first : items.last else { return .undefined(reason: "no \(name) item, the sequence is empty") }
            return x
        case "join":
            let sep = try a.string(0, "d", "")
            var items = try context.iterate(try defined(v))
            if case .string(let attr) = a.get(1, "attribute", default: .none) { items = try items.map { try attribute($0, attr) } }
            return .string(items.map(\.text).joined(separator: sep))
        case "list": return .list(try context.iterate(try defined(v)))
        case "reverse":
            if case .string(let s) = v { return .string(String(String.UnicodeScalarView(s.unicodeScalars.reversed()))) }
            return .list(try context.iterate(try defined(v)).reversed())
        case "items":
            guard case .dict(let d) = v else {
                if v.isUndefined { return .list([]) }
                throw JinjaError("can only get item pairs from a mapping, not \(v.typeName)")
            }
            return .list(d.pairs.map { .list([.string($0.key), $0.value]) })
        case "dictsort":
            guard case .dict(let d) = v else { throw JinjaError("dictsort needs a dict, not \(v.typeName)") }
            let caseSensitive = a.bool(0, "case_sensitive", false)
            let byValue = try a.string(1, "by", "key") == "value"
            let reverse = a.bool(2, "reverse", false)
            var pairs = d.pairs.map { JinjaValue.list([.string($0.key), $0.value]) }
            pairs = try sorted(pairs, key: { p in
                guard case .list(let kv) = p else { return p }
                return byValue ? kv[1] : kv[0]
            }, caseSensitive: caseSensitive, reverse: reverse)
            return .list(pairs)
        case "sort":
            let reverse = a.bool(0, "reverse", false), caseSensitive = a.bool(1, "case_sensitive", false)
            let attr = a.get(2, "attribute", default: .none)
            return .list(try sorted(try context.iterate(try defined(v)), key: { x in
                if case .string(let n) = attr { return try attribute(x, n) }
                return x
            }, caseSensitive: caseSensitive, reverse: reverse))
        case "unique":
            let caseSensitive = a.bool(0, "case_sensitive", false)
            var seen: [JinjaValue] = [], out: [JinjaValue] = []
            for x in try context.iterate(try defined(v)) {
                let key = caseSensitive ? x : folded(x)
                if !seen.contains(where: { JinjaValue.equal($0, key) }) { seen.append(key); out.append(x) }
            }
            return .list(out)
        case "sum":
            let attr = a.get(0, "attribute", default: .none)
            var total = a.get(1, "start", default: .int(0))
            for x in try context.iterate(try defined(v)) {
                let item = { if case .string(let n) = attr { return try attribute(x, n) }; return x }
                total = try JinjaOperators.binary("+", total, try item())
            }
            return total
        case "min", "max":
            let caseSensitive = a.bool(0, "case_sensitive", false)
            let attr = a.get(1, "attribute", default: .none)
            let items = try sorted(try context.iterate(try defined(v)), key: { x in
                if case .string(let n) = attr { return try attribute(x, n) }
                return x
            }, caseSensitive: caseSensitive, reverse: false)
            guard let x = name == "min" ? items.first : items.last else { return .undefined(reason: "\(name) of an empty sequence") }
            return x
        case "map":
            let items = try context.iterate(try defined(v))
            if let kw = a.keywords.first(where: { $0.0 == "attribute" }) {
                guard case .string(let attr) = kw.1 else { throw JinjaError("map's attribute must be a string") }
                let fallback = a.keywords.first { $0.0 == "default" }?.1
                return .list(try items.map { x in
                    let r = try attribute(x, attr)
                    if r.isUndefined, let fallback { return fallback }
                    return r
                })
            }
            guard case .string(let filter)? = a.positional.first else { throw JinjaError("map needs a filter name or attribute=") }
            let rest = JinjaArguments(positional: Array(a.positional.dropFirst()), keywords: a.keywords, callee: "filter '\(filter)'")
            return .list(try items.map { try apply(filter, $0, rest, context) })
        case "select", "reject", "selectattr", "rejectattr":
            let byAttribute = name.hasSuffix("attr")
            var positional = a.positional
            var attr: String?
            if byAttribute {
                guard case .string(let n)? = positional.first else { throw JinjaError("\(name) needs an attribute name") }
                attr = n
                positional.removeFirst()
            }
            let testName: String?
            if case .string(let t)? = positional.first { testName = t; positional.removeFirst() } else { testName = nil }
            let keep = name.hasPrefix("select")
            return .list(try context.iterate(try defined(v)).filter { x in
                let subject = try attr.map { try attribute(x, $0) } ?? x
                let passed = try testName.map { try test($0, subject, positional) } ?? subject.isTruthy
                return passed == keep
            })
        case "int":
            let fallback = a.get(0, "default", default: .int(0))
            switch v {
            case .int: return v
            case .bool(let b): return .int(b ? 1 : 0)
            case .double(let d): return d.isFinite ? .int(Int(d)) : fallback
            case .string(let s):
                let t = s.trimmingCharacters(in: .whitespaces)
                if let i = Int(t) { return .int(i) }
                if let d = Double(t), d.isFinite { return .int(Int(d)) }
                return fallback
            default: return fallback
            }
        case "float":
            let fallback = a.get(0, "default", default: .double(0))
            switch v {
            case .int(let i): return .double(Double(i))
            case .double: return v
            case .bool(let b): return .double(b ? 1 : 0)
            case .string(let s): return Double(s.trimmingCharacters(in: .whitespaces)).map { .double($0) } ?? fallback
            default: return fallback
            }
        case "abs":
            switch v {
            case .int(let i): return .int(abs(i))
            case .double(let d): return .double(abs(d))
            default: throw JinjaError("bad operand type for abs(): '\(v.typeName)'")
            }
        case "round":
            let precision = try a.int(0, "precision", 0), method = try a.string(1, "method", "common")
            guard let x = v.number else { throw JinjaError("round needs a number, not \(v.typeName)") }
            let scale = pow(10, Double(precision))
            // "common" is Python's round(): halves go to the even neighbour.
            let rule: FloatingPointRoundingRule = method == "ceil" ? .up : method == "floor" ? .down : .toNearestOrEven
            return .double((x * scale).rounded(rule) / scale)
        case "indent":
            let width = a.get(0, "width", default: .int(4))
            let indentation: String
            if case .string(let s) = width { indentation = s } else if case .int(let n) = width { indentation = String(repeating: " ", count: n) } else { indentation = "    " }
            let first = a.bool(1, "first", false), blank = a.bool(2, "blank", false)
            var lines = JinjaMethods.splitLines(try text(v) + "\n")
            var out: String
            if blank {
                out = lines.joined(separator: "\n" + indentation)
            } else {
                out = lines.isEmpty ? "" : lines.removeFirst()
                if !lines.isEmpty { out += "\n" + lines.map { $0.isEmpty ? $0 : indentation + $0 }.joined(separator: "\n") }
            }
            return .string(first ? indentation + out : out)
        case "center":
            let s = try text(v), width = try a.int(0, "width", 80)
            let n = s.unicodeScalars.count
            guard width > n else { return .string(s) }
            let total = width - n, left = total / 2 + (total & width & 1)
            return .string(String(repeating: " ", count: left) + s + String(repeating: " ", count: total - left))
        case "wordcount":
            return .int(try text(v).unicodeScalars.split { !($0.properties.isAlphabetic || $0.properties.numericType != nil || $0 == "_") }.count)
        case "attr":
            return try attribute(v, try a.string(0, "name"))
        case "batch":
            let size = try a.int(0, "linecount")
            guard size > 0 else { throw JinjaError("batch size must be positive") }
            let items = try context.iterate(try defined(v))
            let fill = a.get(1, "fill_with", default: .none)
            var out: [JinjaValue] = []
            var k = 0
            while k < items.count {
                var chunk = Array(items[k..<min(k + size, items.count)])
                if chunk.count < size, !({ if case .none = fill { return true }; return false }()) { chunk += Array(repeating: fill, count: size - chunk.count) }
                out.append(.list(chunk))
                k += size
            }
            return .list(out)
        default:
            throw JinjaError("no filter named '\(name)'")
        }
    }

    /// jinja2's tests (`x is defined`, `x is divisibleby 3`, ...).
    static func test(_ name: String, _ v: JinjaValue, _ args: [JinjaValue]) throws -> Bool {
        func arg() throws -> JinjaValue {
            guard let x = args.first else { throw JinjaError("the test '\(name)' needs an argument") }
            return x
        }
        switch name {
        case "defined": return !v.isUndefined
        case "undefined": return v.isUndefined
        case "none": if case .none = v { return true }; return false
        case "boolean": if case .bool = v { return true }; return false
        case "true": if case .bool(true) = v { return true }; return false
        case "false": if case .bool(false) = v { return true }; return false
        case "string": if case .string = v { return true }; return false
        case "number":
            switch v { case .int, .double: return true; default: return false }
        case "integer": if case .int = v { return true }; return false
        case "float": if case .double = v { return true }; return false
        case "mapping": if case .dict = v { return true }; return false
        case "sequence":
            switch v { case .list, .string, .dict: return true; default: return false }
        case "iterable":
            switch v { case .list, .string, .dict, .undefined: return true; default: return false }
        case "callable":
            if case .object(let o) = v { return o is JinjaFunction || o is JinjaMacro }
            return false
        case "odd", "even":
            guard case .int(let i) = v else { throw JinjaError("the test '\(name)' needs an integer") }
            return (i % 2 != 0) == (name == "odd")
        case "divisibleby":
            guard case .int(let i) = v, case .int(let n) = try arg(), n != 0 else { throw JinjaError("divisibleby needs integers") }
            return i % n == 0
        case "eq", "equalto", "==": return JinjaValue.equal(v, try arg())
        case "ne", "!=": return !JinjaValue.equal(v, try arg())
        case "lt", "lessthan", "<": return try JinjaOperators.compare(v, try arg()) < 0
        case "le", "<=": return try JinjaOperators.compare(v, try arg()) <= 0
        case "gt", "greaterthan", ">": return try JinjaOperators.compare(v, try arg()) > 0
        case "ge", ">=": return try JinjaOperators.compare(v, try arg()) >= 0
        case "in": return try JinjaOperators.contains(try arg(), v)
        case "sameas":
            let x = try arg()
            switch (v, x) {
            case (.none, .none): return true
            case (.bool(let a), .bool(let b)): return a == b
            case (.object(let a), .object(let b)): return a === b
            default: return false
            }
        case "lower": if case .string(let s) = v { return s == s.lowercased() }; return false
        case "upper": if case .string(let s) = v { return s == s.uppercased() }; return false
        case "escaped": return false
        default: throw JinjaError("no test named '\(name)'")
        }
    }

    private static func text(_ v: JinjaValue) throws -> String { v.text }

    private static func defined(_ v: JinjaValue) throws -> JinjaValue {
        if case .undefined(let reason) = v { throw JinjaError(reason) }
        return v
    }

    /// jinja2's environment.getattr for filters: the item, else the attribute.
    private static func attribute(_ v: JinjaValue, _ path: String) throws -> JinjaValue {
        var x = v
        for part in path.split(separator: ".") {
            if let k = Int(part) { x = try JinjaMethods.item(x, .int(k)) } else { x = try JinjaMethods.item(x, .string(String(part))) }
        }
        return x
    }

    private static func folded(_ v: JinjaValue) -> JinjaValue {
        if case .string(let s) = v { return .string(s.lowercased()) }
        return v
    }

    private static func sorted(_ items: [JinjaValue], key: (JinjaValue) throws -> JinjaValue, caseSensitive: Bool, reverse: Bool) throws -> [JinjaValue] {
        let keyed = try items.map { x in (caseSensitive ? try key(x) : folded(try key(x)), x) }
        var failure: Error?
        // A stable sort, as Python's is.
        let order = keyed.indices.sorted { i, j in
            do {
                let c = try JinjaOperators.compare(keyed[i].0, keyed[j].0)
                return c == 0 ? i < j : (c < 0) != reverse
            } catch { failure = error; return i < j }
        }
        if let failure { throw failure }
        return order.map { keyed[$0].1 }
    }

    static func escapeHTML(_ s: String) -> String {
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&#34;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }
}
