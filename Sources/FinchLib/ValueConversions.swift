import FinchLang
import FinchTensor

/// Converting between language values and tensors.
enum Convert {
    static func tensor(_ v: Value, _ what: String = "value") throws -> Tensor {
        switch v {
        case .object(let o):
            if let t = o.value as? Tensor { return t }
            throw FinchError(.runtime, "\(what) must be a tensor or numbers, got \(article(o.type.name))")
        case .number(let n): return Tensor.scalar(Float(n))
        case .bool(let b): return Tensor.scalar(b ? 1 : 0)
        case .list, .range:
            var shape: [Int] = []
            var flat: [Float] = []
            try flatten(v, depth: 0, shape: &shape, into: &flat)
            return try Tensor(flat, shape: shape)
        default:
            throw FinchError(.runtime, "\(what) must be a tensor, a number or a (nested) list of numbers, got \(article(v.typeName))")
        }
    }

    private static func flatten(_ v: Value, depth: Int, shape: inout [Int], into flat: inout [Float]) throws {
        let items: [Value]
        switch v {
        case .number(let n):
            guard depth == shape.count else { throw FinchError(.runtime, "ragged nested list: a number where a list was expected") }
            flat.append(Float(n))
            return
        case .bool(let b):
            flat.append(b ? 1 : 0)
            return
        case .list(let l): items = l.items
        case .range(let r): items = (0..<r.count).map { .number(r.element($0)) }
        default: throw FinchError(.runtime, "tensor data must be numbers, got \(article(v.typeName))")
        }
        if depth == shape.count {
            shape.append(items.count)
        } else if depth > shape.count || shape[depth] != items.count {
            throw FinchError(.runtime, "ragged nested list: rows of different lengths at depth \(depth + 1)")
        }
        for item in items { try flatten(item, depth: depth + 1, shape: &shape, into: &flat) }
    }

    /// A shape from an int or a list of ints.
    static func shape(_ v: Value) throws -> [Int] {
        switch v {
        case .number(let n):
            guard n == n.rounded(), n >= 0, n < 9e15 else { throw FinchError(.runtime, "a shape needs non-negative integers, got \(Value.format(n))") }
            return [Int(n)]
        case .list(let l):
            return try l.items.map { item in
                guard case .number(let n) = item, n == n.rounded(), Swift.abs(n) < 9e15 else {
                    throw FinchError(.runtime, "a shape needs integers, got \(item.repr)")
                }
                return Int(n)
            }
        default: throw FinchError(.runtime, "a shape must be an integer or a list of integers, got \(article(v.typeName))")
        }
    }

    /// Axes from nil, an int or a list of ints.
    static func axes(_ v: Value) throws -> [Int]? {
        if case .nil = v { return nil }
        return try intList(v)
    }

    static func intList(_ v: Value) throws -> [Int] {
        switch v {
        case .number(let n):
            guard n == n.rounded(), Swift.abs(n) < 9e15 else { throw FinchError(.runtime, "expected an integer, got \(Value.format(n))") }
            return [Int(n)]
        case .list(let l):
            return try l.items.map { item in
                guard case .number(let n) = item, n == n.rounded(), Swift.abs(n) < 9e15 else { throw FinchError(.runtime, "expected integers, got \(item.repr)") }
                return Int(n)
            }
        default: throw FinchError(.runtime, "expected an integer or a list of integers, got \(article(v.typeName))")
        }
    }

    /// The tensor's elements as nested lists.
    static func list(_ t: Tensor) -> Value {
        let values = t.scalars
        if t.rank == 0 { return .number(Double(values.first ?? 0)) }
        func build(_ depth: Int, _ offset: Int) -> Value {
            let n = t.shape[depth]
            let stride = t.shape[(depth + 1)...].reduce(1, *)
            if depth == t.rank - 1 { return .list((0..<n).map { .number(Double(values[offset + $0])) }) }
            return .list((0..<n).map { build(depth + 1, offset + $0 * stride) })
        }
        return build(0, 0)
    }
}

