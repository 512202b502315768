import FinchTensor

/// Keys and values of the positions a model has already seen, per layer, so each new
/// token attends to them without recomputing them. Storage grows by doubling.
public final class KVCache {
    /// Positions held.
    public fileprivate(set) var length = 0
    public let batch: Int
    fileprivate var keys: [Tensor] = []
    fileprivate var values: [Tensor] = []
    fileprivate var capacity = 0

    public init(batch: Int = 1) { self.batch = batch }

    /// Forgets every position.
    public func reset() { length = 0 }

    /// Makes room for `tokens` more positions before a forward pass writes them.
    func reserve(batch b: Int, tokens: Int, for c: ModelConfig) throws {
        guard b == batch else { throw ModelError("the cache holds a batch of \(batch), the ids a batch of \(b)") }
        if keys.count != c.layers || keys.first?.shape[2] != c.kvHeads || keys.first?.shape[3] != c.headDim {
            keys = []; values = []; capacity = 0; length = 0
        }
        guard length + tokens > capacity else { return }
        let newCapacity = Swift.min(Swift.max(length + tokens, capacity * 2, 64), Swift.max(c.context, length + tokens))
        let row = c.kvDim
        var newKeys: [Tensor] = [], newValues: [Tensor] = []
        for l in 0..<c.layers {
            let nk = try Tensor.zeros([batch, newCapacity, c.kvHeads, c.headDim])
            let nv = try Tensor.zeros([batch, newCapacity, c.kvHeads, c.headDim])
            if l < keys.count {
                for b in 0..<batch {
                    (nk.unsafePointer + b * newCapacity * row).update(from: keys[l].unsafePointer + b * capacity * row, count: length * row)
                    (nv.unsafePointer + b * newCapacity * row).update(from: values[l].unsafePointer + b * capacity * row, count: length * row)
                }
            }
            newKeys.append(nk); newValues.append(nv)
        }
        keys = newKeys; values = newValues; capacity = newCapacity
    }

    /// Writes a layer's new keys and values [batch, tokens, kvHeads, d] after the cached
    /// positions and returns views of all of them.
    func append(layer: Int, keys k: Tensor, values v: Tensor) throws -> (Tensor, Tensor) {
        let T = k.shape[1], row = k.shape[2] * k.shape[3]
        let kc = try k.contiguous(), vc = try v.contiguous()
        for (src, dst) in [(kc, keys[layer]), (vc, values[layer])] {
            for b in 0..<batch {
                (dst.unsafePointer + (b * capacity + length) * row).update(from: src.unsafePointer + b * T * row, count: T * row)
            }
        }
        return (try keys[layer].slice(axis: 1, start: 0, end: length + T), try values[layer].slice(axis: 1, start: 0, end: length + T))
    }

    func advance(by t: Int) { length += t }
    func rewind(to n: Int) { length = n }
}

extension KVCache {
    /// Forgets the positions after the first `n`, so the cached prefix can be continued differently
    /// (multiple-choice scoring: one context, several continuations).
    public func truncate(to n: Int) {
        precondition(n >= 0 && n <= length, "cannot keep \(n) of \(length) cached positions")
        rewind(to: n)
    }
}

extension KVCache {
    /// A cache of `batch` rows, each a copy of this single-row cache, with room for `room` more
    /// positions: one context continued several ways in one batched forward pass.
    public func repeated(batch b: Int, room: Int) throws -> KVCache {
        precondition(batch == 1, "only a single-row cache can be repeated")
        let out = KVCache(batch: b)
        guard let first = keys.first else { return out }
        let (heads, d) = (first.shape[2], first.shape[3]), row = heads * d
        let cap = length + room
        for l in keys.indices {
            let nk = try Tensor.zeros([b, cap, heads, d]), nv = try Tensor.zeros([b, cap, heads, d])
            for i in 0..<b {
                (nk.unsafePointer + i * cap * row).update(from: keys[l].unsafePointer, count: length * row)
                (nv.unsafePointer + i * cap * row).update(from: values[l].unsafePointer, count: length * row)
            }
            out.keys.append(nk); out.values.append(nv)
        }
        out.capacity = cap
        out.length = length
        return out
    }
}
