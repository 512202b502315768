/// Kinds of token the scanner produces.
enum TokenKind: Equatable {
    case number(Double)
    /// A string literal: parts alternate between literal text and interpolated source.
    case string([StringPart])
    case identifier(String)
    case keyword(Keyword)
    case symbol(String)
    case newline
    case eof
}

/// One piece of a string literal.
enum StringPart: Equatable {
    case text(String)
    /// Source of a `${...}` interpolation and where it starts.
    case code(String, line: Int, column: Int)
}

enum Keyword: String, CaseIterable {
    case fn, `if`, `else`, `while`, `for`, `in`, `return`, `break`, `continue`
    case and, or, not, `true`, `false`, `nil`, `import`
}

struct Token {
    let kind: TokenKind
    let line: Int
    let column: Int
    /// Whether a newline came right before this token (inside brackets newlines are dropped).
    var text: String {
        switch kind {
        case .number(let n): return Value.number(n).description
        case .string: return "string"
        case .identifier(let s): return s
        case .keyword(let k): return k.rawValue
        case .symbol(let s): return s
        case .newline: return "end of line"
        case .eof: return "end of input"
        }
    }
}

/// The fixed words of the language (keywords and operator symbols), for tools that generate
/// Finch code (the fuzzer's dictionary).
public enum FinchSyntax {
    public static var keywords: [String] { Keyword.allCases.map(\.rawValue) }
    public static var symbols: [String] { Lexer.symbols }
}
