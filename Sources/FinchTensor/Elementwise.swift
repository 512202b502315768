/// Elementwise kernels. Each op is a type with a static `apply`, so the generic
/// loops below are specialised per op and the inner loop is vectorised.
protocol BinaryOp { static func apply(_ a: Float, _ b: Float) -> Float }
protocol UnaryOp { static func apply(_ x: Float) -> Float }

/// Elements per thread below which a kernel stays on one thread.
let elementwiseGrain = 1 << 16

enum Kernels {
    /// out = Op(a, b) with NumPy broadcasting.
    @inline(__always)
    static func binary<Op: BinaryOp>(_ a: Tensor, _ b: Tensor, _: Op.Type, name: String) throws -> Tensor {
        let shape = try Shape.broadcast(a.shape, b.shape, op: name)
        let out = try Tensor.empty(shape, op: name)
        let n = out.count
        let o = out.pointer
        if a.shape == shape, b.shape == shape, a.isContiguous, b.isContiguous {
            let pa = a.pointer, pb = b.pointer
            parallelRanges(n, grain: elementwiseGrain) { r in
                for i in r { o[i] = Op.apply(pa[i], pb[i]) }
            }
        } else if b.count == 1, a.shape == shape, a.isContiguous {
            let pa = a.pointer, s = b.pointer.pointee
            parallelRanges(n, grain: elementwiseGrain) { r in
                for i in r { o[i] = Op.apply(pa[i], s) }
            }
        } else if a.count == 1, b.shape == shape, b.isContiguous {
            let pb = b.pointer, s = a.pointer.pointee
            parallelRanges(n, grain: elementwiseGrain) { r in
                for i in r { o[i] = Op.apply(s, pb[i]) }
            }
        } else {
            let sa = Strided.broadcastStrides(a, to: shape), sb = Strided.broadcastStrides(b, to: shape)
            let width = shape.last ?? 1
            let ia = sa.last ?? 0, ib = sb.last ?? 0
            let pa = a.pointer, pb = b.pointer
            parallelRanges(Strided.rowCount(shape), grain: max(1, elementwiseGrain / max(width, 1))) { rows in
                Strided.rows2(shape, sa, sb, rows: rows) { row, oa, ob in
                    let dst = o + row &* width, x = pa + oa, y = pb + ob
                    if ia == 1 && ib == 1 {
                        for i in 0..<width { dst[i] = Op.apply(x[i], y[i]) }
                    } else if ia == 1 && ib == 0 {
                        let s = y.pointee
                        for i in 0..<width { dst[i] = Op.apply(x[i], s) }
                    } else if ia == 0 && ib == 1 {
                        let s = x.pointee
                        for i in 0..<width { dst[i] = Op.apply(s, y[i]) }
                    } else {
                        for i in 0..<width { dst[i] = Op.apply(x[i &* ia], y[i &* ib]) }
                    }
                }
            }
        }
        return out
    }

    /// out = Op(x), elementwise.
    @inline(__always)
    static func unary<Op: UnaryOp>(_ x: Tensor, _: Op.Type, name: String) throws -> Tensor {
        let c = try x.contiguousNoGrad()
        let out = try Tensor.empty(x.shape, op: name)
        let src = c.pointer, dst = out.pointer
        parallelRanges(out.count, grain: elementwiseGrain) { r in
            for i in r { dst[i] = Op.apply(src[i]) }
        }
        return out
    }
}

enum AddOp: BinaryOp { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a + b } }
enum SubOp: BinaryOp { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a - b } }
enum MulOp: BinaryOp { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a * b } }
enum DivOp: BinaryOp { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a / b } }
enum PowOp: BinaryOp { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { powf(a, b) } }
enum MaxOp: BinaryOp { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a >= b || b != b ? (b != b ? b : a) : b } }
enum MinOp: BinaryOp { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a <= b || b != b ? (b != b ? b : a) : b } }
enum EqOp: BinaryOp { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a == b ? 1 : 0 } }
enum NeOp: BinaryOp { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a != b ? 1 : 0 } }
enum LtOp: BinaryOp { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a < b ? 1 : 0 } }
enum LeOp: BinaryOp { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a <= b ? 1 : 0 } }
enum GtOp: BinaryOp { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a > b ? 1 : 0 } }
enum GeOp: BinaryOp { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a >= b ? 1 : 0 } }

#if canImport(Glibc)
import Glibc
#endif

extension Tensor {
    /// a + b, broadcasting.
    public func adding(_ other: Tensor) throws -> Tensor {
        let (sa, sb) = (shape, other.shape)
        return try Kernels.binary(self, other, AddOp.self, name: "add").recorded("add", [self, other]) { g, _ in
            [try g.sumToShape(sa), try g.sumToShape(sb)]
        }
    }

    /// a − b, broadcasting.
    public func subtracting(_ other: Tensor) throws -> Tensor {
        let (sa, sb) = (shape, other.shape)
        return try Kernels.binary(self, other, SubOp.self, name: "sub").recorded("sub", [self, other]) { g, needs in
            [try g.sumToShape(sa), needs[1] ? try g.negated().sumToShape(sb) : nil]
        }
    }

    /// a · b elementwise, broadcasting.
    public func multiplying(_ other: Tensor) throws -> Tensor {
        let (a, b) = (self.detached(), other.detached())
        return try Kernels.binary(self, other, MulOp.self, name: "mul").recorded("mul", [self, other]) { g, needs in
            [needs[0] ? try g.multiplying(b).sumToShape(a.shape) : nil,
             needs[1] ? try g.multiplying(a).sumToShape(b.shape) : nil]
        }
    }

    /// a / b elementwise, broadcasting.
    public func dividing(_ other: Tensor) throws -> Tensor {
        let (a, b) = (self.detached(), other.detached())
        return try Kernels.binary(self, other, DivOp.self, name: "div").recorded("div", [self, other]) { g, needs in
            let ga = try g.dividing(b)
            return [needs[0] ? try ga.sumToShape(a.shape) : nil,
                    needs[1] ? try ga.multiplying(a).dividing(b).negated().sumToShape(b.shape) : nil]
        }
    }

    /// a^b elementwise, broadcasting.
    public func pow(_ exponent: Tensor) throws -> Tensor {
        let (a, b) = (self.detached(), exponent.detached())
        let out = try Kernels.binary(self, exponent, PowOp.self, name: "pow")
        let y = out.detached()
        return out.recorded("pow", [self, exponent]) { g, needs in
            // d/da a^b = b·a^(b−1); d/db a^b = a^b·ln a
            [needs[0] ? try g.multiplying(b).multiplying(a.pow(b.subtracting(.scalar(1)))).sumToShape(a.shape) : nil,
             needs[1] ? try g.multiplying(y).multiplying(a.log()).sumToShape(b.shape) : nil]
        }
    }

    /// Elementwise maximum; the gradient goes to the larger (to a on ties).
    public func maximum(_ other: Tensor) throws -> Tensor {
        let (a, b) = (self.detached(), other.detached())
        return try Kernels.binary(self, other, MaxOp.self, name: "maximum").recorded("maximum", [self, other]) { g, _ in
            let mask = try Kernels.binary(a, b, GeOp.self, name: "maximum")
            return [try g.multiplying(mask).sumToShape(a.shape),
                    try g.multiplying(Tensor.scalar(1).subtracting(mask)).sumToShape(b.shape)]
        }
    }

    /// Elementwise minimum; the gradient goes to the smaller (to a on ties).
    public func minimum(_ other: Tensor) throws -> Tensor {
        let (a, b) = (self.detached(), other.detached())
        return try Kernels.binary(self, other, MinOp.self, name: "minimum").recorded("minimum", [self, other]) { g, _ in
            let mask = try Kernels.binary(a, b, LeOp.self, name: "minimum")
            return [try g.multiplying(mask).sumToShape(a.shape),
                    try g.multiplying(Tensor.scalar(1).subtracting(mask)).sumToShape(b.shape)]
        }
    }

    /// 1 where a == b, else 0 (no gradient).
    public func eq(_ other: Tensor) throws -> Tensor { try Kernels.binary(self, other, EqOp.self, name: "eq") }
    /// 1 where a != b, else 0.
    public func ne(_ other: Tensor) throws -> Tensor { try Kernels.binary(self, other, NeOp.self, name: "ne") }
    /// 1 where a < b, else 0.
    public func lt(_ other: Tensor) throws -> Tensor { try Kernels.binary(self, other, LtOp.self, name: "lt") }
    /// 1 where a <= b, else 0.
    public func le(_ other: Tensor) throws -> Tensor { try Kernels.binary(self, other, LeOp.self, name: "le") }
    /// 1 where a > b, else 0.
    public func gt(_ other: Tensor) throws -> Tensor { try Kernels.binary(self, other, GtOp.self, name: "gt") }
    /// 1 where a >= b, else 0.
    public func ge(_ other: Tensor) throws -> Tensor { try Kernels.binary(self, other, GeOp.self, name: "ge") }

    /// Picks from `a` where this (the condition) is non-zero, else from `b`; all three broadcast.
    public func where_(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        let shape = try Shape.broadcast(try Shape.broadcast(shape, a.shape, op: "where"), b.shape, op: "where")
        let (c, x, y) = try GradMode.noGrad {
            (try expand(shape).contiguousNoGrad(), try a.expand(shape).contiguousNoGrad(), try b.expand(shape).contiguousNoGrad())
        }
        let out = try Tensor.empty(shape, op: "where")
        let pc = c.pointer, px = x.pointer, py = y.pointer, po = out.pointer
        parallelRanges(out.count, grain: elementwiseGrain) { r in
            for i in r { po[i] = pc[i] != 0 ? px[i] : py[i] }
        }
        let (sa, sb) = (a.shape, b.shape)
        return out.recorded("where", [a, b]) { g, _ in
            let zero = Tensor.scalar(0)
            return [try c.where_(g, zero).sumToShape(sa), try c.where_(zero, g).sumToShape(sb)]
        }
    }

    public static func + (a: Tensor, b: Tensor) throws -> Tensor { try a.adding(b) }
    public static func - (a: Tensor, b: Tensor) throws -> Tensor { try a.subtracting(b) }
    public static func * (a: Tensor, b: Tensor) throws -> Tensor { try a.multiplying(b) }
    public static func / (a: Tensor, b: Tensor) throws -> Tensor { try a.dividing(b) }
    public static func + (a: Tensor, b: Float) throws -> Tensor { try a.adding(.scalar(b)) }
    public static func - (a: Tensor, b: Float) throws -> Tensor { try a.subtracting(.scalar(b)) }
    public static func * (a: Tensor, b: Float) throws -> Tensor { try a.multiplying(.scalar(b)) }
    public static func / (a: Tensor, b: Float) throws -> Tensor { try a.dividing(.scalar(b)) }
    public static func + (a: Float, b: Tensor) throws -> Tensor { try Tensor.scalar(a).adding(b) }
    public static func - (a: Float, b: Tensor) throws -> Tensor { try Tensor.scalar(a).subtracting(b) }
    public static func * (a: Float, b: Tensor) throws -> Tensor { try Tensor.scalar(a).multiplying(b) }
    public static func / (a: Float, b: Tensor) throws -> Tensor { try Tensor.scalar(a).dividing(b) }
    public static prefix func - (a: Tensor) throws -> Tensor { try a.negated() }
}
