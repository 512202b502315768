/// The regular expressions tokenizer files give (Split patterns, Replace
/// normalizers), parsed into a tree. The dialect is Oniguruma's, as the
/// `tokenizers` package runs it: alternation, groups (capturing, (?:), (?i:),
/// lookahead), classes with \p{..} properties, greedy/lazy/possessive
/// quantifiers, anchors. Lookbehind and backreferences are errors.
indirect enum RegexNode {
    case empty
    case char(UInt32)
    case set(CharSet)
    case concat([RegexNode])
    case alternation([RegexNode])
    /// max < 0: unbounded.
    case repeatNode(RegexNode, min: Int, max: Int, greedy: Bool, possessive: Bool)
    case lookahead(RegexNode, negate: Bool)
    case anchor(Anchor)

    enum Anchor { case lineStart, lineEnd, textStart, textEnd, textEndBeforeNewline, wordBoundary, notWordBoundary }

    /// The sets a match's first scalar must belong to (one of them), or nil when that is not known
    /// (the node can match nothing, or starts with an anchor or lookahead).
    static func firstSets(_ node: RegexNode) -> [CharSet]? {
        switch node {
        case .char(let v):
            var s = CharSet(items: [.range(v, v)])
            s.finish()
            return [s]
        case .set(let s): return [s]
        case .concat(let parts):
            var out: [CharSet] = []
            for p in parts {
                if case .anchor = p { return nil }
                if case .lookahead = p { return nil }
                guard let f = firstSets(p) else { return nil }
                out += f
                if !p.nullable { return out }
            }
            return nil
        case .alternation(let alts):
            var out: [CharSet] = []
            for a in alts { guard let f = firstSets(a) else { return nil }; out += f }
            return out
        case .repeatNode(let n, _, _, _, _): return firstSets(n)
        case .empty, .lookahead, .anchor: return nil
        }
    }

    /// Whether the node can match without consuming anything.
    var nullable: Bool {
        switch self {
        case .empty, .lookahead, .anchor: return true
        case .char, .set: return false
        case .concat(let parts): return parts.allSatisfy(\.nullable)
        case .alternation(let alts): return alts.contains(where: \.nullable)
        case .repeatNode(let n, let min, _, _, _): return min == 0 || n.nullable
        }
    }
}

/// A set of scalars: ranges, general categories, \s, \w, \d, each possibly negated, the whole possibly negated.
struct CharSet {
    enum Item {
        case range(UInt32, UInt32)
        case categories(UInt32, negated: Bool)
        case space(negated: Bool)
        case word(negated: Bool)
        case digit(negated: Bool)
    }
    var items: [Item] = []
    var negated = false
    var foldCase = false
    /// Membership of the 128 ASCII scalars, computed once.
    var asciiLow: UInt64 = 0
    var asciiHigh: UInt64 = 0

    mutating func finish() {
        asciiLow = 0
        asciiHigh = 0
        for v in 0..<128 where slowContains(UInt32(v)) {
            if v < 64 { asciiLow |= 1 << UInt64(v) } else { asciiHigh |= 1 << UInt64(v - 64) }
        }
    }

    @inline(__always) func contains(_ v: UInt32) -> Bool {
        if v < 64 { return asciiLow >> UInt64(v) & 1 != 0 }
        if v < 128 { return asciiHigh >> UInt64(v - 64) & 1 != 0 }
        return slowContains(v)
    }

    func slowContains(_ v: UInt32) -> Bool {
        if foldCase, let s = Unicode.Scalar(v) {
            for variant in CharSet.caseVariants(s) where rawContains(variant) { return !negated }
            return negated
        }
        return rawContains(v) != negated
    }

    private func rawContains(_ v: UInt32) -> Bool {
        let e = UnicodeTable.lookup(v)
        let category = UInt32(e & 0x1F)
        for item in items {
            switch item {
            case .range(let lo, let hi): if v >= lo && v <= hi { return true }
            case .categories(let mask, let neg): if (mask >> category & 1 != 0) != neg { return true }
            case .space(let neg): if (e & 0x80 != 0) != neg { return true }
            case .word(let neg): if CharSet.isWord(v) != neg { return true }
            case .digit(let neg): if (category == 8) != neg { return true }
            }
        }
        return false
    }

    /// \w as Oniguruma has it for Unicode: letters, marks, decimal digits, connector punctuation.
    static func isWord(_ v: UInt32) -> Bool {
        let c = UInt32(UnicodeTable.lookup(v) & 0x1F)
        return c <= 7 || c == 8 || c == 11
    }

    /// The scalar and its simple lower and upper case forms.
    static func caseVariants(_ s: Unicode.Scalar) -> [UInt32] {
        var out = [s.value]
        for form in [s.properties.lowercaseMapping, s.properties.uppercaseMapping] {
            let scalars = form.unicodeScalars
            if scalars.count == 1, let f = scalars.first, f.value != s.value { out.append(f.value) }
        }
        // Scalars whose case folding reaches ASCII letters (ſ → s, K (Kelvin) → k).
        if s.value == 0x17F { out.append(0x73) }
        if s.value == 0x212A { out.append(0x6B) }
        return out
    }
}

/// A pattern that could not be parsed, with where.
public struct RegexError: Error, CustomStringConvertible {
    public let description: String
}

struct RegexParser {
    let scalars: [Unicode.Scalar]
    let pattern: String
    var i = 0
    var foldCase = false

    init(_ pattern: String) {
        self.pattern = pattern
        scalars = Array(pattern.unicodeScalars)
    }

    func fail(_ why: String) -> RegexError {
        RegexError(description: "regular expression \(Tokenizer.show(pattern)): \(why) at character \(i)")
    }

    mutating func parse() throws -> RegexNode {
        let node = try alternation()
        if i < scalars.count { throw fail("unbalanced ')'") }
        return node
    }

    private var atEnd: Bool { i >= scalars.count }
    private func peek(_ k: Int = 0) -> Unicode.Scalar? { i + k < scalars.count ? scalars[i + k] : nil }

    mutating func alternation() throws -> RegexNode {
        var alts = [try sequence()]
        while peek() == "|" {
            i += 1
            alts.append(try sequence())
        }
        return alts.count == 1 ? alts[0] : .alternation(alts)
    }

    mutating func sequence() throws -> RegexNode {
        var parts: [RegexNode] = []
        let savedFold = foldCase
        defer { foldCase = savedFold }
        while let c = peek(), c != "|", c != ")" {
            // An inline flag group (?i) changes the rest of the enclosing group.
            if c == "(", peek(1) == "?", let (flags, length) = inlineFlags(), peek(length - 1) == ")" {
                i += length
                applyFlags(flags)
                continue
            }
            var atom = try self.atom()
            atom = try quantified(atom)
            parts.append(atom)
        }
        return parts.isEmpty ? .empty : (parts.count == 1 ? parts[0] : .concat(parts))
    }

    /// Flags after "(?" up to ":" or ")": ("i", length including "(?" and the terminator).
    func inlineFlags() -> (String, Int)? {
        var k = 2
        var flags = ""
        while let c = peek(k), c == "i" || c == "m" || c == "s" || c == "x" || c == "-" {
            flags.unicodeScalars.append(c)
            k += 1
        }
        guard let end = peek(k), end == ":" || end == ")", !flags.isEmpty else { return nil }
        return (flags, k + 1)
    }

    mutating func applyFlags(_ flags: String) {
        var on = true
        for f in flags {
            if f == "-" { on = false } else if f == "i" { foldCase = on }
        }
    }

    mutating func quantified(_ atom: RegexNode) throws -> RegexNode {
        var node = atom
        while let c = peek() {
            var min = 0, max = -1
            if c == "*" { i += 1 } else if c == "+" { min = 1; i += 1 } else if c == "?" { max = 1; i += 1 }
            else if c == "{", let (lo, hi, length) = braces() { min = lo; max = hi; i += length }
            else { break }
            var greedy = true, possessive = false
            if peek() == "?" { greedy = false; i += 1 } else if peek() == "+" { possessive = true; i += 1 }
            if case .anchor = node { throw fail("a quantifier after an anchor") }
            if case .lookahead = node { throw fail("a quantifier after a lookahead") }
            if max < 0 || max > 1, node.nullable { throw fail("a repeated part that can match nothing") }
            if max >= 0 && max < min { throw fail("{\(min),\(max)} has its bounds the wrong way round") }
            if min > 1000 || max > 1000 { throw fail("a repeat count above 1000") }
            node = .repeatNode(node, min: min, max: max, greedy: greedy, possessive: possessive)
        }
        return node
    }

    /// {n}, {n,}, {n,m}: (min, max or -1, length); nil when the brace is a literal.
    func braces() -> (Int, Int, Int)? {
        var k = 1
        func number() -> Int? {
            var n: Int?
            while let c = peek(k), let d = c.properties.numericType == .decimal ? Int(String(c)) : nil {
                n = (n ?? 0) * 10 + d
                if n! > 100_000 { return nil }
                k += 1
            }
            return n
        }
        guard let lo = number() else { return nil }
        if peek(k) == "}" { return (lo, lo, k + 1) }
        guard peek(k) == "," else { return nil }
        k += 1
        let hi = number()
        guard peek(k) == "}" else { return nil }
        return (lo, hi ?? -1, k + 1)
    }

    mutating func atom() throws -> RegexNode {
        let c = scalars[i]
        i += 1
        switch c {
        case "(":
            var negateLook: Bool?
            let savedFold = foldCase
            defer { foldCase = savedFold }
            if peek() == "?" {
                if peek(1) == ":" { i += 2 }
                else if peek(1) == "=" { negateLook = false; i += 2 }
                else if peek(1) == "!" { negateLook = true; i += 2 }
                else if peek(1) == "<", peek(2) == "=" || peek(2) == "!" { throw fail("lookbehind is not supported") }
                else if peek(1) == "<" || peek(1) == "P" {
                    // A named group: (?<name>...) or (?P<name>...).
                    while let d = peek(), d != ">" { i += 1 }
                    if atEnd { throw fail("an unfinished group name") }
                    i += 1
                } else {
                    i -= 1  // inlineFlags reads from the '('
                    guard let (flags, length) = inlineFlags() else { i += 1; throw fail("an unknown group kind") }
                    i += length
                    applyFlags(flags)
                }
            }
            let inner = try alternation()
            guard peek() == ")" else { throw fail("a '(' without its ')'") }
            i += 1
            if let negate = negateLook { return .lookahead(inner, negate: negate) }
            return inner
        case ")": throw fail("unbalanced ')'")
        case "[": return .set(try charClass())
        case ".":
            var s = CharSet(items: [.range(0x0A, 0x0A)], negated: true)
            s.finish()
            return .set(s)
        case "^": return .anchor(.lineStart)
        case "$": return .anchor(.lineEnd)
        case "\\":
            if let anchor = try anchorEscape() { return .anchor(anchor) }
            return try literalOrSet(escape())
        case "*", "+", "?": throw fail("a quantifier with nothing before it")
        default:
            return literal(c.value)
        }
    }

    mutating func anchorEscape() throws -> RegexNode.Anchor? {
        guard let c = peek() else { throw fail("a pattern ending in '\\'") }
        let anchors: [Unicode.Scalar: RegexNode.Anchor] = ["A": .textStart, "z": .textEnd, "Z": .textEndBeforeNewline, "b": .wordBoundary, "B": .notWordBoundary]
        guard let a = anchors[c] else { return nil }
        i += 1
        return a
    }

    func literal(_ v: UInt32) -> RegexNode {
        guard foldCase, let s = Unicode.Scalar(v), CharSet.caseVariants(s).count > 1 else { return .char(v) }
        var set = CharSet(items: CharSet.caseVariants(s).map { .range($0, $0) }, foldCase: true)
        set.finish()
        return .set(set)
    }

    enum Escaped { case scalar(UInt32), item(CharSet.Item) }

    mutating func literalOrSet(_ e: Escaped) throws -> RegexNode {
        switch e {
        case .scalar(let v): return literal(v)
        case .item(let item):
            var set = CharSet(items: [item], foldCase: foldCase)
            set.finish()
            return .set(set)
        }
    }

    /// After a backslash: a class (\s \p{L} ...) or one scalar.
    mutating func escape() throws -> Escaped {
        guard let c = peek() else { throw fail("a pattern ending in '\\'") }
        i += 1
        switch c {
        case "s": return .item(.space(negated: false))
        case "S": return .item(.space(negated: true))
        case "d": return .item(.digit(negated: false))
        case "D": return .item(.digit(negated: true))
        case "w": return .item(.word(negated: false))
        case "W": return .item(.word(negated: true))
        case "p", "P":
            var name = ""
            if peek() == "{" {
                i += 1
                while let d = peek(), d != "}" { name.unicodeScalars.append(d); i += 1 }
                guard peek() == "}" else { throw fail("\\p{ without its '}'") }
                i += 1
            } else if let d = peek() {
                name = String(d)
                i += 1
            }
            var negated = c == "P"
            if name.hasPrefix("^") { negated.toggle(); name.removeFirst() }
            guard let mask = UnicodeTable.mask(property: name) else { throw fail("unknown property \\p{\(name)}") }
            return .item(.categories(mask, negated: negated))
        case "n": return .scalar(0x0A)
        case "r": return .scalar(0x0D)
        case "t": return .scalar(0x09)
        case "f": return .scalar(0x0C)
        case "v": return .scalar(0x0B)
        case "a": return .scalar(0x07)
        case "e": return .scalar(0x1B)
        case "0": return .scalar(0)
        case "x", "u":
            var digits = ""
            if c == "x", peek() == "{" {
                i += 1
                while let d = peek(), d != "}" { digits.unicodeScalars.append(d); i += 1 }
                i += 1
            } else {
                for _ in 0..<(c == "x" ? 2 : 4) { if let d = peek() { digits.unicodeScalars.append(d); i += 1 } }
            }
            guard let v = UInt32(digits, radix: 16), Unicode.Scalar(v) != nil else { throw fail("a bad \\\(c) escape") }
            return .scalar(v)
        default:
            if c.properties.isAlphabetic || c.properties.numericType != nil { throw fail("unknown escape \\\(c)") }
            return .scalar(c.value)
        }
    }

    mutating func charClass() throws -> CharSet {
        var set = CharSet(foldCase: foldCase)
        if peek() == "^" { set.negated = true; i += 1 }
        var first = true
        while true {
            guard let c = peek() else { throw fail("a '[' without its ']'") }
            if c == "]" && !first { i += 1; break }
            first = false
            i += 1
            var low: UInt32
            if c == "[" { throw fail("nested classes are not supported") }
            if c == "\\" {
                switch try escape() {
                case .item(let item): set.items.append(item); continue
                case .scalar(let v): low = v
                }
            } else {
                low = c.value
            }
            if peek() == "-", let next = peek(1), next != "]" {
                i += 1
                var high: UInt32
                if next == "\\" {
                    i += 1
                    guard case .scalar(let v) = try escape() else { throw fail("a range ending in a class") }
                    high = v
                } else {
                    high = next.value
                    i += 1
                }
                guard low <= high else { throw fail("a range with its ends the wrong way round") }
                set.items.append(.range(low, high))
            } else {
                set.items.append(.range(low, low))
            }
        }
        set.finish()
        return set
    }
}
