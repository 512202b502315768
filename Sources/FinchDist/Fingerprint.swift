import FinchTensor

/// A 64-bit hash of what ranks must share (weights, data, options), exchanged before training
/// so that ranks started with different inputs stop with an error instead of averaging nonsense.
/// Not cryptographic: it guards against mistakes, not adversaries.
public struct Fingerprint: Sendable {
    public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    public init() {}

    @inline(__always) private mutating func mix(_ x: UInt64) {
        // One multiply-rotate round per word (wyhash/murmur-style): fast enough for 135M weights.
        value = (value ^ x) &* 0x9E37_79B9_7F4A_7C15
        value = (value << 29) | (value >> 35)
    }

    /// Adds the bits of `count` floats.
    public mutating func add(_ p: UnsafePointer<Float>, count: Int) {
        mix(UInt64(count))
        let words = count / 2
        p.withMemoryRebound(to: UInt64.self, capacity: words) { w in
            var h = value
            for i in 0..<words {
                h = (h ^ w[i]) &* 0x9E37_79B9_7F4A_7C15
                h = (h << 29) | (h >> 35)
            }
            value = h
        }
        if count % 2 == 1 { mix(UInt64(p[count - 1].bitPattern)) }
    }

    /// Adds a tensor's values in their logical order.
    public mutating func add(_ t: Tensor) {
        let c = t.isContiguous ? t : ((try? t.contiguous()) ?? t)
        add(c.unsafePointer, count: c.count)
    }

    public mutating func add(_ ints: [Int]) {
        mix(UInt64(ints.count))
        for i in ints { mix(UInt64(bitPattern: Int64(i))) }
    }

    public mutating func add(_ s: String) {
        mix(UInt64(s.utf8.count))
        for b in s.utf8 { mix(UInt64(b)) }
    }
}

/// Ranks that disagree about what they train.
public struct DistributedError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension World {
    /// What the last failed check found: every rank throws the same error, so only rank 0 need say it.
    public var collectiveFailure: String? {
        get { failureLock.withLock { $0 } }
        set { failureLock.withLock { $0 = newValue } }
    }

    /// Checks that every rank holds the same things (named fingerprints, in the same order),
    /// and throws on every rank, naming what differs and where, when one does not.
    public func checkSame(_ parts: [(what: String, hash: UInt64)]) throws {
        guard isDistributed else { return }
        let all = gather(parts.map(\.hash))
        var problems: [String] = []
        for (i, part) in parts.enumerated() {
            let differ = (1..<size).filter { all[$0][i] != all[0][i] }
            if !differ.isEmpty {
                problems.append("rank\(differ.count == 1 ? "" : "s") \(differ.map(String.init).joined(separator: ", ")) differ\(differ.count == 1 ? "s" : "") from rank 0 in \(part.what)")
            }
        }
        if !problems.isEmpty {
            collectiveFailure = problems[0]
            throw DistributedError("the \(size) ranks do not train the same thing: " + problems.joined(separator: "; ")
                                   + " (every rank must load the same model and data and call train with the same options)")
        }
    }
}
