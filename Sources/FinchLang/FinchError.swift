/// A syntax or runtime error in Finch code, with where it happened and, for
/// runtime errors, the Finch call stack.
public struct FinchError: Error, CustomStringConvertible {
    public enum Kind: Sendable { case syntax, runtime, interrupted }

    /// One caller on the Finch call stack: the function and where it was called.
    public struct StackEntry: Sendable {
        public let function: String
        public let location: Location
    }

    public let kind: Kind
    public let message: String
    public var location: Location?
    public var stack: [StackEntry] = []
    /// The input ended while a bracket, string or block was still open (the REPL reads more).
    public var incomplete = false

    public init(_ kind: Kind, _ message: String, at location: Location? = nil, incomplete: Bool = false) {
        self.kind = kind
        self.message = message
        self.location = location
        self.incomplete = incomplete
    }

    /// "file:line:col: error: message", the source line, a caret, then the call stack.
    public var description: String {
        var out = ""
        let label = kind == .syntax ? "syntax error" : (kind == .interrupted ? "interrupted" : "error")
        if let loc = location {
            out += "\(loc.description): \(label): \(message)"
            if let source = loc.source {
                let line = source.line(Int(loc.line))
                if !line.isEmpty {
                    out += "\n    " + line + "\n    " + String(repeating: " ", count: max(0, Int(loc.column) - 1)) + "^"
                }
            }
        } else {
            out += "\(label): \(message)"
        }
        if !stack.isEmpty {
            out += "\ncall stack (most recent call last):"
            // Runaway recursion repeats one line thousands of times: show runs of a repeated call once.
            let entries = Array(stack.reversed())
            var i = 0
            while i < entries.count {
                var j = i + 1
                while j < entries.count, entries[j].function == entries[i].function, entries[j].location == entries[i].location { j += 1 }
                out += "\n  in \(entries[i].function) called at \(entries[i].location.description)"
                if j - i > 1 { out += " (\(j - i) times)" }
                i = j
            }
        }
        return out
    }
}

/// Suggests the closest of `candidates` to a misspelt `name`, if any is close.
public func closestMatch(_ name: String, in candidates: [String]) -> String? {
    var best: (String, Int)?
    for c in candidates {
        let d = editDistance(name.lowercased(), c.lowercased())
        if d <= max(1, min(3, name.count / 2)), best == nil || d < best!.1 { best = (c, d) }
    }
    if best == nil { best = candidates.first { $0.hasPrefix(name) || name.hasPrefix($0) }.map { ($0, 0) } }
    return best?.0
}

func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
