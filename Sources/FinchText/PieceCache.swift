import Foundation

/// The pieces one encode call has already merged, keyed by their bytes (words, spaces and
/// punctuation repeat): open addressing over flat arrays of bytes and ids, with a multiplicative
/// hash of eight bytes at a time. A Dictionary keyed by [UInt8] hashed every piece with SipHash and
/// allocated every key, a fifth of encoding time on the families' tokenizers.
struct PieceCache {
    private struct Entry {
        var hash: UInt64
        var keyStart: Int32, keyCount: Int32
        var idStart: Int32, idCount: Int32
    }
    private var slots: [Int32] = []
    private var entries: [Entry] = []
    private var keys: [UInt8] = []
    private var ids: [Int32] = []

    private static func hash(_ b: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(b.count)
        var i = 0
        while i + 8 <= b.count {
            let w = UnsafeRawPointer(b.baseAddress! + i).loadUnaligned(as: UInt64.self)
            h = (h ^ w) &* 0xFF51_AFD7_ED55_8CCD
            h ^= h >> 32
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < b.count { tail |= UInt64(b[i]) << shift; shift += 8; i += 1 }
        h = (h ^ tail) &* 0xC4CE_B9FE_1A85_EC53
        return h ^ (h >> 29)
    }

    /// Appends the ids of `key` to `out` and returns true, if the piece was seen before.
    func lookup(_ key: UnsafeBufferPointer<UInt8>, into out: inout [Int]) -> Bool {
        guard !slots.isEmpty else { return false }
        let h = Self.hash(key)
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let e = Int(slots[i])
            if e < 0 { return false }
            let entry = entries[e]
            if entry.hash == h, Int(entry.keyCount) == key.count,
               keys.withUnsafeBufferPointer({ k in memcmp(k.baseAddress! + Int(entry.keyStart), key.baseAddress!, key.count) == 0 }) {
                for j in Int(entry.idStart)..<Int(entry.idStart + entry.idCount) { out.append(Int(ids[j])) }
                return true
            }
            i = (i + 1) & mask
        }
    }

    /// Remembers `key`'s ids (the caller has checked it is not there).
    mutating func insert(_ key: UnsafeBufferPointer<UInt8>, _ pieceIds: [Int32]) {
        if entries.count * 2 >= slots.count { grow() }
        let h = Self.hash(key)
        entries.append(Entry(hash: h, keyStart: Int32(keys.count), keyCount: Int32(key.count), idStart: Int32(ids.count), idCount: Int32(pieceIds.count)))
        keys.append(contentsOf: key)
        ids.append(contentsOf: pieceIds)
        place(entries.count - 1, h)
    }

    private mutating func place(_ e: Int, _ h: UInt64) {
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: h) & mask
        while slots[i] >= 0 { i = (i + 1) & mask }
        slots[i] = Int32(e)
    }

    private mutating func grow() {
        slots = [Int32](repeating: -1, count: max(1024, slots.count * 2))
        for (e, entry) in entries.enumerated() { place(e, entry.hash) }
    }
}
