import Foundation

/// The functions every template sees: jinja2's `range`, `dict` and `namespace`, and the two
/// transformers adds for chat templates, `raise_exception` and `strftime_now`.
enum JinjaGlobals {
    static let functions: [(String, @Sendable (JinjaArguments, JinjaContext) throws -> JinjaValue)] = [
        ("range", { a, _ in
            let ints = try a.positional.map { v -> Int in
                guard case .int(let i) = v else { throw JinjaError("range() needs integers, not \(v.typeName)") }
                return i
            }
            let (start, stop, step): (Int, Int, Int)
            switch ints.count {
            case 1: (start, stop, step) = (0, ints[0], 1)
            case 2: (start, stop, step) = (ints[0], ints[1], 1)
            case 3: (start, stop, step) = (ints[0], ints[1], ints[2])
            default: throw JinjaError("range() takes 1 to 3 arguments")
            }
            guard step != 0 else { throw JinjaError("range() step must not be zero") }
            let count = step > 0 ? max(0, (stop - start + step - 1) / step) : max(0, (start - stop - step - 1) / -step)
            guard count <= 100_000 else { throw JinjaError("range too big (\(count) items); the sandbox allows 100000") }
            return .list(stride(from: start, to: stop, by: step).map { .int($0) })
        }),
        ("dict", { a, _ in
            guard a.positional.isEmpty else { throw JinjaError("dict() takes keyword arguments here") }
            return .dict(JinjaDict(a.keywords))
        }),
        ("namespace", { a, _ in
            let ns = JinjaNamespace()
            for v in a.positional {
                guard case .dict(let d) = v else { throw JinjaError("namespace() takes a dict or keyword arguments") }
                for (k, x) in d.pairs { ns.fields[k] = x }
            }
            for (k, x) in a.keywords { ns.fields[k] = x }
            return .object(ns)
        }),
        ("raise_exception", { a, _ in
            var e = JinjaError(a.get(0, "message", default: .string("")).text)
            e.raised = true
            throw e
        }),
        ("strftime_now", { a, _ in
            let format = try a.string(0, "format")
            var t = time(nil)
            var parts = tm()
            localtime_r(&t, &parts)
            var buffer = [Int8](repeating: 0, count: 256)
            let n = strftime(&buffer, buffer.count, format, &parts)
            return .string(String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }),
    ]
}

/// Python's json.dumps as transformers' `tojson` calls it (key order kept, non-ASCII text as it is,
/// ", " and ": " between items, or "," and newlines with `indent`).
enum JinjaJSON {
    static func dumps(_ v: JinjaValue, indent: Int? = nil, separators: (String, String)? = nil,
                      sortKeys: Bool = false, ensureASCII: Bool = false) throws -> String {
        let (itemSep, keySep) = separators ?? (indent == nil ? ", " : ",", ": ")
        var out = ""
        func write(_ v: JinjaValue, _ level: Int) throws {
            switch v {
            case .none: out += "null"
            case .bool(let b): out += b ? "true" : "false"
            case .int(let i): out += String(i)
            case .double(let d):
                if d.isNaN { out += "NaN" } else if d.isInfinite { out += d < 0 ? "-Infinity" : "Infinity" } else { out += JinjaValue.pythonFloat(d) }
            case .string(let s): out += quote(s, ensureASCII: ensureASCII)
            case .list(let l):
                guard !l.isEmpty else { out += "[]"; return }
                out += "["
                for (k, x) in l.enumerated() {
                    if k > 0 { out += itemSep }
                    newline(level + 1)
                    try write(x, level + 1)
                }
                newline(level)
                out += "]"
            case .dict(let d):
                guard !d.isEmpty else { out += "{}"; return }
                out += "{"
                let keys = sortKeys ? d.keys.sorted { try! JinjaOperators.compare(.string($0), .string($1)) < 0 } : d.keys
                for (k, key) in keys.enumerated() {
                    if k > 0 { out += itemSep }
                    newline(level + 1)
                    out += quote(key, ensureASCII: ensureASCII) + keySep
                    try write(d[key]!, level + 1)
                }
                newline(level)
                out += "}"
            case .undefined(let reason): throw JinjaError("cannot write an undefined value as JSON (\(reason))")
            case .object(let o): throw JinjaError("Object of type \(o.typeName) is not JSON serializable")
            }
        }
        func newline(_ level: Int) {
            guard let indent else { return }
            out += "\n" + String(repeating: " ", count: indent * level)
        }
        try write(v, 0)
        return out
    }

    static func quote(_ s: String, ensureASCII: Bool) -> String {
        var out = ""
        JSONString.quote(s, to: &out, ensureASCII: ensureASCII)
        return out
    }
}
