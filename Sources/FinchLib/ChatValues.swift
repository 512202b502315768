import FinchLang
import FinchText

/// Finch values handed to a chat template: messages and tools as the template reads them.
enum ChatValues {
    /// A Finch value as a template value.
    static func jinja(_ v: Value, _ a: Arguments, _ what: String) throws -> JinjaValue {
        switch v {
        case .nil: return .none
        case .bool(let b): return .bool(b)
        case .number(let n): return .number(n)
        case .string(let s): return .string(s)
        case .list(let l): return .list(try l.items.map { try jinja($0, a, what) })
        case .dict(let d):
            var out = JinjaDict()
            for (k, x) in zip(d.keys, d.values) {
                guard case .string(let key) = k else { throw a.error("\(what): dict keys must be strings for a chat template, got \(k.repr)") }
                out[key] = try jinja(x, a, what)
            }
            return .dict(out)
        default:
            throw a.error("\(what): a chat template can read strings, numbers, booleans, nil, lists and dicts, not \(v.repr)")
        }
    }

    /// `messages`: a question (one user message) or a list of dicts, each with a string role.
    static func messages(_ v: Value, _ a: Arguments) throws -> [JinjaValue] {
        if case .string(let s) = v { return [ChatTemplate.message(("user", s))] }
        guard case .list(let l) = v else { throw a.error("messages must be a string or a list of {role, content} dicts") }
        return try l.items.enumerated().map { k, item in
            guard case .dict(let d) = item, case .string? = d["role"] else {
                throw a.error("message \(k + 1) must be a dict with a string role (and content), got \(item.repr)")
            }
            return try jinja(item, a, "message \(k + 1)")
        }
    }
}
