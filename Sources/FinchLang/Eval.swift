/// The tree walk: one switch over node tags, unchecked downcasts, locals read
/// straight from the value stack.
enum Flow { case normal, breakLoop, continueLoop, returned }

extension Interpreter {
    /// Evaluates a child without retaining it (its parent owns it).
    @inline(__always) func eval(_ ref: Unmanaged<Node>) throws -> Value { try ref._withUnsafeGuaranteedRef { try eval($0) } }
    @inline(__always) func exec(_ ref: Unmanaged<Node>) throws -> Flow { try ref._withUnsafeGuaranteedRef { try exec($0) } }

    /// `eval` for the places where a `local op number` or a call is the usual child
    /// (conditions, arguments, operands): handled here without a trip through the
    /// big switch, whose one indirect jump predicts badly.
    @inline(__always) func evalOperand(_ ref: Unmanaged<Node>) throws -> Value {
        try ref._withUnsafeGuaranteedRef { node in
            if node.tag == .local {
                return stack[fp &+ cast(node, Variable.self).index]
            } else if node.tag == .binaryLocalConst {
                let b = cast(node, Binary.self)
                if case .number(let x) = stack[fp &+ b.slot], let v = numberOp(b.op, x, b.constant) { return v }
            } else if node.tag == .call {
                return try evalCall(cast(node, Call.self))
            }
            return try eval(node)
        }
    }

    /// The arithmetic and comparisons of two numbers, inline; nil for the rest (/, %, ** ...).
    @inline(__always) func numberOp(_ op: BinaryOp, _ x: Double, _ y: Double) -> Value? {
        switch op {
        case .add: return .number(x + y)
        case .sub: return .number(x - y)
        case .mul: return .number(x * y)
        case .lt: return .bool(x < y)
        case .le: return .bool(x <= y)
        case .gt: return .bool(x > y)
        case .ge: return .bool(x >= y)
        case .eq: return .bool(x == y)
        case .ne: return .bool(x != y)
        default: return nil
        }
    }

    @inline(__always) func cast<T: Node>(_ n: Node, _: T.Type) -> T { unsafeDowncast(n, to: T.self) }

    func eval(_ node: Node) throws -> Value {
        switch node.tag {
        case .literal:
            return cast(node, Literal.self).value
        case .local:
            return stack[fp &+ cast(node, Variable.self).index]
        case .cellLocal:
            if case .cell(let c) = stack[fp &+ cast(node, Variable.self).index] { return c.value }
            return .nil
        case .upvalue:
            return closure!.upvalues[cast(node, Variable.self).index].value
        case .global:
            let v = cast(node, Variable.self)
            if globals.defined[v.index] { return globals.values[v.index] }
            var message = "undefined variable '\(v.name)'"
            if let guess = closestMatch(v.name, in: globals.definedNames) { message += "; did you mean '\(guess)'?" }
            throw runtimeError(message, node)
        case .binary:
            let b = cast(node, Binary.self)
            let l = try evalOperand(b.lhsRef), r = try evalOperand(b.rhsRef)
            if case .number(let x) = l, case .number(let y) = r, let v = numberOp(b.op, x, y) { return v }
            do { return try Operators.binary(b.op, l, r) } catch { throw locate(error, node) }
        case .binaryLocalConst:
            let b = cast(node, Binary.self)
            let l = stack[fp &+ b.slot]
            if case .number(let x) = l, let v = numberOp(b.op, x, b.constant) { return v }
            do { return try Operators.binary(b.op, l, .number(b.constant)) } catch { throw locate(error, node) }
        case .call:
            return try evalCall(cast(node, Call.self))
        case .and:
            let l = cast(node, Logical.self)
            let v = try eval(l.lhsRef)
            return v.isTruthy ? try eval(l.rhsRef) : v
        case .or:
            let l = cast(node, Logical.self)
            let v = try eval(l.lhsRef)
            return v.isTruthy ? v : try eval(l.rhsRef)
        case .not:
            return .bool(!(try eval(cast(node, Unary.self).operandRef)).isTruthy)
        default:
            return try evalOther(node)
        }
    }

    /// The less frequent expressions, kept out of `eval` so its frame stays small.
    @inline(never)
    func evalOther(_ node: Node) throws -> Value {
        switch node.tag {
        case .unary:
            let u = cast(node, Unary.self)
            let v = try eval(u.operandRef)
            do { return try Operators.unary(u.op, v) } catch { throw locate(error, node) }
        case .assign:
            let a = cast(node, Assign.self)
            let v = try eval(a.valueRef)
            store(a, v)
            return v
        case .interpolation:
            var s = ""
            for p in cast(node, Interpolation.self).parts { s += try eval(p).description }
            return .string(s)
        case .listLiteral:
            var items: [Value] = []
            for n in cast(node, ListLiteral.self).items { items.append(try eval(n)) }
            return .list(ListRef(items))
        case .dictLiteral:
            let d = cast(node, DictLiteral.self)
            let dict = DictRef()
            for (k, v) in zip(d.keys, d.values) {
                let key = try eval(k)
                do { try dict.set(key, try eval(v)) } catch { throw locate(error, k) }
            }
            return .dict(dict)
        case .rangeExpr:
            let r = cast(node, RangeExpr.self)
            guard case .number(let a) = try eval(r.start), case .number(let b) = try eval(r.end) else {
                throw runtimeError("a range needs numbers on both sides of '..'", node)
            }
            return .range(RangeValue(start: a, end: b))
        case .methodCall:
            return try evalMethodCall(cast(node, MethodCall.self))
        case .index:
            let i = cast(node, Index.self)
            let object = try eval(i.object)
            let parts = try evalIndexParts(i.parts)
            do { return try Operators.index(object, parts) } catch { throw locate(error, node) }
        case .member:
            let m = cast(node, Member.self)
            let object = try eval(m.object)
            do { return try Operators.member(object, m.name, interpreter: self) } catch { throw locate(error, node) }
        case .function:
            return .function(makeClosure(cast(node, FunctionExpr.self).decl))
        case .name:
            throw runtimeError("internal error: unresolved name", node)
        default:
            throw runtimeError("internal error: statement used as an expression", node)
        }
    }

    @inline(__always) func store(_ a: Assign, _ v: Value) {
        switch a.mode {
        case .local: stack[fp &+ a.index] = v
        case .cellLocal:
            if !a.declares, case .cell(let c) = stack[fp &+ a.index] { c.value = v } else { stack[fp &+ a.index] = .cell(Cell(v)) }
        case .upvalue: closure!.upvalues[a.index].value = v
        default:
            globals.set(a.index, v)
        }
    }

    func makeClosure(_ decl: FunctionDecl) -> Closure {
        var cells: [Cell] = []
        cells.reserveCapacity(decl.captures.count)
        for (fromLocal, index) in decl.captures {
            if fromLocal {
                if case .cell(let c) = stack[fp + index] { cells.append(c) } else {
                    let c = Cell(stack[fp + index])
                    stack[fp + index] = .cell(c)
                    cells.append(c)
                }
            } else {
                cells.append(closure!.upvalues[index])
            }
        }
        return Closure(decl, upvalues: cells)
    }

    func evalIndexParts(_ parts: [IndexPart]) throws -> [IndexArgument] {
        try parts.map { part in
            switch part {
            case .single(let n): return .index(try eval(n))
            case let .slice(a, b, c):
                func bound(_ n: Node?) throws -> Int? {
                    guard let n else { return nil }
                    let v = try eval(n)
                    if case .nil = v { return nil }
                    guard case .number(let x) = v, let i = Checked.int(x) else {
                        throw runtimeError("slice bounds must be integers, got \(v.repr)", n)
                    }
                    return i
                }
                return .slice(start: try bound(a), end: try bound(b), step: try bound(c))
            }
        }
    }

    // MARK: Calls

    func evalCall(_ call: Call) throws -> Value {
        // A global function (the common case) is called without touching its reference count.
        if call.callee.tag == .global, let u = globals.closures[cast(call.callee, Variable.self).index] {
            return try u._withUnsafeGuaranteedRef { try callClosure($0, call) }
        }
        let callee = try eval(call.calleeRef)
        switch callee {
        case .function(let c):
            return try callClosure(c, call)
        case .native(let f):
            var positional: [Value] = []
            positional.reserveCapacity(call.args.positional.count)
            for a in call.args.positional { positional.append(try eval(a)) }
            var named: [(String, Value)] = []
            for (name, a) in call.args.named { named.append((name, try eval(a))) }
            do {
                return try f.body(f.bind(positional, named, interpreter: self, displayName: f.name))
            } catch { throw locate(error, call) }
        default:
            var message = "\(article(callee.typeName)) is not callable"
            if let v = call.callee as? Variable { message = "'\(v.name)' is \(article(callee.typeName)), not a function" }
            throw runtimeError(message, call)
        }
    }

    /// Evaluates the arguments onto the value stack and runs the closure.
    @inline(__always)
    func callClosure(_ c: Closure, _ call: Call) throws -> Value {
        let base = sp
        var n = 0
        let args = call.positional
        let argc = args.count
        while n < argc {
            let v = try evalOperand(args[n])
            guard base + n < stackCapacity - 1 else { sp = base; throw runtimeError("stack overflow at depth \(depth)", call) }
            stack[base + n] = v
            n += 1
            sp = base + n
        }
        var named: [(String, Value)] = []
        for (name, a) in call.args.named { named.append((name, try eval(a))) }
        return try invoke(c, base: base, count: n, named: named, callSite: call)
    }

    func evalMethodCall(_ call: MethodCall) throws -> Value {
        let object = try eval(call.object)
        var positional: [Value] = []
        for a in call.args.positional { positional.append(try eval(a)) }
        var named: [(String, Value)] = []
        for (name, a) in call.args.named { named.append((name, try eval(a))) }
        do {
            // A method of the value's own type ...
            if let method = Operators.method(of: object, call.name, registry: registry) {
                return try method.body(method.bind([object] + positional, named, interpreter: self, displayName: "\(object.typeName).\(call.name)"))
            }
            // ... a function stored in a dict ...
            if case .dict(let d) = object, let f = try d.get(.string(call.name)) {
                return try self.call(f, positional, named: named)
            }
            // ... or a global function taking the value first: xs.map(f) is map(xs, f).
            if globals.defined[call.globalIndex] {
                let f = globals.values[call.globalIndex]
                if case .function(let c) = f {
                    let base = sp
                    guard base + 1 + positional.count < stackCapacity - 1 else { throw runtimeError("stack overflow at depth \(depth)", call) }
                    stack[base] = object
                    for (i, v) in positional.enumerated() { stack[base + 1 + i] = v }
                    sp = base + 1 + positional.count
                    return try invoke(c, base: base, count: 1 + positional.count, named: named, callSite: call)
                }
                return try self.call(f, [object] + positional, named: named)
            }
            var message = "\(object.typeName) has no method '\(call.name)'"
            let candidates = Operators.methodNames(of: object, registry: registry) + globals.definedNames
            if let guess = closestMatch(call.name, in: candidates) { message += "; did you mean '\(guess)'?" }
            throw FinchError(.runtime, message)
        } catch { throw locate(error, call) }
    }

    // MARK: Statements

    @inline(__always) func execBlock(_ block: Block) throws -> Flow {
        // Unretained references: the block owns its statements.
        let refs = block.refs
        let count = refs.count
        var i = 0
        while i < count {
            let flow = try exec(refs[i])
            i += 1
            if case .normal = flow { continue }
            return flow
        }
        return .normal
    }

    func exec(_ node: Node) throws -> Flow {
        switch node.tag {
        case .exprStmt:
            _ = try eval(cast(node, ExprStmt.self).exprRef)
            return .normal
        case .assign:
            let a = cast(node, Assign.self)
            store(a, try eval(a.valueRef))
            return .normal
        case .returnStmt:
            if let v = cast(node, Return.self).valueRef { returnValue = try evalOperand(v) } else { returnValue = .nil }
            return .returned
        case .ifStmt:
            let i = cast(node, If.self)
            if try evalOperand(i.conditionRef).isTruthy { return try i.thenRef._withUnsafeGuaranteedRef { try execBlock(cast($0, Block.self)) } }
            guard let o = i.otherwise else { return .normal }
            return try o.tag == .block ? execBlock(cast(o, Block.self)) : exec(o)
        default:
            return try execOther(node)
        }
    }

    /// The less frequent statements, kept out of `exec` so its frame stays small.
    @inline(never)
    func execOther(_ node: Node) throws -> Flow {
        switch node.tag {
        case .whileStmt:
            let w = cast(node, While.self)
            while try eval(w.conditionRef).isTruthy {
                if Interrupt.requested { do { try Interrupt.check() } catch { throw locate(error, node) } }
                stepsLeft &-= 1
                if stepsLeft < 0 { throw locate(stepLimitReached(), node) }
                let flow = try execBlock(w.body)
                switch flow {
                case .breakLoop: return .normal
                case .returned: return .returned
                default: continue
                }
            }
            return .normal
        case .forStmt:
            return try execFor(cast(node, For.self))
        case .block:
            return try execBlock(cast(node, Block.self))
        case .breakStmt: return .breakLoop
        case .continueStmt: return .continueLoop
        case .fnDecl:
            let f = cast(node, FnDecl.self)
            let a = f.assign
            if a.mode == .cellLocal {
                // The cell exists before the closure is made, so a local function can call itself;
                // one made earlier by a sibling that captured this name is reused.
                let cell: Cell
                if case .cell(let c) = stack[fp + a.index] { cell = c } else {
                    cell = Cell(.nil)
                    stack[fp + a.index] = .cell(cell)
                }
                cell.value = .function(makeClosure(cast(a.value, FunctionExpr.self).decl))
            } else {
                store(a, .function(makeClosure(cast(a.value, FunctionExpr.self).decl)))
            }
            return .normal
        case .indexAssign:
            let a = cast(node, IndexAssign.self)
            let object = try eval(a.target.object)
            let parts = try evalIndexParts(a.target.parts)
            let v = try eval(a.value)
            do { try Operators.setIndex(object, parts, v) } catch { throw locate(error, node) }
            return .normal
        case .memberAssign:
            let a = cast(node, MemberAssign.self)
            let object = try eval(a.target.object)
            let v = try eval(a.value)
            do { try Operators.setMember(object, a.target.name, v) } catch { throw locate(error, node) }
            return .normal
        case .importStmt:
            try importFile(cast(node, Import.self).path, node)
            return .normal
        default:
            _ = try eval(node)
            return .normal
        }
    }

    private func execFor(_ f: For) throws -> Flow {
        let iterable = try eval(f.iterable)
        let two = f.targets.count == 2
        func body(_ a: Value, _ b: Value) throws -> Flow? {
            if Interrupt.requested { do { try Interrupt.check() } catch { throw locate(error, f) } }
            stepsLeft &-= 1
            if stepsLeft < 0 { throw locate(stepLimitReached(), f) }
            store(f.targets[0], a)
            if two { store(f.targets[1], b) }
            switch try execBlock(f.body) {
            case .breakLoop: return .normal
            case .returned: return .returned
            default: return nil
            }
        }
        func unpack(_ v: Value) throws -> (Value, Value) {
            guard two else { return (v, .nil) }
            guard case .list(let l) = v, l.items.count == 2 else {
                throw runtimeError("cannot unpack \(v.repr) into two loop variables", f)
            }
            return (l.items[0], l.items[1])
        }
        switch iterable {
        case .range(let r):
            let n = r.count
            var i = 0
            while i < n {
                if two {
                    if let flow = try body(.number(Double(i)), .number(r.element(i))) { return flow }
                } else if let flow = try body(.number(r.element(i)), .nil) { return flow }
                i += 1
            }
        case .list(let l):
            var i = 0
            while i < l.items.count {
                let (a, b) = try unpack(l.items[i])
                if let flow = try body(a, b) { return flow }
                i += 1
            }
        case .dict(let d):
            for (k, v) in zip(d.keys, d.values) {
                if let flow = try body(k, two ? v : .nil) { return flow }
            }
        case .string(let s):
            for ch in s {
                if let flow = try body(.string(String(ch)), .nil) { return flow }
            }
        case .object(let o):
            guard let length = o.type.length, let get = o.type.getIndex else {
                throw runtimeError("cannot iterate over \(article(o.type.name))", f.iterable)
            }
            let n = try length(o)
            for i in 0..<n {
                let item = try get(o, [.index(.number(Double(i)))])
                let (a, b) = try unpack(item)
                if let flow = try body(a, b) { return flow }
            }
        default:
            throw runtimeError("cannot iterate over \(article(iterable.typeName))", f.iterable)
        }
        return .normal
    }
}
