/// An expression in a template, with the line it starts on (for errors).
struct JinjaExpr: Sendable {
    indirect enum Kind: Sendable {
        case literal(JinjaValue)
        case name(String)
        case list([JinjaExpr])
        case dict([(JinjaExpr, JinjaExpr)])
        case attribute(JinjaExpr, String)
        case item(JinjaExpr, JinjaExpr)
        case slice(JinjaExpr, JinjaExpr?, JinjaExpr?, JinjaExpr?)
        case call(JinjaExpr, [JinjaExpr], [(String, JinjaExpr)])
        case filter(JinjaExpr, String, [JinjaExpr], [(String, JinjaExpr)])
        case test(JinjaExpr, String, [JinjaExpr], negated: Bool)
        case unary(String, JinjaExpr)
        case binary(String, JinjaExpr, JinjaExpr)
        case and(JinjaExpr, JinjaExpr)
        case or(JinjaExpr, JinjaExpr)
        case not(JinjaExpr)
        case condition(JinjaExpr, then: JinjaExpr, otherwise: JinjaExpr?)
    }
    let kind: Kind
    let line: Int
}

/// Where `for` and `set` put values: a name, names unpacked from a sequence, or a namespace's field.
enum JinjaTarget: Sendable {
    case name(String)
    case names([String])
    case field(String, String)
}

/// A statement of a template.
indirect enum JinjaNode: Sendable {
    case text(String)
    case output(JinjaExpr)
    case ifChain([(JinjaExpr, [JinjaNode])], otherwise: [JinjaNode])
    case forLoop(JinjaTarget, JinjaExpr, filter: JinjaExpr?, body: [JinjaNode], otherwise: [JinjaNode], line: Int)
    case set(JinjaTarget, JinjaExpr, line: Int)
    case setBlock(JinjaTarget, [JinjaNode], filters: [(String, [JinjaExpr], [(String, JinjaExpr)])], line: Int)
    case macro(JinjaMacroDefinition)
    case filterBlock([JinjaNode], filters: [(String, [JinjaExpr], [(String, JinjaExpr)])], line: Int)
    case breakLoop(line: Int)
    case continueLoop(line: Int)
    /// `{% generation %}`: the assistant's text, which transformers marks for training.
    case generation([JinjaNode])
}

/// `{% macro name(a, b=1) %}...{% endmacro %}`.
struct JinjaMacroDefinition: Sendable {
    let name: String
    let parameters: [(String, JinjaExpr?)]
    let body: [JinjaNode]
    let line: Int
}
