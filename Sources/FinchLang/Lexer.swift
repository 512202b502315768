/// The scanner: source text to tokens. Newlines end statements, except inside
/// parentheses and square brackets, where an expression may span lines.
struct Lexer {
    let source: Source
    private let chars: [Character]
    private var i = 0
    private var line: Int
    private var column = 1
    private var brackets: [Character] = []

    /// Scans `source`, or a snippet of it (an interpolation) starting at `line`:`column`.
    init(_ source: Source, snippet: String? = nil, line: Int? = nil, column: Int? = nil) {
        self.source = source
        chars = Array(snippet ?? source.text)
        self.line = line ?? source.firstLine
        self.column = column ?? 1
    }

    private func error(_ message: String, line: Int? = nil, column: Int? = nil, incomplete: Bool = false) -> FinchError {
        FinchError(.syntax, message, at: Location(source: source, line: Int32(line ?? self.line), column: Int32(column ?? self.column)),
                   incomplete: incomplete)
    }

    private var peek: Character? { i < chars.count ? chars[i] : nil }
    private func peek(_ k: Int) -> Character? { i + k < chars.count ? chars[i + k] : nil }

    private mutating func advance() -> Character {
        let c = chars[i]
        i += 1
        if c == "\n" { line += 1; column = 1 } else { column += 1 }
        return c
    }

    static let symbols: [String] = ["**", "==", "!=", "<=", ">=", "..", "+=", "-=", "*=", "/=",
                                    "+", "-", "*", "/", "%", "@", "<", ">", "=", "(", ")", "[", "]", "{", "}",
                                    ",", ".", ":", ";"]

    mutating func tokenize() throws -> [Token] {
        var tokens: [Token] = []
        while true {
            // Skip spaces and comments.
            while let c = peek {
                if c == " " || c == "\t" || c == "\r" { _ = advance() } else if c == "#" {
                    while let d = peek, d != "\n" { _ = advance() }
                } else if c == "\\", peek(1) == "\n" {
                    _ = advance(); _ = advance()  // explicit line continuation
                } else { break }
            }
            guard let c = peek else { break }
            let startLine = line, startColumn = column
            func add(_ kind: TokenKind) { tokens.append(Token(kind: kind, line: startLine, column: startColumn)) }

            if c == "\n" {
                _ = advance()
                if brackets.last != "(" && brackets.last != "[" {
                    if let last = tokens.last, last.kind != .newline { add(.newline) }
                }
                continue
            }
            if c.isNumber {
                add(.number(try number()))
                continue
            }
            if c.isLetter || c == "_" {
                var word = ""
                while let d = peek, d.isLetter || d.isNumber || d == "_" { word.append(advance()) }
                add(Keyword(rawValue: word).map { .keyword($0) } ?? .identifier(word))
                continue
            }
            if c == "\"" || c == "'" {
                add(.string(try string(quote: c)))
                continue
            }
            var matched: String?
            for s in Lexer.symbols where matchesAhead(s) { matched = s; break }
            guard let symbol = matched else { throw error("unexpected character '\(c)'") }
            for _ in symbol { _ = advance() }
            switch symbol {
            case "(", "[", "{": brackets.append(Character(symbol))
            case ")", "]", "}":
                let open: Character = symbol == ")" ? "(" : (symbol == "]" ? "[" : "{")
                guard brackets.last == open else {
                    throw error("'\(symbol)' does not close anything" + (brackets.last.map { " (the open bracket is '\($0)')" } ?? ""),
                                line: startLine, column: startColumn)
                }
                brackets.removeLast()
            default: break
            }
            add(.symbol(symbol))
        }
        if let open = brackets.last {
            throw error("'\(open)' is not closed", incomplete: true)
        }
        tokens.append(Token(kind: .eof, line: line, column: column))
        return tokens
    }

    private func matchesAhead(_ s: String) -> Bool {
        var k = 0
        for ch in s {
            guard let c = peek(k), c == ch else { return false }
            k += 1
        }
        // "1..3" must not read "." as part of a number, and ".." is not "." ".".
        return true
    }

    private mutating func number() throws -> Double {
        var text = ""
        if peek == "0", let x = peek(1), x == "x" || x == "X" {
            _ = advance(); _ = advance()
            while let d = peek, d.isHexDigit || d == "_" { if d != "_" { text.append(d) }; _ = advance() }
            guard let v = UInt64(text, radix: 16) else { throw error("malformed hexadecimal number") }
            return Double(v)
        }
        while let d = peek, d.isNumber || d == "_" { if d != "_" { text.append(d) }; _ = advance() }
        if peek == ".", let d = peek(1), d.isNumber {
            text.append(advance())
            while let d = peek, d.isNumber || d == "_" { if d != "_" { text.append(d) }; _ = advance() }
        }
        if let e = peek, e == "e" || e == "E", let d = peek(1), d.isNumber || ((d == "+" || d == "-") && (peek(2)?.isNumber ?? false)) {
            text.append(advance())
            if peek == "+" || peek == "-" { text.append(advance()) }
            while let d = peek, d.isNumber { text.append(advance()) }
        }
        guard let v = Double(text) else { throw error("malformed number '\(text)'") }
        return v
    }

    private mutating func string(quote: Character) throws -> [StringPart] {
        let startLine = line, startColumn = column
        _ = advance()
        var parts: [StringPart] = []
        var text = ""
        while true {
            guard let c = peek else {
                throw error("unterminated string", line: startLine, column: startColumn, incomplete: true)
            }
            if c == quote { _ = advance(); break }
            if c == "\\" {
                _ = advance()
                guard let e = peek else { throw error("unterminated string", line: startLine, column: startColumn, incomplete: true) }
                let escLine = line, escColumn = column
                _ = advance()
                switch e {
                case "n": text.append("\n")
                case "t": text.append("\t")
                case "r": text.append("\r")
                case "0": text.append("\0")
                case "\\": text.append("\\")
                case "\"": text.append("\"")
                case "'": text.append("'")
                case "$": text.append("$")
                case "{": text.append("{")
                case "}": text.append("}")
                case "\n": break
                case "u":
                    guard peek == "{" else { throw error("expected '{' after \\u", line: escLine, column: escColumn) }
                    _ = advance()
                    var hex = ""
                    while let h = peek, h != "}" { hex.append(advance()) }
                    guard peek == "}" else { throw error("unterminated \\u{...}", line: escLine, column: escColumn, incomplete: true) }
                    _ = advance()
                    guard let v = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(v) else {
                        throw error("invalid unicode escape \\u{\(hex)}", line: escLine, column: escColumn)
                    }
                    text.unicodeScalars.append(scalar)
                default:
                    throw error("unknown escape '\\\(e)'", line: escLine, column: escColumn)
                }
                continue
            }
            if quote == "\"", c == "$", peek(1) == "{" {
                _ = advance(); _ = advance()
                let codeLine = line, codeColumn = column
                var depth = 0
                var code = ""
                while true {
                    guard let d = peek else { throw error("unterminated '${' in string", line: codeLine, column: codeColumn, incomplete: true) }
                    if d == "}" && depth == 0 { _ = advance(); break }
                    if d == "{" { depth += 1 }
                    if d == "}" { depth -= 1 }
                    if d == "\"" || d == "'" {
                        // A string inside the interpolation: copy it whole.
                        code.append(advance())
                        while let s = peek, s != d { if s == "\\" { code.append(advance()) }; if peek != nil { code.append(advance()) } }
                        if peek != nil { code.append(advance()) }
                        continue
                    }
                    code.append(advance())
                }
                if !text.isEmpty { parts.append(.text(text)); text = "" }
                parts.append(.code(code, line: codeLine, column: codeColumn))
                continue
            }
            text.append(advance())
        }
        if !text.isEmpty || parts.isEmpty { parts.append(.text(text)) }
        return parts
    }
}
