/// One token of a template: text to copy out, a tag's delimiters, or a piece of an expression.
struct JinjaToken {
    enum Kind: Equatable {
        case text, variableBegin, variableEnd, blockBegin, blockEnd
        case name, string, int, float, op
        case end
    }
    let kind: Kind
    let value: String
    let line: Int
}

/// Splits a template into tokens as jinja2's lexer does with `trim_blocks` and `lstrip_blocks`
/// (how transformers configures it): `{%-`/`-%}` strip whitespace, a block tag alone on its line
/// takes the line's indent and newline with it, `{%+`/`+%}` keep them; newlines are normalised to
/// "\n" and one trailing newline is dropped (`keep_trailing_newline` off).
struct JinjaLexer {
    var trimBlocks = true
    var lstripBlocks = true

    private var s: [Unicode.Scalar] = []
    private var pos = 0
    private var line = 1
    private var tokens: [JinjaToken] = []

    init(trimBlocks: Bool = true, lstripBlocks: Bool = true) {
        self.trimBlocks = trimBlocks
        self.lstripBlocks = lstripBlocks
    }

    mutating func tokenize(_ source: String) throws -> [JinjaToken] {
        s = Self.normalizeNewlines(source)
        pos = 0
        line = 1
        tokens = []
        var lineStarting = true
        while pos < s.count {
            guard let open = findOpener(from: pos) else {
                emitText(pos, s.count)
                break
            }
            let kind = s[open + 1]
            let sign: Unicode.Scalar? = open + 2 < s.count && (s[open + 2] == "-" || s[open + 2] == "+") ? s[open + 2] : nil
            var textEnd = open
            if sign == "-" {
                while textEnd > pos, s[textEnd - 1].properties.isWhitespace { textEnd -= 1 }
            } else if sign != "+", lstripBlocks, kind != "{" {
                var lineStart = open
                while lineStart > pos, s[lineStart - 1] != "\n" { lineStart -= 1 }
                if (lineStart > pos || lineStarting) && lineStart < open && (lineStart..<open).allSatisfy({ s[$0].properties.isWhitespace }) {
                    textEnd = lineStart
                }
            }
            emitText(pos, textEnd)
            line += countNewlines(textEnd, open)
            pos = open + 2 + (sign == nil ? 0 : 1)
            switch kind {
            case "#": try comment(start: open)
            case "{": try tag(begin: .variableBegin, end: .variableEnd, closer: "}", startLine: line)
            default:
                if try rawBlock(open) { break }
                try tag(begin: .blockBegin, end: .blockEnd, closer: "%", startLine: line)
            }
            lineStarting = pos > 0 && s[pos - 1] == "\n"
        }
        tokens.append(JinjaToken(kind: .end, value: "", line: line))
        return tokens
    }

    /// "\r\n" and "\r" become "\n"; one newline at the very end is dropped.
    static func normalizeNewlines(_ source: String) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(source.unicodeScalars.count)
        var previousCR = false
        for u in source.unicodeScalars {
            if u == "\r" { out.append("\n"); previousCR = true; continue }
            if u == "\n" && previousCR { previousCR = false; continue }
            previousCR = false
            out.append(u)
        }
        if out.last == "\n" { out.removeLast() }
        return out
    }

    private func findOpener(from start: Int) -> Int? {
        var i = start
        while i + 1 < s.count {
            if s[i] == "{", s[i + 1] == "{" || s[i + 1] == "%" || s[i + 1] == "#" { return i }
            i += 1
        }
        return nil
    }

    private mutating func emitText(_ from: Int, _ to: Int) {
        guard to > from else { return }
        var text = String.UnicodeScalarView()
        text.append(contentsOf: s[from..<to])
        tokens.append(JinjaToken(kind: .text, value: String(text), line: line))
        line += countNewlines(from, to)
    }

    private func countNewlines(_ from: Int, _ to: Int) -> Int {
        var n = 0
        for i in from..<max(from, to) where s[i] == "\n" { n += 1 }
        return n
    }

    /// After a closing delimiter: `-` strips all following whitespace, `+` keeps it, otherwise
    /// trim_blocks takes one newline (blocks and comments only).
    private mutating func afterClose(sign: Unicode.Scalar?, trims: Bool) {
        if sign == "-" {
            while pos < s.count, s[pos].properties.isWhitespace {
                if s[pos] == "\n" { line += 1 }
                pos += 1
            }
        } else if sign != "+", trims, trimBlocks, pos < s.count, s[pos] == "\n" {
            pos += 1
            line += 1
        }
    }

    private mutating func comment(start: Int) throws {
        let startLine = line
        var i = pos
        while i + 1 < s.count, !(s[i] == "#" && s[i + 1] == "}") { i += 1 }
        guard i + 1 < s.count else { throw JinjaError("a comment '{#' is never closed with '#}'", line: startLine) }
        let sign: Unicode.Scalar? = i > pos && (s[i - 1] == "-" || s[i - 1] == "+") ? s[i - 1] : nil
        line += countNewlines(pos, i)
        pos = i + 2
        afterClose(sign: sign, trims: true)
    }

    /// `{% raw %}...{% endraw %}`: the text between is copied out untouched.
    private mutating func rawBlock(_ open: Int) throws -> Bool {
        var i = pos
        func skipSpace() { while i < s.count, s[i].properties.isWhitespace { i += 1 } }
        func word(_ w: String) -> Bool {
            let ws = Array(w.unicodeScalars)
            guard i + ws.count <= s.count, Array(s[i..<(i + ws.count)]) == ws else { return false }
            if i + ws.count < s.count, isNameScalar(s[i + ws.count]) { return false }
            i += ws.count
            return true
        }
        skipSpace()
        guard word("raw") else { return false }
        skipSpace()
        var openSign: Unicode.Scalar?
        if i < s.count, s[i] == "-" || s[i] == "+" { openSign = s[i]; i += 1 }
        guard i + 1 < s.count, s[i] == "%", s[i + 1] == "}" else { return false }
        let startLine = line
        line += countNewlines(pos, i)
        pos = i + 2
        afterClose(sign: openSign, trims: true)
        // Find {%[-+]? endraw [-+]?%}
        var k = pos
        while k + 1 < s.count {
            if s[k] == "{", s[k + 1] == "%" {
                i = k + 2
                var innerSign: Unicode.Scalar?
                if i < s.count, s[i] == "-" || s[i] == "+" { innerSign = s[i]; i += 1 }
                skipSpace()
                if word("endraw") {
                    skipSpace()
                    var closeSign: Unicode.Scalar?
                    if i < s.count, s[i] == "-" || s[i] == "+" { closeSign = s[i]; i += 1 }
                    if i + 1 < s.count, s[i] == "%", s[i + 1] == "}" {
                        var end = k
                        if innerSign == "-" { while end > pos, s[end - 1].properties.isWhitespace { end -= 1 } }
                        emitText(pos, end)
                        line += countNewlines(end, i)
                        pos = i + 2
                        afterClose(sign: closeSign, trims: true)
                        return true
                    }
                }
            }
            k += 1
        }
        throw JinjaError("'{% raw %}' is never closed with '{% endraw %}'", line: startLine)
    }

    private func isNameScalar(_ u: Unicode.Scalar) -> Bool {
        u == "_" || u.properties.isAlphabetic || ("0"..."9").contains(u)
    }

    /// The inside of `{{ }}` or `{% %}`: expression tokens up to the closing delimiter, which only
    /// counts when brackets are balanced (so `{{ {'a': {}} }}` works).
    private mutating func tag(begin: JinjaToken.Kind, end: JinjaToken.Kind, closer: Unicode.Scalar, startLine: Int) throws {
        tokens.append(JinjaToken(kind: begin, value: "", line: startLine))
        var depth: [Unicode.Scalar] = []
        while true {
            guard pos < s.count else {
                throw JinjaError(begin == .blockBegin ? "a tag '{%' is never closed with '%}'" : "'{{' is never closed with '}}'", line: startLine)
            }
            let c = s[pos]
            if c.properties.isWhitespace {
                if c == "\n" { line += 1 }
                pos += 1
                continue
            }
            if depth.isEmpty {
                var sign: Unicode.Scalar?
                var at = pos
                if c == "-" || (c == "+" && closer == "%") { sign = c; at += 1 }
                if at + 1 < s.count, s[at] == closer, s[at + 1] == "}" {
                    tokens.append(JinjaToken(kind: end, value: "", line: line))
                    pos = at + 2
                    afterClose(sign: sign, trims: closer == "%")
                    return
                }
            }
            if isNameScalar(c), !("0"..."9").contains(c) {
                let start = pos
                while pos < s.count, isNameScalar(s[pos]) { pos += 1 }
                tokens.append(JinjaToken(kind: .name, value: string(start, pos), line: line))
                continue
            }
            if ("0"..."9").contains(c) {
                try number()
                continue
            }
            if c == "'" || c == "\"" {
                try stringLiteral(quote: c)
                continue
            }
            if let op = ["//", "**", "==", "!=", "<=", ">="].first(where: matches) {
                tokens.append(JinjaToken(kind: .op, value: op, line: line))
                pos += 2
                continue
            }
            guard "+-*/%~<>=.,:|()[]{}".unicodeScalars.contains(c) else {
                throw JinjaError("unexpected character '\(Character(c))' in a tag", line: line)
            }
            if c == "(" || c == "[" || c == "{" { depth.append(c) }
            if c == ")" || c == "]" || c == "}" {
                let want: Unicode.Scalar = c == ")" ? "(" : c == "]" ? "[" : "{"
                guard depth.last == want else { throw JinjaError("unexpected '\(Character(c))'", line: line) }
                depth.removeLast()
            }
            tokens.append(JinjaToken(kind: .op, value: String(Character(c)), line: line))
            pos += 1
        }
    }

    private func matches(_ op: String) -> Bool {
        let o = Array(op.unicodeScalars)
        return pos + 1 < s.count && s[pos] == o[0] && s[pos + 1] == o[1]
    }

    private func string(_ from: Int, _ to: Int) -> String {
        var v = String.UnicodeScalarView()
        v.append(contentsOf: s[from..<to])
        return String(v)
    }

    private mutating func number() throws {
        let start = pos
        func digits() { while pos < s.count, ("0"..."9").contains(s[pos]) || s[pos] == "_" { pos += 1 } }
        digits()
        var isFloat = false
        if pos + 1 < s.count, s[pos] == ".", ("0"..."9").contains(s[pos + 1]) { isFloat = true; pos += 1; digits() }
        if pos < s.count, s[pos] == "e" || s[pos] == "E" {
            var k = pos + 1
            if k < s.count, s[k] == "+" || s[k] == "-" { k += 1 }
            if k < s.count, ("0"..."9").contains(s[k]) { isFloat = true; pos = k; digits() }
        }
        let text = string(start, pos).replacingOccurrences(of: "_", with: "")
        tokens.append(JinjaToken(kind: isFloat ? .float : .int, value: text, line: line))
    }

    /// A quoted string with Python's escapes.
    private mutating func stringLiteral(quote: Unicode.Scalar) throws {
        let startLine = line
        pos += 1
        var out = String.UnicodeScalarView()
        while true {
            guard pos < s.count else { throw JinjaError("a string is never closed", line: startLine) }
            let c = s[pos]
            if c == quote { pos += 1; break }
            if c == "\n" { line += 1 }
            if c == "\\", pos + 1 < s.count {
                let e = s[pos + 1]
                pos += 2
                switch e {
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "r": out.append("\r")
                case "0": out.append("\0")
                case "\\", "'", "\"": out.append(e)
                case "\n": line += 1
                case "x", "u", "U":
                    let n = e == "x" ? 2 : e == "u" ? 4 : 8
                    guard pos + n <= s.count, let v = UInt32(string(pos, pos + n), radix: 16), let u = Unicode.Scalar(v) else {
                        throw JinjaError("a bad \\\(Character(e)) escape in a string", line: line)
                    }
                    out.append(u)
                    pos += n
                default: out.append("\\"); out.append(e)
                }
                continue
            }
            out.append(c)
            pos += 1
        }
        tokens.append(JinjaToken(kind: .string, value: String(out), line: startLine))
    }
}
