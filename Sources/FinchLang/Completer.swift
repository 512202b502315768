/// What Tab offers: globals and keywords; members after `x.`; keyword
/// arguments (`name: `) inside a call's parentheses.
public struct Completer {
    let interpreter: Interpreter

    public init(interpreter: Interpreter) { self.interpreter = interpreter }

    /// Candidates that complete the word before `cursor` (a character offset into `line`).
    public func complete(line: String, cursor: Int) -> [String] {
        let chars = Array(line.prefix(cursor))
        var start = chars.count
        while start > 0, chars[start - 1].isLetter || chars[start - 1].isNumber || chars[start - 1] == "_" { start -= 1 }
        let word = String(chars[start...])

        // Member access: `name.` or `name.partial` (a chain of names).
        if start > 0, chars[start - 1] == "." {
            var s = start - 1
            while s > 0, chars[s - 1].isLetter || chars[s - 1].isNumber || chars[s - 1] == "_" || chars[s - 1] == "." { s -= 1 }
            let path = String(chars[s..<(start - 1)]).split(separator: ".").map(String.init)
            guard let first = path.first, var value = interpreter.global(first) else { return [] }
            for name in path.dropFirst() {
                guard case .dict(let d) = value, let next = d[name] else { return [] }
                value = next
            }
            return interpreter.memberNames(of: value).filter { $0.hasPrefix(word) }
        }

        var candidates = (interpreter.globalNames + Interpreter.keywords).filter { $0.hasPrefix(word) && !$0.hasPrefix("_") }
        // Inside a call: offer its keyword arguments first.
        if let callee = enclosingCall(chars, before: start) {
            let kwargs = interpreter.parameterNames(of: callee).filter { $0.hasPrefix(word) }.map { $0 + ": " }
            candidates = kwargs + candidates
        }
        var seen = Set<String>()
        return candidates.filter { seen.insert($0).inserted }
    }

    /// The function whose argument list is open at `position`, when it can be named.
    private func enclosingCall(_ chars: [Character], before position: Int) -> Value? {
        var depth = 0
        var i = position - 1
        var inString: Character?
        while i >= 0 {
            let c = chars[i]
            if let q = inString { if c == q { inString = nil }; i -= 1; continue }
            if c == "\"" || c == "'" { inString = c } else if c == ")" || c == "]" { depth += 1 } else if c == "(" || c == "[" {
                if depth == 0 {
                    guard c == "(" else { return nil }
                    var e = i
                    while e > 0, chars[e - 1] == " " { e -= 1 }
                    var s = e
                    while s > 0, chars[s - 1].isLetter || chars[s - 1].isNumber || chars[s - 1] == "_" || chars[s - 1] == "." { s -= 1 }
                    let path = String(chars[s..<e]).split(separator: ".").map(String.init)
                    guard let first = path.first, let root = interpreter.global(first) else { return nil }
                    if path.count == 1 { return root }
                    if path.count == 2 { return interpreter.method(of: root, named: path[1]) ?? interpreter.global(path[1]) }
                    return nil
                }
                depth -= 1
            }
            i -= 1
        }
        return nil
    }
}
