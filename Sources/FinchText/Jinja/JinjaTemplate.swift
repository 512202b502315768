import Foundation

/// A Jinja template, parsed once and rendered many times, with the semantics transformers gives
/// chat templates: jinja2's ImmutableSandboxedEnvironment with trim_blocks, lstrip_blocks, the
/// loop controls, `{% generation %}`, `raise_exception` and `strftime_now`, and a `tojson` that
/// keeps key order and non-ASCII text. Lists and dicts cannot be changed; `namespace()` can.
public struct JinjaTemplate: Sendable {
    let nodes: [JinjaNode]
    /// Whether the template marks the assistant's text with `{% generation %}`.
    public let hasGenerationBlocks: Bool

    /// Parses `source`; a syntax error names the line.
    public init(_ source: String) throws {
        var lexer = JinjaLexer()
        var parser = JinjaParser(tokens: try lexer.tokenize(source))
        nodes = try parser.parseTemplate()
        hasGenerationBlocks = Self.containsGeneration(nodes)
    }

    /// The text for `variables` (and the spans of `{% generation %}` blocks, as UTF-8 offsets).
    public func render(_ variables: [String: JinjaValue]) throws -> (text: String, generation: [Range<Int>]) {
        let context = JinjaContext()
        let top = JinjaScope(parent: JinjaContext.globals)
        for (k, v) in variables { top.values[k] = v }
        _ = try context.execute(nodes, top)
        return (context.output, context.generationSpans)
    }

    private static func containsGeneration(_ nodes: [JinjaNode]) -> Bool {
        nodes.contains { node in
            switch node {
            case .generation: return true
            case .ifChain(let branches, let other): return branches.contains { containsGeneration($0.1) } || containsGeneration(other)
            case .forLoop(_, _, _, let body, let other, _): return containsGeneration(body) || containsGeneration(other)
            case .macro(let m): return containsGeneration(m.body)
            case .setBlock(_, let body, _, _), .filterBlock(let body, _, _): return containsGeneration(body)
            default: return false
            }
        }
    }
}

/// Names visible at one point of a template; loops and macro calls open a new one over their parent.
final class JinjaScope {
    var values: [String: JinjaValue] = [:]
    let parent: JinjaScope?
    init(parent: JinjaScope?) { self.parent = parent }

    func lookup(_ name: String) -> JinjaValue? {
        var s: JinjaScope? = self
        while let scope = s {
            if let v = scope.values[name] { return v }
            s = scope.parent
        }
        return nil
    }
}

/// `{% macro %}` as a value: called, it renders its body in a scope over the one it was defined in.
final class JinjaMacro: JinjaObject, @unchecked Sendable {
    let definition: JinjaMacroDefinition
    let scope: JinjaScope
    init(_ definition: JinjaMacroDefinition, scope: JinjaScope) {
        self.definition = definition
        self.scope = scope
    }
    override var typeName: String { "Macro" }
    override var repr: String { "<Macro '\(definition.name)'>" }

    override func call(_ args: JinjaArguments, _ context: JinjaContext) throws -> JinjaValue? {
        let params = definition.parameters
        if args.positional.count > params.count {
            throw JinjaError("macro '\(definition.name)' takes not more than \(params.count) argument(s)")
        }
        let local = JinjaScope(parent: scope)
        for (k, (name, fallback)) in params.enumerated() {
            if k < args.positional.count {
                local.values[name] = args.positional[k]
            } else if let kw = args.keywords.first(where: { $0.0 == name }) {
                local.values[name] = kw.1
            } else if let fallback {
                local.values[name] = try context.evaluate(fallback, local)
            } else {
                local.values[name] = .undefined(reason: "parameter '\(name)' was not provided")
            }
        }
        if let bad = args.keywords.first(where: { kw in !params.contains { $0.0 == kw.0 } }) {
            throw JinjaError("macro '\(definition.name)' takes no keyword argument '\(bad.0)'")
        }
        let saved = context.output
        context.output = ""
        defer { context.output = saved }
        _ = try context.execute(definition.body, local)
        return .string(context.output)
    }
}

/// `loop` inside a for: its position and neighbours.
final class JinjaLoop: JinjaObject, @unchecked Sendable {
    let items: [JinjaValue]
    var index = 0
    init(items: [JinjaValue]) { self.items = items }
    override var typeName: String { "LoopContext" }
    override var repr: String { "<LoopContext \(index + 1)/\(items.count)>" }

    override func attribute(_ name: String) -> JinjaValue? {
        let n = items.count
        switch name {
        case "index": return .int(index + 1)
        case "index0": return .int(index)
        case "revindex": return .int(n - index)
        case "revindex0": return .int(n - index - 1)
        case "first": return .bool(index == 0)
        case "last": return .bool(index == n - 1)
        case "length": return .int(n)
        case "depth": return .int(1)
        case "depth0": return .int(0)
        case "previtem": return index > 0 ? items[index - 1] : .undefined(reason: "there is no previous item")
        case "nextitem": return index + 1 < n ? items[index + 1] : .undefined(reason: "there is no next item")
        case "cycle":
            let k = index
            return .object(JinjaFunction("loop.cycle") { args, _ in
                guard !args.positional.isEmpty else { throw JinjaError("loop.cycle needs at least one value") }
                return args.positional[k % args.positional.count]
            })
        default: return nil
        }
    }
}

/// The state of one rendering: the text so far and the generation spans.
final class JinjaContext {
    var output = ""
    var generationSpans: [Range<Int>] = []
    /// The functions every template sees, made once: no template can change this scope
    /// (`set` writes to its own scope, and the functions hold no state).
    nonisolated(unsafe) static let globals: JinjaScope = {
        let scope = JinjaScope(parent: nil)
        for (name, f) in JinjaGlobals.functions { scope.values[name] = .object(JinjaFunction(name, f)) }
        return scope
    }()

    enum Flow { case normal, breakLoop, continueLoop }

    func execute(_ nodes: [JinjaNode], _ scope: JinjaScope) throws -> Flow {
        for node in nodes {
            let flow = try execute(node, scope)
            if flow != .normal { return flow }
        }
        return .normal
    }

    private func execute(_ node: JinjaNode, _ scope: JinjaScope) throws -> Flow {
        switch node {
        case .text(let t):
            output += t
        case .output(let e):
            let v = try evaluate(e, scope)
            if case .object(let o) = v, o is JinjaLoop || o is JinjaNamespace || o is JinjaFunction || o is JinjaMacro {
                output += v.repr
            } else {
                output += v.text
            }
        case .ifChain(let branches, let other):
            for (condition, body) in branches where try evaluate(condition, scope).isTruthy {
                return try execute(body, scope)
            }
            return try execute(other, scope)
        case .forLoop(let target, let iterable, let filter, let body, let other, let line):
            var items = try located(line) { try self.iterate(try self.evaluate(iterable, scope)) }
            if let filter {
                items = try items.filter { item in
                    let s = JinjaScope(parent: scope)
                    try assign(target, item, s, line: line)
                    return try evaluate(filter, s).isTruthy
                }
            }
            if items.isEmpty { return try execute(other, scope) }
            let loop = JinjaLoop(items: items)
            for (k, item) in items.enumerated() {
                loop.index = k
                let s = JinjaScope(parent: scope)
                s.values["loop"] = .object(loop)
                try assign(target, item, s, line: line)
                if try execute(body, s) == .breakLoop { break }
            }
        case .set(let target, let value, let line):
            try assign(target, try evaluate(value, scope), scope, line: line)
        case .setBlock(let target, let body, let filters, let line):
            let text = try capture(body, scope)
            try assign(target, try applyFilters(.string(text), filters, scope, line: line), scope, line: line)
        case .filterBlock(let body, let filters, let line):
            output += try applyFilters(.string(try capture(body, scope)), filters, scope, line: line).text
        case .macro(let m):
            scope.values[m.name] = .object(JinjaMacro(m, scope: scope))
        case .breakLoop:
            return .breakLoop
        case .continueLoop:
            return .continueLoop
        case .generation(let body):
            let start = output.utf8.count
            let flow = try execute(body, scope)
            generationSpans.append(start..<output.utf8.count)
            return flow
        }
        return .normal
    }

    private func capture(_ body: [JinjaNode], _ scope: JinjaScope) throws -> String {
        let saved = output
        output = ""
        defer { output = saved }
        _ = try execute(body, scope)
        return output
    }

    private func applyFilters(_ value: JinjaValue, _ filters: [(String, [JinjaExpr], [(String, JinjaExpr)])],
                              _ scope: JinjaScope, line: Int) throws -> JinjaValue {
        var v = value
        for (name, args, keywords) in filters {
            let a = try arguments(args, keywords, scope, callee: "filter '\(name)'")
            v = try located(line) { try JinjaFilters.apply(name, v, a, self) }
        }
        return v
    }

    private func assign(_ target: JinjaTarget, _ value: JinjaValue, _ scope: JinjaScope, line: Int) throws {
        switch target {
        case .name(let n):
            scope.values[n] = value
        case .names(let names):
            let items = try located(line) { try self.iterate(value) }
            guard items.count == names.count else {
                throw JinjaError("cannot unpack \(items.count) value(s) into \(names.count) names", line: line)
            }
            for (n, v) in zip(names, items) { scope.values[n] = v }
        case .field(let object, let field):
            guard case .object(let o)? = scope.lookup(object), let ns = o as? JinjaNamespace else {
                throw JinjaError("cannot set '\(object).\(field)': '\(object)' is not a namespace()", line: line)
            }
            ns.fields[field] = value
        }
    }

    /// Errors from `body` without a line get `line`.
    func located<T>(_ line: Int, _ body: () throws -> T) throws -> T {
        do { return try body() } catch var e as JinjaError {
            if e.line == nil { e.line = line }
            throw e
        }
    }

    /// The items a for loop or filter walks: a list's items, a dict's keys, a string's characters.
    func iterate(_ v: JinjaValue) throws -> [JinjaValue] {
        switch v {
        case .list(let l): return l
        case .dict(let d): return d.keys.map { .string($0) }
        case .string(let s): return s.unicodeScalars.map { .string(String($0)) }
        case .undefined: return []
        default: throw JinjaError("'\(v.typeName)' object is not iterable")
        }
    }

    func arguments(_ args: [JinjaExpr], _ keywords: [(String, JinjaExpr)], _ scope: JinjaScope, callee: String) throws -> JinjaArguments {
        JinjaArguments(positional: try args.map { try evaluate($0, scope) },
                       keywords: try keywords.map { ($0.0, try evaluate($0.1, scope)) }, callee: callee)
    }

    // MARK: Expressions

    func evaluate(_ e: JinjaExpr, _ scope: JinjaScope) throws -> JinjaValue {
        switch e.kind {
        case .literal(let v): return v
        case .name(let n): return scope.lookup(n) ?? .undefined(reason: "'\(n)' is undefined")
        case .list(let items): return .list(try items.map { try evaluate($0, scope) })
        case .dict(let pairs):
            var d = JinjaDict()
            for (k, v) in pairs {
                guard case .string(let key) = try evaluate(k, scope) else { throw JinjaError("dict keys must be strings here", line: e.line) }
                d[key] = try evaluate(v, scope)
            }
            return .dict(d)
        case .attribute(let base, let name):
            let b = try evaluate(base, scope)
            return try located(e.line) { try JinjaMethods.attribute(b, name) }
        case .item(let base, let index):
            let b = try evaluate(base, scope), k = try evaluate(index, scope)
            return try located(e.line) { try JinjaMethods.item(b, k) }
        case .slice(let base, let start, let stop, let step):
            let b = try evaluate(base, scope)
            let parts = try [start, stop, step].map { try $0.map { try evaluate($0, scope) } }
            return try located(e.line) { try JinjaMethods.slice(b, parts[0], parts[1], parts[2]) }
        case .call(let callee, let args, let keywords):
            let f = try evaluate(callee, scope)
            let name: String
            switch callee.kind {
            case .name(let n): name = n
            case .attribute(_, let n): name = n
            default: name = "the value"
            }
            let a = try arguments(args, keywords, scope, callee: name)
            return try located(e.line) {
                if case .undefined(let reason) = f { throw JinjaError(reason) }
                guard case .object(let o) = f, let result = try o.call(a, self) else {
                    throw JinjaError("'\(f.typeName)' object is not callable")
                }
                return result
            }
        case .filter(let base, let name, let args, let keywords):
            let b = try evaluate(base, scope)
            let a = try arguments(args, keywords, scope, callee: "filter '\(name)'")
            return try located(e.line) { try JinjaFilters.apply(name, b, a, self) }
        case .test(let base, let name, let args, let negated):
            let b = try evaluate(base, scope)
            let a = try args.map { try evaluate($0, scope) }
            let r = try located(e.line) { try JinjaFilters.test(name, b, a) }
            return .bool(r != negated)
        case .unary(let op, let operand):
            let v = try evaluate(operand, scope)
            return try located(e.line) {
                switch (op, v) {
                case ("-", .int(let i)): return .int(-i)
                case ("-", .double(let d)): return .double(-d)
                case ("+", .int), ("+", .double): return v
                case (_, .undefined(let reason)): throw JinjaError(reason)
                default: throw JinjaError("bad operand type for unary \(op): '\(v.typeName)'")
                }
            }
        case .binary(let op, let left, let right):
            let l = try evaluate(left, scope), r = try evaluate(right, scope)
            return try located(e.line) { try JinjaOperators.binary(op, l, r) }
        case .and(let left, let right):
            let l = try evaluate(left, scope)
            return l.isTruthy ? try evaluate(right, scope) : l
        case .or(let left, let right):
            let l = try evaluate(left, scope)
            return l.isTruthy ? l : try evaluate(right, scope)
        case .not(let operand):
            return .bool(!(try evaluate(operand, scope).isTruthy))
        case .condition(let condition, let then, let otherwise):
            if try evaluate(condition, scope).isTruthy { return try evaluate(then, scope) }
            return try otherwise.map { try evaluate($0, scope) } ?? .undefined(reason: "the condition was false and there is no else")
        }
    }
}
