import Foundation

/// Where a session's plots go.
public enum FigureDestination: Sendable, Equatable {
    /// Drawn as text in the output, sized to the terminal when there is one.
    case text
    /// Each figure a PNG (and its CSV) in `directory`, named `prefix-N.png`, and an image link
    /// in the output: `linkDirectory/prefix-N.png`, relative to the document that shows it.
    case files(directory: String, linkDirectory: String, prefix: String)
}

/// Output shown under an id and replaced when the same id is shown again (Jupyter's
/// display_data, then update_display_data).
public protocol LiveDisplay: AnyObject {
    /// Shows `text` as `id`'s content.
    func show(_ id: String, text: String)
    /// Shows the PNG file at `path` as `id`'s content.
    func show(_ id: String, imageAt path: String, title: String)
}

/// Runs Finch code: owns the globals, the value stack of call frames and the
/// registry of natives. One interpreter is one session (a REPL, a notebook).
public final class Interpreter {
    public let registry: Registry
    let globals = Globals()
    /// Where `print` writes.
    public var output: (String) -> Void = { text in FileHandle.standardOutput.write(text.data(using: .utf8)!) }
    /// Set by a native that already showed its result as it ran (generate streams its text),
    /// so the REPL does not print the value a second time. The REPL clears it per entry.
    public var resultShown = false
    /// Whether `output` reaches a terminal (live progress redraws its line there); the REPL and
    /// `finch run` set it when standard output is one.
    public var outputIsTerminal = false
    /// Where plots go: text in the output (the default), or image files beside a notebook.
    public var figureDestination: FigureDestination = .text
    /// Figures written to files so far under the current `.files` prefix (the notebook resets it per cell).
    public var figuresWritten = 0
    /// A front end that can replace what it showed (Jupyter); training's progress and live curve
    /// update in place there instead of printing line after line. Nil in the REPL and `finch run`.
    public var liveDisplay: LiveDisplay?
    /// Deepest Finch call nesting before "stack overflow".
    public var maxDepth = 5000
    /// Loop iterations and calls one `run` may make before it stops with an error; nil is no
    /// limit. The fuzzer's budget: deterministic, and this interpreter's alone (Ctrl-C is the process's).
    public var stepLimit: Int?
    /// What is left of `stepLimit` in the current run.
    var stepsLeft = Int.max

    // The value stack: each call's parameters and locals live in stack[fp ..< fp + frameSize].
    let stackCapacity = 1 << 17
    let stack: UnsafeMutablePointer<Value>
    var sp = 0
    var fp = 0
    var depth = 0
    /// The running function. Unowned: the caller's callee value keeps it alive,
    /// and this is read and written on every call, so no reference counting.
    unowned(unsafe) var closure: Closure?
    /// The source of code running outside any function.
    var topSource: Source?
    /// The source of the code running now: the function's, or the top level's.
    var currentSource: Source? { closure?.decl.source ?? topSource }
    var returnValue: Value = .nil
    /// Files already imported (absolute paths), so each runs once.
    var imported: Set<String> = []
    /// Directory that relative imports are resolved against.
    public var baseDirectory: String = FileManager.default.currentDirectoryPath

    /// An interpreter with the core built-ins and, when `prelude` is set, Stdlib/prelude.finch loaded.
    public init(registry: Registry = Registry(), prelude: Bool = true) throws {
        self.registry = registry
        stack = .allocate(capacity: stackCapacity)
        stack.initialize(repeating: .nil, count: stackCapacity)
        registry.registerCore()
        for name in registry.order { define(name, .native(registry.functions[name]!)) }
        if prelude { try loadPrelude() }
    }

    deinit {
        stack.deinitialize(count: stackCapacity)
        stack.deallocate()
    }

    /// Sets a global variable.
    public func define(_ name: String, _ value: Value) {
        globals.set(globals.index(of: name), value)
    }

    /// The value of a global, if defined.
    public func global(_ name: String) -> Value? {
        guard let i = globals.lookup(name), globals.defined[i] else { return nil }
        return globals.values[i]
    }

    /// Names of every defined global, for completion and `:vars`.
    public var globalNames: [String] { globals.definedNames }

    /// Adds natives registered after creation (FinchLib) to the globals.
    public func defineRegisteredFunctions() {
        for name in registry.order { define(name, .native(registry.functions[name]!)) }
    }

    /// Parses, resolves and runs `text`; returns the value of a final bare expression (for the REPL).
    @discardableResult
    public func run(_ text: String, name: String = "<input>", firstLine: Int = 1) throws -> Value? {
        let source = Source(name: name, text: text, firstLine: firstLine)
        return try run(source)
    }

    /// Runs a source on a big-stack thread; see `run(_:name:)`.
    @discardableResult
    public func run(_ source: Source) throws -> Value? {
        if depth == 0 { stepsLeft = stepLimit ?? .max }
        var parser = try Parser(source)
        let program = try parser.parseProgram()
        try Resolver(globals: globals).resolve(program)
        return try BigStack.run { try self.execute(program, source: source) }
    }

    /// Checks that `text` parses; the REPL uses this to know when an entry is complete.
    public static func parses(_ text: String) -> FinchError? {
        do {
            var parser = try Parser(Source(name: "<input>", text: text))
            _ = try parser.parseProgram()
            return nil
        } catch let e as FinchError { return e } catch { return FinchError(.syntax, "\(error)") }
    }

    private func execute(_ program: [Node], source: Source) throws -> Value? {
        let savedSource = topSource, savedFp = fp, savedSp = sp, savedClosure = closure, savedDepth = depth
        topSource = source
        closure = nil
        defer { topSource = savedSource; fp = savedFp; sp = savedSp; closure = savedClosure; depth = savedDepth }
        var last: Value?
        for (i, statement) in program.enumerated() {
            if i == program.count - 1, let e = statement as? ExprStmt {
                last = try eval(e.expr)
            } else {
                _ = try exec(statement)
            }
        }
        return last
    }

    // MARK: Errors

    func location(_ node: Node) -> Location { Location(source: currentSource, line: node.line, column: node.column) }

    func runtimeError(_ message: String, _ node: Node) -> FinchError { FinchError(.runtime, message, at: location(node)) }

    /// Gives an error from a native or helper the location of the node that caused it.
    func locate(_ error: Error, _ node: Node) -> Error {
        if var e = error as? FinchError {
            if e.location == nil { e.location = location(node) }
            return e
        }
        return FinchError(.runtime, String(describing: error), at: location(node))
    }

    // MARK: Calls

    /// Calls a function value with already evaluated arguments (natives use this to call back into Finch).
    public func call(_ callee: Value, _ positional: [Value], named: [(String, Value)] = []) throws -> Value {
        switch callee {
        case .native(let f):
            return try f.body(f.bind(positional, named, interpreter: self, displayName: f.name))
        case .function(let c):
            let base = sp
            guard base + positional.count + c.decl.frameSize < stackCapacity else { throw FinchError(.runtime, "stack overflow at depth \(depth)") }
            for (i, v) in positional.enumerated() { stack[base + i] = v }
            sp = base + positional.count
            return try invoke(c, base: base, count: positional.count, named: named, callSite: nil)
        default:
            throw FinchError(.runtime, "\(article(callee.typeName)) is not callable")
        }
    }

    func stepLimitReached() -> FinchError {
        stepsLeft = 0
        return FinchError(.runtime, "stopped after \(stepLimit ?? 0) loop iterations and calls (this interpreter's step limit)")
    }

    /// An error leaving a call: located at the call site if it has no place yet, with the call on its stack.
    func callError(_ error: Error, _ decl: FunctionDecl, caller: Closure?, callSite: Node?) -> Error {
        guard var e = error as? FinchError, let site = callSite else { return error }
        let here = Location(source: caller?.decl.source ?? topSource, line: site.line, column: site.column)
        if e.location == nil { e.location = here }
        if e.kind != .syntax { e.stack.append(.init(function: decl.name, location: here)) }
        return e
    }

    /// Runs closure `c` whose `count` positional arguments sit at stack[base...].
    func invoke(_ c: Closure, base: Int, count: Int, named: [(String, Value)], callSite: Node?) throws -> Value {
        unowned(unsafe) let decl = c.decl  // c keeps it alive; no reference counting per call
        let params = decl.paramCount
        if count > params {
            sp = base
            throw FinchError(.runtime, "\(decl.name)() takes \(params) argument\(params == 1 ? "" : "s"), got \(count)")
        }
        guard depth < maxDepth else {
            sp = base
            throw FinchError(.runtime, "stack overflow at depth \(depth) (a function calling itself without end?)")
        }
        if Interrupt.requested { sp = base; try Interrupt.check() }
        stepsLeft &-= 1
        if stepsLeft < 0 { sp = base; throw stepLimitReached() }
        let top = base + max(decl.frameSize, count)
        guard top < stackCapacity else { sp = base; throw FinchError(.runtime, "stack overflow at depth \(depth)") }

        let savedFp = fp
        unowned(unsafe) let savedClosure = closure
        fp = base
        sp = top
        closure = c
        depth += 1
        defer {
            for i in base..<top { stack[i] = .nil }
            depth -= 1
            fp = savedFp
            sp = base
            closure = savedClosure
        }
        do {
            if count < params || !named.isEmpty { try bindArguments(decl, base: base, count: count, named: named) }
            if decl.hasCapturedParams {
                for slot in decl.capturedParams { stack[base + slot] = .cell(Cell(stack[base + slot])) }
            }
            if case .returned = try Unmanaged.passUnretained(decl.body)._withUnsafeGuaranteedRef({ try execBlock($0) }) {
                let v = returnValue
                returnValue = .nil
                return v
            }
            return .nil
        } catch {
            throw callError(error, decl, caller: savedClosure, callSite: callSite)
        }
    }

    /// Places named arguments and evaluates defaults for the parameters not given.
    @inline(never)
    func bindArguments(_ decl: FunctionDecl, base: Int, count: Int, named: [(String, Value)]) throws {
        let params = decl.paramCount
        var given = [Bool](repeating: false, count: params)
        for i in 0..<count { given[i] = true }
        for (name, v) in named {
            guard let i = decl.params.firstIndex(of: name) else {
                var message = "\(decl.name)() has no argument '\(name)'"
                if let guess = closestMatch(name, in: decl.params) { message += "; did you mean '\(guess)'?" }
                message += decl.params.isEmpty ? " (it takes no arguments)" : " (arguments: \(decl.params.joined(separator: ", ")))"
                throw FinchError(.runtime, message)
            }
            guard !given[i] else { throw FinchError(.runtime, "\(decl.name)() got argument '\(name)' twice") }
            stack[base + i] = v
            given[i] = true
        }
        for i in 0..<params where !given[i] {
            guard let d = decl.defaults[i] else { throw FinchError(.runtime, "\(decl.name)() is missing argument '\(decl.params[i])'") }
            stack[base + i] = try eval(d)
        }
    }

    // MARK: Imports

    func importFile(_ path: String, _ node: Node) throws {
        // Relative to the importing file's directory (or the base directory for the REPL and -e).
        var base = baseDirectory
        if let name = currentSource?.name, !name.hasPrefix("<"), name != "-e" {
            let file = name.hasPrefix("/") ? name : baseDirectory + "/" + name
            base = URL(fileURLWithPath: file).deletingLastPathComponent().path
        }
        let resolved = path.hasPrefix("/") ? path : base + "/" + path
        let full = URL(fileURLWithPath: resolved).standardized.path
        guard !imported.contains(full) else { return }
        guard let text = try? String(contentsOfFile: full, encoding: .utf8) else {
            throw runtimeError("cannot import '\(path)': no readable file at \(full)", node)
        }
        imported.insert(full)
        let source = Source(name: full, text: text)
        var parser = try Parser(source)
        let program = try parser.parseProgram()
        try Resolver(globals: globals).resolve(program)
        let savedFp = fp, savedClosure = closure, savedSource = topSource
        fp = sp
        closure = nil
        topSource = source
        defer { fp = savedFp; closure = savedClosure; topSource = savedSource }
        for s in program { _ = try exec(s) }
    }

    /// Where Stdlib/ lives: FINCH_STDLIB, or the source tree this binary was built from.
    public static var stdlibDirectory: String {
        if let env = ProcessInfo.processInfo.environment["FINCH_STDLIB"], !env.isEmpty { return env }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Stdlib").path
    }

    func loadPrelude() throws { try loadLibrary("prelude.finch") }

    /// Runs a file of Stdlib/ (the prelude, or a library the bindings add) into the globals.
    public func loadLibrary(_ file: String) throws {
        let path = Interpreter.stdlibDirectory + "/" + file
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw FinchError(.runtime, "cannot read \(path) (set FINCH_STDLIB to the Stdlib directory)")
        }
        imported.insert(path)
        try run(Source(name: path, text: text))
    }
}

extension Interpreter {
    /// Attributes and methods reachable with `value.` (for completion and help).
    public func memberNames(of value: Value) -> [String] {
        var names = Operators.methodNames(of: value, registry: registry)
        if case .dict(let d) = value {
            names += d.keys.compactMap { k -> String? in if case .string(let s) = k { return s }; return nil }
        }
        return Array(Set(names)).sorted()
    }

    /// Parameter names of a callable value (a method's `self` left out).
    public func parameterNames(of value: Value) -> [String] {
        switch value {
        case .native(let f): return f.params.map(\.name).filter { $0 != "self" }
        case .function(let c): return c.decl.params
        default: return []
        }
    }

    /// The method `name` of `value`, as a callable value, if it has one.
    public func method(of value: Value, named name: String) -> Value? {
        Operators.method(of: value, name, registry: registry).map { .native($0) }
    }

    /// help() text, listing the prelude's functions too.
    public func helpText(for value: Value) -> String {
        let finch = globals.definedNames.filter { name in
            guard let i = globals.lookup(name), case .function(let c) = globals.values[i] else { return false }
            return c.decl.source?.name.hasPrefix(Interpreter.stdlibDirectory + "/") ?? false
        }
        return Help.text(for: value, registry: registry, finchFunctions: finch)
    }

    /// Keywords of the language, for completion.
    public static var keywords: [String] { Keyword.allCases.map(\.rawValue) }
}
