/// Turns a template's tokens into statements, with jinja2's grammar and operator precedence
/// (or, and, not, comparisons, + -, ~, * / // %, **, unary minus, then filters, tests and calls).
struct JinjaParser {
    private let tokens: [JinjaToken]
    private var i = 0

    init(tokens: [JinjaToken]) { self.tokens = tokens }

    mutating func parseTemplate() throws -> [JinjaNode] {
        let (nodes, end) = try parseNodes(until: [])
        if let end { throw JinjaError("unexpected '{% \(end.value) %}' with no block open", line: end.line) }
        return nodes
    }

    // MARK: Statements

    private var current: JinjaToken { tokens[i] }

    private mutating func advance() -> JinjaToken {
        let t = tokens[i]
        if i < tokens.count - 1 { i += 1 }
        return t
    }

    /// Statements up to a block tag whose name is in `ends` (returned, its name consumed) or the end of the template.
    private mutating func parseNodes(until ends: Set<String>) throws -> ([JinjaNode], JinjaToken?) {
        var nodes: [JinjaNode] = []
        while true {
            let t = current
            switch t.kind {
            case .end:
                return (nodes, nil)
            case .text:
                _ = advance()
                nodes.append(.text(t.value))
            case .variableBegin:
                _ = advance()
                let e = try parseTuple()
                try expect(.variableEnd, "'}}'")
                nodes.append(.output(e))
            case .blockBegin:
                _ = advance()
                let name = current
                guard name.kind == .name else { throw JinjaError("a tag needs a name after '{%'", line: name.line) }
                if ends.contains(name.value) {
                    _ = advance()
                    return (nodes, name)
                }
                nodes.append(try parseStatement())
            default:
                throw JinjaError("unexpected '\(t.value)'", line: t.line)
            }
        }
    }

    private mutating func parseStatement() throws -> JinjaNode {
        let keyword = advance()
        let line = keyword.line
        switch keyword.value {
        case "if":
            var branches: [(JinjaExpr, [JinjaNode])] = []
            var condition = try parseTuple()
            while true {
                try expect(.blockEnd, "'%}'")
                let (body, end) = try parseNodes(until: ["elif", "else", "endif"])
                guard let end else { throw unclosed("if", line) }
                branches.append((condition, body))
                if end.value == "elif" { condition = try parseTuple(); continue }
                if end.value == "else" {
                    try expect(.blockEnd, "'%}'")
                    let (other, close) = try parseNodes(until: ["endif"])
                    guard close != nil else { throw unclosed("if", line) }
                    try expect(.blockEnd, "'%}'")
                    return .ifChain(branches, otherwise: other)
                }
                try expect(.blockEnd, "'%}'")
                return .ifChain(branches, otherwise: [])
            }
        case "for":
            let target = try parseTarget()
            try expectName("in")
            let iterable = try parseTuple(withCondition: false)
            var filter: JinjaExpr?
            if current.kind == .name, current.value == "if" { _ = advance(); filter = try parseTuple() }
            if current.kind == .name, current.value == "recursive" {
                throw JinjaError("recursive loops are not supported", line: current.line)
            }
            try expect(.blockEnd, "'%}'")
            let (body, end) = try parseNodes(until: ["else", "endfor"])
            guard let end else { throw unclosed("for", line) }
            var other: [JinjaNode] = []
            if end.value == "else" {
                try expect(.blockEnd, "'%}'")
                let (o, close) = try parseNodes(until: ["endfor"])
                guard close != nil else { throw unclosed("for", line) }
                other = o
            }
            try expect(.blockEnd, "'%}'")
            return .forLoop(target, iterable, filter: filter, body: body, otherwise: other, line: line)
        case "set":
            let target = try parseTarget(allowField: true)
            if current.kind == .op, current.value == "=" {
                _ = advance()
                let value = try parseTuple()
                try expect(.blockEnd, "'%}'")
                return .set(target, value, line: line)
            }
            let filters = try parseFilterChain()
            try expect(.blockEnd, "'%}'")
            let (body, end) = try parseNodes(until: ["endset"])
            guard end != nil else { throw unclosed("set", line) }
            try expect(.blockEnd, "'%}'")
            return .setBlock(target, body, filters: filters, line: line)
        case "macro":
            let name = try expectName()
            try expectOp("(")
            var parameters: [(String, JinjaExpr?)] = []
            while !(current.kind == .op && current.value == ")") {
                if !parameters.isEmpty { try expectOp(",") }
                if current.kind == .op, current.value == ")" { break }
                let p = try expectName()
                var fallback: JinjaExpr?
                if current.kind == .op, current.value == "=" { _ = advance(); fallback = try parseExpression() }
                parameters.append((p, fallback))
            }
            try expectOp(")")
            try expect(.blockEnd, "'%}'")
            let (body, end) = try parseNodes(until: ["endmacro"])
            guard end != nil else { throw unclosed("macro", line) }
            if current.kind == .name { _ = advance() }
            try expect(.blockEnd, "'%}'")
            return .macro(JinjaMacroDefinition(name: name, parameters: parameters, body: body, line: line))
        case "filter":
            let filters = try parseFilterChain(first: true)
            try expect(.blockEnd, "'%}'")
            let (body, end) = try parseNodes(until: ["endfilter"])
            guard end != nil else { throw unclosed("filter", line) }
            try expect(.blockEnd, "'%}'")
            return .filterBlock(body, filters: filters, line: line)
        case "generation":
            try expect(.blockEnd, "'%}'")
            let (body, end) = try parseNodes(until: ["endgeneration"])
            guard end != nil else { throw unclosed("generation", line) }
            try expect(.blockEnd, "'%}'")
            return .generation(body)
        case "break":
            try expect(.blockEnd, "'%}'")
            return .breakLoop(line: line)
        case "continue":
            try expect(.blockEnd, "'%}'")
            return .continueLoop(line: line)
        default:
            throw JinjaError("unknown tag '\(keyword.value)'", line: line)
        }
    }

    private func unclosed(_ tag: String, _ line: Int) -> JinjaError {
        JinjaError("'{% \(tag) %}' is never closed with '{% end\(tag) %}'", line: line)
    }

    private mutating func parseTarget(allowField: Bool = false) throws -> JinjaTarget {
        let first = try expectName()
        if allowField, current.kind == .op, current.value == "." {
            _ = advance()
            return .field(first, try expectName())
        }
        var names = [first]
        while current.kind == .op, current.value == "," {
            _ = advance()
            names.append(try expectName())
        }
        return names.count == 1 ? .name(first) : .names(names)
    }

    /// `| name(args) | ...` after `{% set x %}` or `{% filter %}`.
    private mutating func parseFilterChain(first: Bool = false) throws -> [(String, [JinjaExpr], [(String, JinjaExpr)])] {
        var out: [(String, [JinjaExpr], [(String, JinjaExpr)])] = []
        var needPipe = !first
        while true {
            if needPipe {
                guard current.kind == .op, current.value == "|" else { return out }
                _ = advance()
            }
            needPipe = true
            let name = try dottedName()
            var args: [JinjaExpr] = [], keywords: [(String, JinjaExpr)] = []
            if current.kind == .op, current.value == "(" { (args, keywords) = try parseCallArguments() }
            out.append((name, args, keywords))
        }
    }

    // MARK: Expressions

    /// An expression, or several separated by commas (a tuple, which Finch holds as a list).
    private mutating func parseTuple(withCondition: Bool = true) throws -> JinjaExpr {
        let line = current.line
        let first = withCondition ? try parseExpression() : try parseOr()
        guard current.kind == .op, current.value == "," else { return first }
        var items = [first]
        while current.kind == .op, current.value == "," {
            _ = advance()
            if isExpressionEnd { break }
            items.append(withCondition ? try parseExpression() : try parseOr())
        }
        return JinjaExpr(kind: .list(items), line: line)
    }

    private var isExpressionEnd: Bool {
        switch current.kind {
        case .blockEnd, .variableEnd, .end: return true
        case .op: return [")", "]", "}"].contains(current.value)
        case .name: return current.value == "if" || current.value == "in"
        default: return false
        }
    }

    mutating func parseExpression() throws -> JinjaExpr {
        let e = try parseOr()
        guard current.kind == .name, current.value == "if" else { return e }
        let line = advance().line
        let condition = try parseOr()
        var otherwise: JinjaExpr?
        if current.kind == .name, current.value == "else" { _ = advance(); otherwise = try parseExpression() }
        return JinjaExpr(kind: .condition(condition, then: e, otherwise: otherwise), line: line)
    }

    private mutating func parseOr() throws -> JinjaExpr { try parseChain(["or"], JinjaExpr.Kind.or) { try $0.parseAnd() } }
    private mutating func parseAnd() throws -> JinjaExpr { try parseChain(["and"], JinjaExpr.Kind.and) { try $0.parseNot() } }

    private mutating func parseNot() throws -> JinjaExpr {
        if current.kind == .name, current.value == "not" {
            let line = advance().line
            return JinjaExpr(kind: .not(try parseNot()), line: line)
        }
        return try parseCompare()
    }

    private mutating func parseCompare() throws -> JinjaExpr {
        var e = try parseMath1()
        while true {
            let line = current.line
            if current.kind == .op, ["==", "!=", "<", ">", "<=", ">="].contains(current.value) {
                let op = advance().value
                e = JinjaExpr(kind: .binary(op, e, try parseMath1()), line: line)
            } else if current.kind == .name, current.value == "in" {
                _ = advance()
                e = JinjaExpr(kind: .binary("in", e, try parseMath1()), line: line)
            } else if current.kind == .name, current.value == "not", i + 1 < tokens.count, tokens[i + 1].kind == .name, tokens[i + 1].value == "in" {
                _ = advance(); _ = advance()
                e = JinjaExpr(kind: .not(JinjaExpr(kind: .binary("in", e, try parseMath1()), line: line)), line: line)
            } else {
                return e
            }
        }
    }

    // + -, then ~, then * / // %, then **: each level a left-associative chain of the next.
    private mutating func parseMath1() throws -> JinjaExpr { try parseChain(["+", "-"]) { try $0.parseConcat() } }
    private mutating func parseConcat() throws -> JinjaExpr { try parseChain(["~"]) { try $0.parseMath2() } }
    private mutating func parseMath2() throws -> JinjaExpr { try parseChain(["*", "/", "//", "%"]) { try $0.parsePower() } }
    private mutating func parsePower() throws -> JinjaExpr { try parseChain(["**"]) { try $0.parseUnary() } }

    /// operand (op operand)*, left-associative; `make` builds each node (a binary operator by default;
    /// `or` and `and` are names, and their own nodes, since they short-circuit).
    private mutating func parseChain(_ ops: Set<String>, _ make: ((JinjaExpr, JinjaExpr) -> JinjaExpr.Kind)? = nil,
                                     _ operand: (inout JinjaParser) throws -> JinjaExpr) throws -> JinjaExpr {
        var e = try operand(&self)
        while current.kind == .op || current.kind == .name, ops.contains(current.value) {
            let t = advance()
            let right = try operand(&self)
            e = JinjaExpr(kind: make?(e, right) ?? .binary(t.value, e, right), line: t.line)
        }
        return e
    }

    private mutating func parseUnary(withFilters: Bool = true) throws -> JinjaExpr {
        var e: JinjaExpr
        if current.kind == .op, current.value == "-" || current.value == "+" {
            let t = advance()
            e = JinjaExpr(kind: .unary(t.value, try parseUnary(withFilters: false)), line: t.line)
        } else {
            e = try parsePrimary()
        }
        e = try parsePostfix(e)
        return withFilters ? try parseFilterExpression(e) : e
    }

    private mutating func parsePrimary() throws -> JinjaExpr {
        let t = advance()
        switch t.kind {
        case .name:
            switch t.value {
            case "true", "True": return JinjaExpr(kind: .literal(.bool(true)), line: t.line)
            case "false", "False": return JinjaExpr(kind: .literal(.bool(false)), line: t.line)
            case "none", "None": return JinjaExpr(kind: .literal(.none), line: t.line)
            default: return JinjaExpr(kind: .name(t.value), line: t.line)
            }
        case .string:
            var text = t.value
            while current.kind == .string { text += advance().value }
            return JinjaExpr(kind: .literal(.string(text)), line: t.line)
        case .int:
            guard let v = Int(t.value) else { throw JinjaError("the integer \(t.value) is too large", line: t.line) }
            return JinjaExpr(kind: .literal(.int(v)), line: t.line)
        case .float:
            return JinjaExpr(kind: .literal(.double(Double(t.value) ?? .nan)), line: t.line)
        case .op where t.value == "(":
            if current.kind == .op, current.value == ")" { _ = advance(); return JinjaExpr(kind: .list([]), line: t.line) }
            let e = try parseTuple()
            try expectOp(")")
            return e
        case .op where t.value == "[":
            var items: [JinjaExpr] = []
            while !(current.kind == .op && current.value == "]") {
                if !items.isEmpty { try expectOp(",") }
                if current.kind == .op, current.value == "]" { break }
                items.append(try parseExpression())
            }
            try expectOp("]")
            return JinjaExpr(kind: .list(items), line: t.line)
        case .op where t.value == "{":
            var pairs: [(JinjaExpr, JinjaExpr)] = []
            while !(current.kind == .op && current.value == "}") {
                if !pairs.isEmpty { try expectOp(",") }
                if current.kind == .op, current.value == "}" { break }
                let key = try parseExpression()
                try expectOp(":")
                pairs.append((key, try parseExpression()))
            }
            try expectOp("}")
            return JinjaExpr(kind: .dict(pairs), line: t.line)
        case .blockEnd, .variableEnd, .end:
            throw JinjaError("an expression is missing", line: t.line)
        default:
            throw JinjaError("unexpected '\(t.value)'", line: t.line)
        }
    }

    private mutating func parsePostfix(_ base: JinjaExpr) throws -> JinjaExpr {
        var e = base
        while current.kind == .op {
            let line = current.line
            switch current.value {
            case ".":
                _ = advance()
                let t = advance()
                guard t.kind == .name || t.kind == .int else { throw JinjaError("a name must follow '.'", line: t.line) }
                if t.kind == .int, let k = Int(t.value) {
                    e = JinjaExpr(kind: .item(e, JinjaExpr(kind: .literal(.int(k)), line: line)), line: line)
                } else {
                    e = JinjaExpr(kind: .attribute(e, t.value), line: line)
                }
            case "[":
                _ = advance()
                e = try parseSubscript(e, line: line)
            case "(":
                let (args, keywords) = try parseCallArguments()
                e = JinjaExpr(kind: .call(e, args, keywords), line: line)
            default:
                return e
            }
        }
        return e
    }

    private mutating func parseSubscript(_ base: JinjaExpr, line: Int) throws -> JinjaExpr {
        func isColon(_ p: JinjaParser) -> Bool { p.current.kind == .op && p.current.value == ":" }
        func isClose(_ p: JinjaParser) -> Bool { p.current.kind == .op && p.current.value == "]" }
        var parts: [JinjaExpr?] = []
        var sawColon = false
        var part: JinjaExpr? = isColon(self) || isClose(self) ? nil : try parseExpression()
        while isColon(self) {
            _ = advance()
            sawColon = true
            parts.append(part)
            part = isColon(self) || isClose(self) ? nil : try parseExpression()
        }
        parts.append(part)
        try expectOp("]")
        if !sawColon {
            guard let index = parts[0] else { throw JinjaError("an index is missing in '[]'", line: line) }
            return JinjaExpr(kind: .item(base, index), line: line)
        }
        guard parts.count <= 3 else { throw JinjaError("a slice has at most three parts", line: line) }
        return JinjaExpr(kind: .slice(base, parts[0], parts.count > 1 ? parts[1] : nil, parts.count > 2 ? parts[2] : nil), line: line)
    }

    private mutating func parseCallArguments() throws -> ([JinjaExpr], [(String, JinjaExpr)]) {
        try expectOp("(")
        var args: [JinjaExpr] = [], keywords: [(String, JinjaExpr)] = []
        while !(current.kind == .op && current.value == ")") {
            if !args.isEmpty || !keywords.isEmpty { try expectOp(",") }
            if current.kind == .op, current.value == ")" { break }
            if current.kind == .name, i + 1 < tokens.count, tokens[i + 1].kind == .op, tokens[i + 1].value == "=" {
                let name = advance().value
                _ = advance()
                keywords.append((name, try parseExpression()))
            } else {
                if !keywords.isEmpty { throw JinjaError("a positional argument follows a keyword argument", line: current.line) }
                args.append(try parseExpression())
            }
        }
        try expectOp(")")
        return (args, keywords)
    }

    private mutating func dottedName() throws -> String {
        var name = try expectName()
        while current.kind == .op, current.value == ".", i + 1 < tokens.count, tokens[i + 1].kind == .name {
            _ = advance()
            name += "." + advance().value
        }
        return name
    }

    private mutating func parseFilterExpression(_ base: JinjaExpr) throws -> JinjaExpr {
        var e = base
        while true {
            let line = current.line
            if current.kind == .op, current.value == "|" {
                _ = advance()
                let name = try dottedName()
                var args: [JinjaExpr] = [], keywords: [(String, JinjaExpr)] = []
                if current.kind == .op, current.value == "(" { (args, keywords) = try parseCallArguments() }
                e = JinjaExpr(kind: .filter(e, name, args, keywords), line: line)
            } else if current.kind == .name, current.value == "is" {
                _ = advance()
                var negated = false
                if current.kind == .name, current.value == "not" { _ = advance(); negated = true }
                let name = try dottedName()
                var args: [JinjaExpr] = []
                if current.kind == .op, current.value == "(" {
                    let (a, k) = try parseCallArguments()
                    args = a + k.map(\.1)
                } else if startsArgument {
                    if current.kind == .name, current.value == "is" { throw JinjaError("tests cannot be chained with 'is'", line: current.line) }
                    args = [try parsePostfix(try parsePrimary())]
                }
                e = JinjaExpr(kind: .test(e, name, args, negated: negated), line: line)
            } else if current.kind == .op, current.value == "(" {
                let (args, keywords) = try parseCallArguments()
                e = JinjaExpr(kind: .call(e, args, keywords), line: line)
            } else {
                return e
            }
        }
    }

    /// Whether a test's single argument follows without parentheses (`x is divisibleby 3`).
    private var startsArgument: Bool {
        switch current.kind {
        case .name: return !["else", "or", "and", "if", "in", "not"].contains(current.value) || current.value == "is"
        case .string, .int, .float: return true
        case .op: return current.value == "[" || current.value == "{"
        default: return false
        }
    }

    // MARK: Expectations

    private mutating func expect(_ kind: JinjaToken.Kind, _ what: String) throws {
        guard current.kind == kind else {
            let got = current.kind == .end ? "the end of the template" : current.value.isEmpty ? "'\(describe(current.kind))'" : "'\(current.value)'"
            throw JinjaError("expected \(what), got \(got)", line: current.line)
        }
        _ = advance()
    }

    private func describe(_ kind: JinjaToken.Kind) -> String {
        switch kind {
        case .variableEnd: return "}}"
        case .blockEnd: return "%}"
        case .variableBegin: return "{{"
        case .blockBegin: return "{%"
        default: return "\(kind)"
        }
    }

    private mutating func expectOp(_ op: String) throws {
        guard current.kind == .op, current.value == op else {
            throw JinjaError("expected '\(op)', got \(current.kind == .end ? "the end of the template" : "'\(current.value.isEmpty ? describe(current.kind) : current.value)'")", line: current.line)
        }
        _ = advance()
    }

    @discardableResult
    private mutating func expectName(_ name: String? = nil) throws -> String {
        guard current.kind == .name, name == nil || current.value == name else {
            throw JinjaError("expected \(name.map { "'\($0)'" } ?? "a name"), got '\(current.value.isEmpty ? describe(current.kind) : current.value)'", line: current.line)
        }
        return advance().value
    }
}
