/// The merge table: (left id, right id) -> (rank, merged id), probed on every adjacent pair of every
/// piece. Open addressing with a multiplicative hash: Swift's Dictionary hashes UInt64 keys with
/// SipHash, which was a quarter of encoding time.
struct MergeTable: Sendable {
    private var keys: [UInt64]
    private var values: [UInt64]
    private let shift: UInt64
    private(set) var count = 0
    private static let empty = UInt64.max

    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size *= 2 }
        keys = [UInt64](repeating: MergeTable.empty, count: size)
        values = [UInt64](repeating: 0, count: size)
        shift = UInt64(64 - size.trailingZeroBitCount)
    }

    @inline(__always) private func slot(_ key: UInt64) -> Int { Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift) }

    @inline(__always) subscript(key: UInt64) -> UInt64? {
        let mask = keys.count - 1
        var i = slot(key)
        while true {
            let k = keys[i]
            if k == key { return values[i] }
            if k == MergeTable.empty { return nil }
            i = (i + 1) & mask
        }
    }

    /// Adds `value` for `key` unless the key is there already (the first, lowest-ranked merge wins).
    mutating func insertIfAbsent(_ key: UInt64, _ value: UInt64) {
        let mask = keys.count - 1
        var i = slot(key)
        while keys[i] != MergeTable.empty {
            if keys[i] == key { return }
            i = (i + 1) & mask
        }
        keys[i] = key
        values[i] = value
        count += 1
    }

    /// Every (key, value), in no order.
    var entries: [(key: UInt64, value: UInt64)] {
        zip(keys, values).filter { $0.0 != MergeTable.empty }.map { (key: $0.0, value: $0.1) }
    }
}
