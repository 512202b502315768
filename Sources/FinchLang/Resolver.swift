/// The resolver: gives every variable a home before anything runs.
///
/// Rules (docs/language.md): code outside functions works on globals. Inside a
/// function, a name found in an enclosing block of the function is that
/// local; one found in an enclosing function is captured (an upvalue); an
/// assignment to a name found nowhere declares a new local in the current
/// block; a read of a name found nowhere is a global. Locals that a nested
/// function captures live in cells so both see one variable.
final class Resolver {
    private let globals: Globals

    private final class LocalVar {
        let slot: Int
        var captured = false
        var reads: [Variable] = []
        var writes: [Assign] = []
        /// Superinstructions reading this local directly; undone if it is captured.
        var constOps: [Binary] = []
        init(slot: Int) { self.slot = slot }
    }

    private final class FunctionScope {
        let decl: FunctionDecl
        let enclosing: FunctionScope?
        var blocks: [[String: LocalVar]] = [[:]]
        var all: [LocalVar] = []
        var upvalues: [(name: String, fromLocal: Bool, index: Int)] = []
        init(_ decl: FunctionDecl, enclosing: FunctionScope?) {
            self.decl = decl
            self.enclosing = enclosing
        }

        func lookup(_ name: String) -> LocalVar? {
            for b in blocks.reversed() { if let v = b[name] { return v } }
            return nil
        }

        func lookupSlot(_ slot: Int) -> LocalVar? { slot < all.count ? all[slot] : nil }

        func declare(_ name: String) -> LocalVar {
            let v = LocalVar(slot: all.count)
            all.append(v)
            blocks[blocks.count - 1][name] = v
            return v
        }

        /// Index of `name` among this function's upvalues, capturing it from enclosing functions as needed.
        func upvalue(_ name: String) -> Int? {
            if let i = upvalues.firstIndex(where: { $0.name == name }) { return i }
            guard let outer = enclosing else { return nil }
            if let v = outer.lookup(name) {
                v.captured = true
                upvalues.append((name, true, v.slot))
                return upvalues.count - 1
            }
            if let i = outer.upvalue(name) {
                upvalues.append((name, false, i))
                return upvalues.count - 1
            }
            return nil
        }
    }

    private var function: FunctionScope?

    init(globals: Globals) { self.globals = globals }

    /// Resolves top-level statements (a program, a REPL entry, a cell).
    func resolve(_ statements: [Node]) throws {
        for s in statements { try resolve(s) }
    }

    private func resolve(_ node: Node) throws {
        switch node.tag {
        case .literal, .breakStmt, .continueStmt, .importStmt: break
        case .interpolation: for p in (node as! Interpolation).parts { try resolve(p) }
        case .listLiteral: for i in (node as! ListLiteral).items { try resolve(i) }
        case .dictLiteral:
            let d = node as! DictLiteral
            for k in d.keys { try resolve(k) }
            for v in d.values { try resolve(v) }
        case .rangeExpr:
            let r = node as! RangeExpr
            try resolve(r.start)
            try resolve(r.end)
        case .name, .local, .cellLocal, .upvalue, .global: resolveRead(node as! Variable)
        case .assign: try resolveAssign(node as! Assign, declareOnly: false)
        case .unary, .not: try resolve((node as! Unary).operand)
        case .binary, .binaryLocalConst:
            let b = node as! Binary
            try resolve(b.lhs)
            try resolve(b.rhs)
            // A superinstruction for `local op number`: one dispatch instead of three.
            if b.lhs.tag == .local, let lit = b.rhs as? Literal, case .number(let c) = lit.value {
                b.tag = .binaryLocalConst
                b.slot = (b.lhs as! Variable).index
                function?.lookupSlot(b.slot)?.constOps.append(b)
                b.constant = c
            } else {
                b.tag = .binary
            }
        case .and, .or:
            let l = node as! Logical
            try resolve(l.lhs)
            try resolve(l.rhs)
        case .call:
            let c = node as! Call
            try resolve(c.callee)
            try resolveArguments(c.args)
        case .methodCall:
            let m = node as! MethodCall
            try resolve(m.object)
            try resolveArguments(m.args)
            m.globalIndex = globals.index(of: m.name)
        case .index:
            let i = node as! Index
            try resolve(i.object)
            for part in i.parts {
                switch part {
                case .single(let n): try resolve(n)
                case let .slice(a, b, c): for n in [a, b, c] { if let n { try resolve(n) } }
                }
            }
        case .member: try resolve((node as! Member).object)
        case .indexAssign:
            let a = node as! IndexAssign
            try resolve(a.target)
            try resolve(a.value)
        case .memberAssign:
            let a = node as! MemberAssign
            try resolve(a.target)
            try resolve(a.value)
        case .function: try resolveFunction((node as! FunctionExpr).decl)
        case .exprStmt: try resolve((node as! ExprStmt).expr)
        case .fnDecl:
            // Declared before its body is resolved, so the function can call itself.
            let f = node as! FnDecl
            try resolveAssign(f.assign, declareOnly: true)
            try resolve(f.assign.value)
        case .ifStmt:
            let i = node as! If
            try resolve(i.condition)
            try resolveBlock(i.then)
            if let o = i.otherwise { try resolve(o) }
        case .whileStmt:
            let w = node as! While
            try resolve(w.condition)
            try resolveBlock(w.body)
        case .forStmt:
            let f = node as! For
            try resolve(f.iterable)
            beginBlock()
            for t in f.targets { declare(t) }
            for s in f.body.statements { try resolve(s) }
            endBlock()
        case .returnStmt: if let v = (node as! Return).value { try resolve(v) }
        case .block: try resolveBlock(node as! Block)
        }
    }

    private func resolveArguments(_ args: CallArguments) throws {
        for a in args.positional { try resolve(a) }
        for (_, a) in args.named { try resolve(a) }
    }

    private func beginBlock() { function?.blocks.append([:]) }
    private func endBlock() { function?.blocks.removeLast() }

    private func resolveBlock(_ block: Block) throws {
        beginBlock()
        hoistFunctions(block.statements)
        for s in block.statements { try resolve(s) }
        endBlock()
    }

    /// Declares a block's `fn name` functions before resolving it, so functions
    /// in one block can call each other whatever their order.
    private func hoistFunctions(_ statements: [Node]) {
        guard let f = function else { return }
        for case let d as FnDecl in statements where f.blocks[f.blocks.count - 1][d.assign.name] == nil {
            _ = f.declare(d.assign.name)
        }
    }

    /// Where a name lives from here: a local of this function, an upvalue, or (nil) nowhere but the globals.
    private func home(of name: String) -> (tag: Tag, index: Int, local: LocalVar?)? {
        guard let f = function else { return nil }
        if let local = f.lookup(name) { return (.local, local.slot, local) }
        if let u = f.upvalue(name) { return (.upvalue, u, nil) }
        return nil
    }

    private func resolveRead(_ v: Variable) {
        guard let (tag, index, local) = home(of: v.name) else {
            v.tag = .global
            v.index = globals.index(of: v.name)
            return
        }
        v.tag = tag
        v.index = index
        local?.reads.append(v)
    }

    /// Declares a new variable for `a` in the current block (a loop variable).
    private func declare(_ a: Assign) {
        guard let f = function else {
            a.mode = .global
            a.index = globals.index(of: a.name)
            return
        }
        let v = f.declare(a.name)
        a.mode = .local
        a.index = v.slot
        a.declares = true
        v.writes.append(a)
    }

    private func resolveAssign(_ a: Assign, declareOnly: Bool) throws {
        if !declareOnly { try resolve(a.value) }
        if let (tag, index, local) = home(of: a.name) {
            a.mode = tag
            a.index = index
            local?.writes.append(a)
        } else {
            declare(a)  // a new local inside a function; a global at the top level
        }
    }

    private func resolveFunction(_ decl: FunctionDecl) throws {
        let scope = FunctionScope(decl, enclosing: function)
        let saved = function
        function = scope
        defer { function = saved }
        for p in decl.params { _ = scope.declare(p) }
        for d in decl.defaults { if let d { try resolve(d) } }
        // The value of a body's last expression is the function's result.
        if let last = decl.body.statements.last as? ExprStmt {
            decl.body.statements[decl.body.statements.count - 1] = Return(last.expr, Int(last.line), Int(last.column))
        }
        hoistFunctions(decl.body.statements)
        for s in decl.body.statements { try resolve(s) }

        decl.frameSize = scope.all.count
        decl.captures = scope.upvalues.map { ($0.fromLocal, $0.index) }
        decl.capturedParams = []
        for v in scope.all where v.captured {
            if v.slot < decl.params.count { decl.capturedParams.append(v.slot) }
            for r in v.reads { r.tag = .cellLocal }
            for w in v.writes { w.mode = .cellLocal }
            for b in v.constOps { b.tag = .binary }
        }
    }
}

/// Global variables by name, shared by every resolution in an interpreter.
/// Values live in buffers the table owns rather than in Arrays: reading an
/// Array held by a class retains its storage on every access.
final class Globals {
    private(set) var names: [String] = []
    private var indices: [String: Int] = [:]
    private var capacity = 0
    private(set) var values: UnsafeMutablePointer<Value> = .allocate(capacity: 0)
    private(set) var defined: UnsafeMutablePointer<Bool> = .allocate(capacity: 0)
    /// The closure each global holds, unretained, so calling a global function costs
    /// no reference counting. Closures a global stops holding are kept in `retired`
    /// for the session, so a running one is never freed under the interpreter.
    private(set) var closures: UnsafeMutablePointer<Unmanaged<Closure>?> = .allocate(capacity: 0)
    private var retired: [Closure] = []

    deinit {
        values.deinitialize(count: names.count)
        values.deallocate()
        defined.deallocate()
        closures.deallocate()
    }

    func index(of name: String) -> Int {
        if let i = indices[name] { return i }
        let i = names.count
        if i == capacity { grow() }
        names.append(name)
        indices[name] = i
        (values + i).initialize(to: .nil)
        defined[i] = false
        closures[i] = nil
        return i
    }

    private func grow() {
        let n = max(64, capacity * 2)
        let v = UnsafeMutablePointer<Value>.allocate(capacity: n)
        v.moveInitialize(from: values, count: names.count)
        values.deallocate()
        values = v
        let d = UnsafeMutablePointer<Bool>.allocate(capacity: n)
        d.update(from: defined, count: names.count)
        defined.deallocate()
        defined = d
        let c = UnsafeMutablePointer<Unmanaged<Closure>?>.allocate(capacity: n)
        c.update(from: closures, count: names.count)
        closures.deallocate()
        closures = c
        capacity = n
    }

    /// Sets global `i`, keeping `closures` in step.
    @inline(__always)
    func set(_ i: Int, _ value: Value) {
        if let old = closures[i] {
            retired.append(old.takeUnretainedValue())
            closures[i] = nil
        }
        if case .function(let c) = value { closures[i] = Unmanaged.passUnretained(c) }
        values[i] = value
        defined[i] = true
    }

    func lookup(_ name: String) -> Int? { indices[name] }

    /// Names that hold a value.
    var definedNames: [String] { names.indices.filter { defined[$0] }.map { names[$0] } }
}
