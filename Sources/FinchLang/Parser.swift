/// The parser: tokens to a syntax tree, by recursive descent with one
/// function per precedence level (lowest first: or, and, not, comparison,
/// range, sum, product, unary, power, postfix).
struct Parser {
    let source: Source
    private var tokens: [Token]
    private var p = 0
    private var depth = 0
    private var functionDepth = 0
    private var loopDepth = 0
    static let maxNesting = 200

    init(_ source: Source) throws {
        self.source = source
        var lexer = Lexer(source)
        tokens = try lexer.tokenize()
    }

    private init(source: Source, tokens: [Token]) {
        self.source = source
        self.tokens = tokens
    }

    /// Parses a whole program or REPL entry.
    mutating func parseProgram() throws -> [Node] {
        var statements: [Node] = []
        skipTerminators()
        while !atEnd {
            statements.append(try statement())
            try endOfStatement()
            skipTerminators()
        }
        return statements
    }

    // MARK: Tokens

    private var current: Token { tokens[p] }
    private var atEnd: Bool { if case .eof = current.kind { return true }; return false }

    private func error(_ message: String, at token: Token? = nil) -> FinchError {
        let t = token ?? current
        var incomplete = false
        if case .eof = t.kind { incomplete = true }
        return FinchError(.syntax, message, at: Location(source: source, line: Int32(t.line), column: Int32(t.column)), incomplete: incomplete)
    }

    private func isSymbol(_ s: String) -> Bool { if case .symbol(let x) = current.kind { return x == s }; return false }
    private func isKeyword(_ k: Keyword) -> Bool { if case .keyword(let x) = current.kind { return x == k }; return false }
    private var isNewline: Bool { if case .newline = current.kind { return true }; return false }

    private mutating func advance() -> Token {
        let t = tokens[p]
        if p < tokens.count - 1 { p += 1 }
        return t
    }

    private mutating func match(_ s: String) -> Bool {
        if isSymbol(s) { p += 1; return true }
        return false
    }

    private mutating func expect(_ s: String, _ context: String) throws -> Token {
        guard isSymbol(s) else { throw error("expected '\(s)' \(context), found \(describe(current))") }
        return advance()
    }

    private func describe(_ t: Token) -> String {
        switch t.kind {
        case .eof: return "end of input"
        case .newline: return "end of line"
        case .string: return "a string"
        case .number: return "number \(t.text)"
        default: return "'\(t.text)'"
        }
    }

    private mutating func skipNewlines() { while isNewline { p += 1 } }
    private mutating func skipTerminators() { while isNewline || isSymbol(";") { p += 1 } }

    private mutating func endOfStatement() throws {
        if isNewline || isSymbol(";") || atEnd || isSymbol("}") { return }
        throw error("expected end of statement, found \(describe(current))")
    }

    private mutating func identifier(_ context: String) throws -> Token {
        guard case .identifier = current.kind else { throw error("expected a name \(context), found \(describe(current))") }
        return advance()
    }

    // MARK: Statements

    private mutating func statement() throws -> Node {
        let t = current
        if case .keyword(let k) = t.kind {
            switch k {
            case .fn:
                if case .identifier = tokens[p + 1].kind { return try functionDeclaration() }
            case .if: return try ifStatement()
            case .while:
                _ = advance()
                let condition = try expression()
                loopDepth += 1
                defer { loopDepth -= 1 }
                return While(condition, try block("after the while condition"), t.line, t.column)
            case .for: return try forStatement()
            case .return:
                _ = advance()
                guard functionDepth > 0 else { throw error("'return' outside a function", at: t) }
                if isNewline || isSymbol(";") || isSymbol("}") || atEnd { return Return(nil, t.line, t.column) }
                return Return(try expression(), t.line, t.column)
            case .break, .continue:
                _ = advance()
                guard loopDepth > 0 else { throw error("'\(k.rawValue)' outside a loop", at: t) }
                return Node(k == .break ? .breakStmt : .continueStmt, t.line, t.column)
            case .import:
                _ = advance()
                guard case .string(let parts) = current.kind, parts.count == 1, case .text(let path) = parts[0] else {
                    throw error("expected a path string after 'import'")
                }
                _ = advance()
                return Import(path, t.line, t.column)
            default: break
            }
        }
        let expr = try expression()
        // Assignment: the expression just parsed was its target.
        for (symbol, op) in [("=", nil), ("+=", BinaryOp.add), ("-=", .sub), ("*=", .mul), ("/=", .div)] as [(String, BinaryOp?)] where isSymbol(symbol) {
            let opToken = advance()
            skipNewlines()
            var value = try expression()
            if let op { value = Binary(op, expr, value, opToken.line, opToken.column) }
            switch expr {
            case let v as Variable: return Assign(v.name, value, v.line.int, v.column.int)
            case let i as Index: return IndexAssign(i, value, opToken.line, opToken.column)
            case let m as Member: return MemberAssign(m, value, opToken.line, opToken.column)
            default: throw error("cannot assign to this expression", at: opToken)
            }
        }
        return ExprStmt(expr)
    }

    private mutating func functionDeclaration() throws -> Node {
        let fnToken = advance()
        let nameToken = try identifier("after 'fn'")
        let decl = try functionRest(name: nameToken.text, fnToken)
        return FnDecl(Assign(nameToken.text, FunctionExpr(decl, fnToken.line, fnToken.column), nameToken.line, nameToken.column),
                      fnToken.line, fnToken.column)
    }

    /// Parameters and body, after `fn` or `fn name`.
    private mutating func functionRest(name: String, _ start: Token) throws -> FunctionDecl {
        _ = try expect("(", "to start the parameter list")
        var params: [String] = []
        var defaults: [Node?] = []
        while !isSymbol(")") {
            let t = try identifier("for a parameter")
            guard !params.contains(t.text) else { throw error("parameter '\(t.text)' appears twice", at: t) }
            params.append(t.text)
            if match(":") || match("=") {
                defaults.append(try expression())
            } else {
                if defaults.last.flatMap({ $0 }) != nil { throw error("parameter '\(t.text)' without a default follows one with a default", at: t) }
                defaults.append(nil)
            }
            if !match(",") { break }
        }
        _ = try expect(")", "to end the parameter list")
        functionDepth += 1
        let savedLoops = loopDepth
        loopDepth = 0
        defer { functionDepth -= 1; loopDepth = savedLoops }
        let body = try block("for the function body")
        let decl = FunctionDecl(name: name, params: params, defaults: defaults, body: body, line: start.line, column: start.column)
        decl.source = source
        return decl
    }

    private mutating func block(_ context: String) throws -> Block {
        let open = try expect("{", context)
        depth += 1
        defer { depth -= 1 }
        guard depth < Parser.maxNesting else { throw error("blocks nested too deeply (more than \(Parser.maxNesting))") }
        var statements: [Node] = []
        skipTerminators()
        while !isSymbol("}") {
            if atEnd { throw error("expected '}' to close the block opened at line \(open.line)") }
            statements.append(try statement())
            try endOfStatement()
            skipTerminators()
        }
        _ = advance()
        return Block(statements, open.line, open.column)
    }

    private mutating func ifStatement() throws -> Node {
        let t = advance()
        let condition = try expression()
        let then = try block("after the if condition")
        // `else` may sit on the next line after the closing brace.
        let save = p
        skipNewlines()
        if isKeyword(.else) {
            _ = advance()
            if isKeyword(.if) { return If(condition, then, try ifStatement(), t.line, t.column) }
            return If(condition, then, try block("after 'else'"), t.line, t.column)
        }
        p = save
        return If(condition, then, nil, t.line, t.column)
    }

    private mutating func forStatement() throws -> Node {
        let t = advance()
        var targets: [Assign] = []
        repeat {
            let name = try identifier("after 'for'")
            targets.append(Assign(name.text, Literal(.nil, name.line, name.column), name.line, name.column))
        } while match(",")
        guard targets.count <= 2 else { throw error("a for loop takes one or two variables", at: t) }
        guard isKeyword(.in) else { throw error("expected 'in' after the loop variable, found \(describe(current))") }
        _ = advance()
        let iterable = try expression()
        loopDepth += 1
        defer { loopDepth -= 1 }
        return For(targets, iterable, try block("for the loop body"), t.line, t.column)
    }

    // MARK: Expressions

    mutating func expression() throws -> Node {
        depth += 1
        defer { depth -= 1 }
        guard depth < Parser.maxNesting else { throw error("expression nested too deeply (more than \(Parser.maxNesting) levels)") }
        return try orExpr()
    }

    private mutating func orExpr() throws -> Node {
        var lhs = try andExpr()
        while isKeyword(.or) {
            let t = advance()
            skipNewlines()
            lhs = Logical(.or, lhs, try andExpr(), t.line, t.column)
        }
        return lhs
    }

    private mutating func andExpr() throws -> Node {
        var lhs = try notExpr()
        while isKeyword(.and) {
            let t = advance()
            skipNewlines()
            lhs = Logical(.and, lhs, try notExpr(), t.line, t.column)
        }
        return lhs
    }

    private mutating func notExpr() throws -> Node {
        if isKeyword(.not) {
            let t = advance()
            return Unary("not", try notExpr(), t.line, t.column)
        }
        return try comparison()
    }

    private mutating func comparison() throws -> Node {
        var lhs = try rangeExpr()
        while true {
            var op: BinaryOp?
            if case .symbol(let s) = current.kind, let o = BinaryOp(rawValue: s), [.eq, .ne, .lt, .le, .gt, .ge].contains(o) { op = o }
            var negate = false
            if isKeyword(.in) { op = .in }
            if isKeyword(.not), case .keyword(.in) = tokens[p + 1].kind { op = .in; negate = true; _ = advance() }
            guard let op else { return lhs }
            let t = advance()
            skipNewlines()
            lhs = Binary(op, lhs, try rangeExpr(), t.line, t.column)
            if negate { lhs = Unary("not", lhs, t.line, t.column) }
        }
    }

    private mutating func rangeExpr() throws -> Node {
        let lhs = try sum()
        if isSymbol("..") {
            let t = advance()
            return RangeExpr(lhs, try sum(), t.line, t.column)
        }
        return lhs
    }

    private mutating func sum() throws -> Node {
        var lhs = try product()
        while case .symbol(let s) = current.kind, s == "+" || s == "-" {
            let t = advance()
            skipNewlines()
            lhs = Binary(BinaryOp(rawValue: s)!, lhs, try product(), t.line, t.column)
        }
        return lhs
    }

    private mutating func product() throws -> Node {
        var lhs = try unary()
        while case .symbol(let s) = current.kind, s == "*" || s == "/" || s == "%" || s == "@" {
            let t = advance()
            skipNewlines()
            lhs = Binary(BinaryOp(rawValue: s)!, lhs, try unary(), t.line, t.column)
        }
        return lhs
    }

    private mutating func unary() throws -> Node {
        if isSymbol("-") || isSymbol("+") {
            let t = advance()
            let operand = try unary()
            if t.text == "-", let lit = operand as? Literal, case .number(let n) = lit.value { return Literal(.number(-n), t.line, t.column) }
            return Unary(t.text, operand, t.line, t.column)
        }
        return try power()
    }

    private mutating func power() throws -> Node {
        let base = try postfix()
        if isSymbol("**") {
            let t = advance()
            skipNewlines()
            return Binary(.pow, base, try unary(), t.line, t.column)  // right-associative; -2**2 == -4
        }
        return base
    }

    private mutating func postfix() throws -> Node {
        var expr = try primary()
        while true {
            // A method chain may continue on the next line with a leading '.'.
            if isNewline {
                var q = p
                while case .newline = tokens[q].kind { q += 1 }
                if case .symbol(".") = tokens[q].kind { p = q } else { break }
            }
            if isSymbol("(") {
                _ = advance()
                expr = Call(expr, try arguments(), expr.line.int, expr.column.int)
            } else if isSymbol("[") {
                let t = advance()
                expr = Index(expr, try indexParts(), t.line, t.column)
            } else if isSymbol(".") {
                _ = advance()
                let name = try identifier("after '.'")
                if isSymbol("(") {
                    _ = advance()
                    expr = MethodCall(expr, name.text, try arguments(), name.line, name.column)
                } else {
                    expr = Member(expr, name.text, name.line, name.column)
                }
            } else {
                break
            }
        }
        return expr
    }

    /// After '(': arguments up to ')'.
    private mutating func arguments() throws -> CallArguments {
        var args = CallArguments()
        while !isSymbol(")") {
            if case .identifier(let name) = current.kind, case .symbol(":") = tokens[p + 1].kind {
                let t = advance()
                _ = advance()
                guard !args.named.contains(where: { $0.0 == name }) else { throw error("argument '\(name)' given twice", at: t) }
                args.named.append((name, try expression()))
            } else {
                guard args.named.isEmpty else { throw error("a positional argument cannot follow a named one") }
                args.positional.append(try expression())
            }
            if !match(",") { break }
        }
        _ = try expect(")", "to close the argument list")
        return args
    }

    /// After '[': indices and slices up to ']'.
    private mutating func indexParts() throws -> [IndexPart] {
        var parts: [IndexPart] = []
        repeat {
            var start: Node?
            if !isSymbol(":") { start = try expression() }
            if match(":") {
                var end: Node?, step: Node?
                if !isSymbol(":") && !isSymbol("]") && !isSymbol(",") { end = try expression() }
                if match(":") && !isSymbol("]") && !isSymbol(",") { step = try expression() }
                parts.append(.slice(start, end, step))
            } else if let start {
                parts.append(.single(start))
            }
        } while match(",")
        _ = try expect("]", "to close the index")
        guard !parts.isEmpty else { throw error("empty index") }
        return parts
    }

    private mutating func primary() throws -> Node {
        let t = current
        switch t.kind {
        case .number(let n):
            _ = advance()
            return Literal(.number(n), t.line, t.column)
        case .string(let parts):
            _ = advance()
            return try stringNode(parts, t)
        case .identifier(let name):
            _ = advance()
            return Variable(name, t.line, t.column)
        case .keyword(.true): _ = advance(); return Literal(.bool(true), t.line, t.column)
        case .keyword(.false): _ = advance(); return Literal(.bool(false), t.line, t.column)
        case .keyword(.nil): _ = advance(); return Literal(.nil, t.line, t.column)
        case .keyword(.fn):
            _ = advance()
            return FunctionExpr(try functionRest(name: "<anonymous>", t), t.line, t.column)
        case .symbol("("):
            _ = advance()
            let e = try expression()
            _ = try expect(")", "to close the parenthesis")
            return e
        case .symbol("["):
            _ = advance()
            var items: [Node] = []
            while !isSymbol("]") {
                items.append(try expression())
                if !match(",") { break }
            }
            _ = try expect("]", "to close the list")
            return ListLiteral(items, t.line, t.column)
        case .symbol("{"):
            _ = advance()
            return try dictLiteral(t)
        default:
            throw error("expected an expression, found \(describe(t))")
        }
    }

    private mutating func dictLiteral(_ open: Token) throws -> Node {
        var keys: [Node] = [], values: [Node] = []
        skipNewlines()
        while !isSymbol("}") {
            if case .identifier(let name) = current.kind, case .symbol(":") = tokens[p + 1].kind {
                let k = advance()
                keys.append(Literal(.string(name), k.line, k.column))
            } else {
                keys.append(try expression())
            }
            skipNewlines()
            _ = try expect(":", "between a dict key and its value")
            skipNewlines()
            values.append(try expression())
            skipNewlines()
            if !match(",") { break }
            skipNewlines()
        }
        skipNewlines()
        _ = try expect("}", "to close the dict")
        return DictLiteral(keys, values, open.line, open.column)
    }

    private func stringNode(_ parts: [StringPart], _ t: Token) throws -> Node {
        if parts.count == 1, case .text(let s) = parts[0] { return Literal(.string(s), t.line, t.column) }
        var nodes: [Node] = []
        for part in parts {
            switch part {
            case .text(let s): nodes.append(Literal(.string(s), t.line, t.column))
            case let .code(code, line, column):
                var lexer = Lexer(source, snippet: code, line: line, column: column)
                var sub = Parser(source: source, tokens: try lexer.tokenize())
                sub.functionDepth = functionDepth
                sub.skipNewlines()
                let e = try sub.expression()
                sub.skipNewlines()
                guard sub.atEnd else { throw sub.error("expected '}' to end the interpolation, found \(sub.describe(sub.current))") }
                nodes.append(e)
            }
        }
        return Interpolation(nodes, t.line, t.column)
    }
}

extension Int32 {
    var int: Int { Int(self) }
}
