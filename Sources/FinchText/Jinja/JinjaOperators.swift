import Foundation

/// Binary operators with Python's rules: int stays int except under `/`, `//` and `%` floor,
/// `+` joins strings and lists, `~` joins anything as text, comparisons order like types only.
enum JinjaOperators {
    static func binary(_ op: String, _ l: JinjaValue, _ r: JinjaValue) throws -> JinjaValue {
        switch op {
        case "~": return .string(l.text + r.text)
        case "==": return .bool(JinjaValue.equal(l, r))
        case "!=": return .bool(!JinjaValue.equal(l, r))
        case "in": return .bool(try contains(r, l))
        case "<", ">", "<=", ">=":
            let c = try compare(l, r, op)
            switch op {
            case "<": return .bool(c < 0)
            case ">": return .bool(c > 0)
            case "<=": return .bool(c <= 0)
            default: return .bool(c >= 0)
            }
        default: break
        }
        if case .undefined(let reason) = l { throw JinjaError(reason) }
        if case .undefined(let reason) = r { throw JinjaError(reason) }
        switch (op, l, r) {
        case ("+", .string(let a), .string(let b)): return .string(a + b)
        case ("+", .list(let a), .list(let b)): return .list(a + b)
        case ("*", .string(let a), .int(let n)), ("*", .int(let n), .string(let a)): return .string(String(repeating: a, count: max(0, n)))
        case ("*", .list(let a), .int(let n)), ("*", .int(let n), .list(let a)):
            return .list(Array([[JinjaValue]](repeating: a, count: max(0, n)).joined()))
        default: break
        }
        guard let x = l.number, let y = r.number else {
            throw JinjaError("unsupported operand type(s) for \(op): '\(l.typeName)' and '\(r.typeName)'")
        }
        let ints: (Int, Int)? = {
            switch (l, r) {
            case (.int(let a), .int(let b)): return (a, b)
            case (.int(let a), .bool(let b)): return (a, b ? 1 : 0)
            case (.bool(let a), .int(let b)): return (a ? 1 : 0, b)
            case (.bool(let a), .bool(let b)): return (a ? 1 : 0, b ? 1 : 0)
            default: return nil
            }
        }()
        switch op {
        case "+", "-", "*":
            if let (a, b) = ints {
                let (v, overflow) = op == "+" ? a.addingReportingOverflow(b) : op == "-" ? a.subtractingReportingOverflow(b) : a.multipliedReportingOverflow(by: b)
                if !overflow { return .int(v) }
            }
            return .double(op == "+" ? x + y : op == "-" ? x - y : x * y)
        case "/":
            guard y != 0 else { throw JinjaError("division by zero") }
            return .double(x / y)
        case "//", "%":
            guard y != 0 else { throw JinjaError(op == "//" ? "integer division or modulo by zero" : "modulo by zero") }
            if let (a, b) = ints {
                var q = a / b, m = a % b
                if m != 0 && ((m < 0) != (b < 0)) { q -= 1; m += b }
                return .int(op == "//" ? q : m)
            }
            let q = (x / y).rounded(.down)
            return .double(op == "//" ? q : x - q * y)
        case "**":
            if let (a, b) = ints, b >= 0 {
                var result = 1, overflow = false
                for _ in 0..<b where !overflow { (result, overflow) = result.multipliedReportingOverflow(by: a) }
                if !overflow { return .int(result) }
            }
            return .double(pow(x, y))
        default:
            throw JinjaError("unknown operator \(op)")
        }
    }

    /// Python's `needle in haystack`.
    static func contains(_ haystack: JinjaValue, _ needle: JinjaValue) throws -> Bool {
        switch haystack {
        case .string(let s):
            guard case .string(let n) = needle else { throw JinjaError("'in <string>' requires string as left operand, not \(needle.typeName)") }
            return n.isEmpty || s.contains(n)
        case .list(let l): return l.contains { JinjaValue.equal($0, needle) }
        case .dict(let d):
            guard case .string(let k) = needle else { return false }
            return d[k] != nil
        case .undefined: return false
        default: throw JinjaError("argument of type '\(haystack.typeName)' is not iterable")
        }
    }

    /// -1, 0 or 1, as Python orders numbers, strings (by code point) and lists; other pairs are an error.
    static func compare(_ l: JinjaValue, _ r: JinjaValue, _ op: String = "<") throws -> Int {
        switch (l, r) {
        case (.string(let a), .string(let b)):
            for (x, y) in zip(a.unicodeScalars, b.unicodeScalars) where x != y { return x.value < y.value ? -1 : 1 }
            let (m, n) = (a.unicodeScalars.count, b.unicodeScalars.count)
            return m < n ? -1 : m > n ? 1 : 0
        case (.list(let a), .list(let b)):
            for (x, y) in zip(a, b) where !JinjaValue.equal(x, y) { return try compare(x, y, op) }
            return a.count < b.count ? -1 : a.count > b.count ? 1 : 0
        default:
            if let x = l.number, let y = r.number { return x < y ? -1 : x > y ? 1 : 0 }
            if case .undefined(let reason) = l { throw JinjaError(reason) }
            if case .undefined(let reason) = r { throw JinjaError(reason) }
            throw JinjaError("'\(op)' not supported between instances of '\(l.typeName)' and '\(r.typeName)'")
        }
    }
}
