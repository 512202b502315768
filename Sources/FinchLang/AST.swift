/// The syntax tree. Nodes are final classes tagged with their kind, so the
/// interpreter dispatches with one switch and an unchecked downcast. The
/// resolver rewrites variable nodes' tags in place (local, cell, upvalue or
/// global) and fills in their slots.
enum Tag: UInt8 {
    // Expressions
    case literal, interpolation, listLiteral, dictLiteral, rangeExpr
    case name  // unresolved; the resolver turns it into one of the four below
    case local, cellLocal, upvalue, global
    /// A binary op whose left side is a local and right side a number literal (n - 1, i < 10).
    case binaryLocalConst
    case assign
    case unary, binary, and, or, not
    case call, methodCall, index, member, function
    // Statements
    case exprStmt, fnDecl, ifStmt, whileStmt, forStmt, returnStmt, breakStmt, continueStmt, block, importStmt
    case indexAssign, memberAssign
}

/// Hot children also have an `Unmanaged` twin (`...Ref`): the tree walk reads
/// them through `_withUnsafeGuaranteedRef`, so visiting a child costs no
/// retain and release (measured: a third of fib(30)'s time was reference
/// counting). The strong reference next to each twin owns the child.
class Node {
    // final: read on every step of the tree walk, so never a dynamic dispatch.
    final var tag: Tag
    final let line: Int32
    final let column: Int32
    init(_ tag: Tag, _ line: Int, _ column: Int) {
        self.tag = tag
        self.line = Int32(line)
        self.column = Int32(column)
    }
}

final class Literal: Node {
    let value: Value
    init(_ value: Value, _ line: Int, _ column: Int) { self.value = value; super.init(.literal, line, column) }
}

/// "text ${expr} text": the parts are evaluated and joined.
final class Interpolation: Node {
    let parts: [Node]
    init(_ parts: [Node], _ line: Int, _ column: Int) { self.parts = parts; super.init(.interpolation, line, column) }
}

final class ListLiteral: Node {
    let items: [Node]
    init(_ items: [Node], _ line: Int, _ column: Int) { self.items = items; super.init(.listLiteral, line, column) }
}

final class DictLiteral: Node {
    let keys: [Node]
    let values: [Node]
    init(_ keys: [Node], _ values: [Node], _ line: Int, _ column: Int) {
        self.keys = keys
        self.values = values
        super.init(.dictLiteral, line, column)
    }
}

final class RangeExpr: Node {
    let start: Node, end: Node
    init(_ start: Node, _ end: Node, _ line: Int, _ column: Int) {
        self.start = start
        self.end = end
        super.init(.rangeExpr, line, column)
    }
}

/// A variable read. After resolution `index` is a frame slot, an upvalue index or a global index.
final class Variable: Node {
    let name: String
    var index = 0
    init(_ name: String, _ line: Int, _ column: Int) { self.name = name; super.init(.name, line, column) }
}

/// `name = value`. The resolver sets `mode` (local, cellLocal, upvalue, global) and `declares`.
final class Assign: Node {
    let name: String
    let value: Node
    let valueRef: Unmanaged<Node>
    var mode: Tag = .name
    var index = 0
    /// The first assignment of a captured local makes a fresh cell.
    var declares = false
    init(_ name: String, _ value: Node, _ line: Int, _ column: Int) {
        self.name = name
        self.value = value
        self.valueRef = Unmanaged.passUnretained(value)
        super.init(.assign, line, column)
    }
}

final class Unary: Node {
    let operandRef: Unmanaged<Node>
    let op: String
    let operand: Node
    init(_ op: String, _ operand: Node, _ line: Int, _ column: Int) {
        self.op = op
        self.operand = operand
        self.operandRef = Unmanaged.passUnretained(operand)
        super.init(op == "not" ? .not : .unary, line, column)
    }
}

enum BinaryOp: String {
    case add = "+", sub = "-", mul = "*", div = "/", mod = "%", pow = "**", matmul = "@"
    case eq = "==", ne = "!=", lt = "<", le = "<=", gt = ">", ge = ">=", `in` = "in"
}

final class Binary: Node {
    /// For `.binaryLocalConst`: the local's slot and the constant.
    var slot = 0
    var constant = 0.0
    let lhsRef: Unmanaged<Node>
    let rhsRef: Unmanaged<Node>
    let op: BinaryOp
    let lhs: Node
    let rhs: Node
    init(_ op: BinaryOp, _ lhs: Node, _ rhs: Node, _ line: Int, _ column: Int) {
        self.op = op
        self.lhs = lhs
        self.rhs = rhs
        self.lhsRef = Unmanaged.passUnretained(lhs)
        self.rhsRef = Unmanaged.passUnretained(rhs)
        super.init(.binary, line, column)
    }
}

/// `and` / `or`, short-circuiting; the tag says which.
final class Logical: Node {
    let lhsRef: Unmanaged<Node>
    let rhsRef: Unmanaged<Node>
    let lhs: Node
    let rhs: Node
    init(_ tag: Tag, _ lhs: Node, _ rhs: Node, _ line: Int, _ column: Int) {
        self.lhs = lhs
        self.rhs = rhs
        self.lhsRef = Unmanaged.passUnretained(lhs)
        self.rhsRef = Unmanaged.passUnretained(rhs)
        super.init(tag, line, column)
    }
}

/// Arguments of a call: positional first, then named (`name: value`).
struct CallArguments {
    var positional: [Node] = []
    var named: [(String, Node)] = []
}

final class Call: Node {
    let callee: Node
    let calleeRef: Unmanaged<Node>
    let args: CallArguments
    /// The positional arguments, unretained (args owns them), in a buffer this node owns.
    let positional: UnsafeMutableBufferPointer<Unmanaged<Node>>
    init(_ callee: Node, _ args: CallArguments, _ line: Int, _ column: Int) {
        self.callee = callee
        self.calleeRef = Unmanaged.passUnretained(callee)
        self.args = args
        self.positional = .allocate(capacity: args.positional.count)
        _ = self.positional.initialize(from: args.positional.map { Unmanaged.passUnretained($0) })
        super.init(.call, line, column)
    }
    deinit { positional.deallocate() }
}

/// `object.name(args)`: a method of the object's type, or else the global function `name(object, args)`.
final class MethodCall: Node {
    let object: Node
    let name: String
    let args: CallArguments
    /// Global slot of `name`, for calling a global function with the object first.
    var globalIndex = -1
    init(_ object: Node, _ name: String, _ args: CallArguments, _ line: Int, _ column: Int) {
        self.object = object
        self.name = name
        self.args = args
        super.init(.methodCall, line, column)
    }
}

/// One position inside brackets: an expression or a slice `start:end:step`.
enum IndexPart {
    case single(Node)
    case slice(Node?, Node?, Node?)
}

final class Index: Node {
    let object: Node
    let parts: [IndexPart]
    init(_ object: Node, _ parts: [IndexPart], _ line: Int, _ column: Int) {
        self.object = object
        self.parts = parts
        super.init(.index, line, column)
    }
}

final class Member: Node {
    let object: Node
    let name: String
    init(_ object: Node, _ name: String, _ line: Int, _ column: Int) {
        self.object = object
        self.name = name
        super.init(.member, line, column)
    }
}

final class IndexAssign: Node {
    let target: Index
    let value: Node
    init(_ target: Index, _ value: Node, _ line: Int, _ column: Int) {
        self.target = target
        self.value = value
        super.init(.indexAssign, line, column)
    }
}

final class MemberAssign: Node {
    let target: Member
    let value: Node
    init(_ target: Member, _ value: Node, _ line: Int, _ column: Int) {
        self.target = target
        self.value = value
        super.init(.memberAssign, line, column)
    }
}

/// A function's parameters, body and what the resolver learned about its frame.
final class FunctionDecl {
    let name: String
    let params: [String]
    let paramCount: Int
    let defaults: [Node?]
    let body: Block
    let line: Int32, column: Int32
    /// Slots the frame needs (parameters first).
    var frameSize = 0
    /// Parameters that closures capture: wrapped in cells on entry.
    var capturedParams: [Int] = [] { didSet { hasCapturedParams = !capturedParams.isEmpty } }
    private(set) var hasCapturedParams = false
    /// Where each upvalue comes from when the closure is made: a slot of the enclosing frame, or one of its upvalues.
    var captures: [(fromLocal: Bool, index: Int)] = []
    var source: Source?

    init(name: String, params: [String], defaults: [Node?], body: Block, line: Int, column: Int) {
        self.name = name
        self.params = params
        self.paramCount = params.count
        self.defaults = defaults
        self.body = body
        self.line = Int32(line)
        self.column = Int32(column)
    }
}

final class FunctionExpr: Node {
    let decl: FunctionDecl
    init(_ decl: FunctionDecl, _ line: Int, _ column: Int) { self.decl = decl; super.init(.function, line, column) }
}

final class ExprStmt: Node {
    let expr: Node
    let exprRef: Unmanaged<Node>
    init(_ expr: Node) {
        self.expr = expr
        self.exprRef = Unmanaged.passUnretained(expr)
        super.init(.exprStmt, Int(expr.line), Int(expr.column))
    }
}

/// `fn name(...) { ... }`: binds a closure to `name` (resolved like an assignment).
final class FnDecl: Node {
    let assign: Assign
    init(_ assign: Assign, _ line: Int, _ column: Int) { self.assign = assign; super.init(.fnDecl, line, column) }
}

final class If: Node {
    let conditionRef: Unmanaged<Node>
    let thenRef: Unmanaged<Node>
    let condition: Node
    let then: Block
    let otherwise: Node?
    init(_ condition: Node, _ then: Block, _ otherwise: Node?, _ line: Int, _ column: Int) {
        self.condition = condition
        self.then = then
        self.otherwise = otherwise
        self.conditionRef = Unmanaged.passUnretained(condition)
        self.thenRef = Unmanaged.passUnretained(then)
        super.init(.ifStmt, line, column)
    }
}

final class While: Node {
    let conditionRef: Unmanaged<Node>
    let bodyRef: Unmanaged<Node>
    let condition: Node
    let body: Block
    init(_ condition: Node, _ body: Block, _ line: Int, _ column: Int) {
        self.condition = condition
        self.body = body
        self.conditionRef = Unmanaged.passUnretained(condition)
        self.bodyRef = Unmanaged.passUnretained(body)
        super.init(.whileStmt, line, column)
    }
}

/// `for x in xs { }` or `for k, v in pairs { }`; each loop variable is an Assign target.
final class For: Node {
    let targets: [Assign]
    let iterable: Node
    let body: Block
    init(_ targets: [Assign], _ iterable: Node, _ body: Block, _ line: Int, _ column: Int) {
        self.targets = targets
        self.iterable = iterable
        self.body = body
        super.init(.forStmt, line, column)
    }
}

final class Return: Node {
    let value: Node?
    let valueRef: Unmanaged<Node>?
    init(_ value: Node?, _ line: Int, _ column: Int) {
        self.value = value
        self.valueRef = value.map { Unmanaged.passUnretained($0) }
        super.init(.returnStmt, line, column)
    }
}

final class Block: Node {
    var statements: [Node] {
        didSet {
            precondition(statements.count == refs.count, "a block's statements are replaced, never added")
            for (i, s) in statements.enumerated() { refs[i] = Unmanaged.passUnretained(s) }
        }
    }
    /// The statements, unretained (statements owns them), in a buffer the block owns:
    /// reading an Array property would retain its storage on every pass.
    let refs: UnsafeMutableBufferPointer<Unmanaged<Node>>
    init(_ statements: [Node], _ line: Int, _ column: Int) {
        self.statements = statements
        refs = .allocate(capacity: statements.count)
        _ = refs.initialize(from: statements.map { Unmanaged.passUnretained($0) })
        super.init(.block, line, column)
    }
    deinit { refs.deallocate() }
}

final class Import: Node {
    let path: String
    init(_ path: String, _ line: Int, _ column: Int) { self.path = path; super.init(.importStmt, line, column) }
}
