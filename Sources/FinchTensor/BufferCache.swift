import CKernels
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Size-keyed cache of freed float buffers. A buffer is worth keeping only if a buffer of
/// its size will be asked for again, and training asks for the same sizes every step; so
/// the cache holds what was freed, newest first, and lets the buffers of sizes that stopped
/// recurring (the previous batch width, a finished evaluation) go first.
///
/// Bound: the bytes in use plus the bytes cached stay within the high-water mark of bytes
/// in use (times 1 + `headroom`, plus `slackBytes`), and within `capacityBytes`. A steady
/// training loop (measured: in use + cached peaks 3% above in use) never evicts; data of
/// varying widths no longer grows the process by a cache full of every width it has seen.
final class BufferCache: Sendable {
    static let shared = BufferCache()

    /// Buffers smaller than this go straight to malloc, which is fast for them.
    static let minimumCachedCount = 16 * 1024
    static let headroom = 0.10
    static let slackBytes = 64 << 20
    private let capacityBytes: Int

    private struct State {
        // Addresses rather than pointers: pointers are not Sendable into the lock.
        // Each list is oldest first, with the time (a count of releases) it was cached.
        var free: [Int: [(address: UInt, time: Int)]] = [:]
        var clock = 0
        var cachedBytes = 0
        var liveBytes = 0
        var highWater = 0

        var bound: Int { Int(Double(highWater) * (1 + BufferCache.headroom)) + BufferCache.slackBytes }

        /// Takes the least recently cached buffer out; nil when the cache is empty.
        mutating func evictOldest() -> (address: UInt, count: Int)? {
            guard let count = free.min(by: { $0.value[0].time < $1.value[0].time })?.key,
                  var list = free[count] else { return nil }
            let address = list.removeFirst().address
            free[count] = list.isEmpty ? nil : list
            cachedBytes -= count * 4
            return (address, count)
        }

        /// Evicts until `extra` more bytes fit under both bounds, returning what to free.
        mutating func makeRoom(_ extra: Int, capacity: Int) -> [(address: UInt, count: Int)] {
            var evicted: [(address: UInt, count: Int)] = []
            while cachedBytes > 0, liveBytes + cachedBytes + extra > bound || cachedBytes + extra > capacity,
                  let e = evictOldest() {
                evicted.append(e)
            }
            return evicted
        }
    }
    private let state = Mutex(State())

    /// A cache holding at most `capacityBytes` (an eighth of the machine's memory, at most 4 GB).
    init(capacityBytes: Int? = nil) {
        self.capacityBytes = capacityBytes ?? min(MachineMemory.physicalBytes / 8, 4 << 30)
    }

    func allocate(_ count: Int) throws -> UnsafeMutablePointer<Float> {
        let bytes = count.multipliedReportingOverflow(by: 4)
        guard !bytes.overflow, bytes.partialValue <= MachineMemory.physicalBytes else {
            let gb = Double(count) * 4 / 1e9
            throw TensorError.outOfMemory(requestedGB: gb, availableGB: Double(MachineMemory.physicalBytes) / 1e9)
        }
        // A gigabyte or more is checked against what is free now: past it the machine would swap or
        // the kernel kill the process (and the REPL session with it), where an error keeps both.
        if bytes.partialValue >= 1 << 30, let free = MachineMemory.availableBytes(), bytes.partialValue > free {
            throw TensorError.outOfMemory(requestedGB: Double(bytes.partialValue) / 1e9, availableGB: Double(free) / 1e9)
        }
        if count >= Self.minimumCachedCount {
            let (reused, evicted) = state.withLock { s -> (UInt?, [(address: UInt, count: Int)]) in
                s.liveBytes += count * 4
                s.highWater = max(s.highWater, s.liveBytes)
                if var list = s.free[count], let entry = list.popLast() {
                    s.free[count] = list.isEmpty ? nil : list
                    s.cachedBytes -= count * 4
                    return (entry.address, [])
                }
                // A fresh buffer: make the cache give back what no longer recurs first.
                return (nil, s.makeRoom(0, capacity: capacityBytes))
            }
            Self.deallocate(evicted)
            if let address = reused, let p = UnsafeMutablePointer<Float>(bitPattern: address) { return p }
            return try Self.map(count)
        }
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 4, alignment: 64)
        return raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    func release(_ pointer: UnsafeMutablePointer<Float>, _ count: Int) {
        if count >= Self.minimumCachedCount {
            let address = UInt(bitPattern: pointer)
            let (kept, evicted) = state.withLock { s -> (Bool, [(address: UInt, count: Int)]) in
                s.liveBytes -= count * 4
                let evicted = s.makeRoom(count * 4, capacity: capacityBytes)
                guard s.liveBytes + s.cachedBytes + count * 4 <= s.bound,
                      s.cachedBytes + count * 4 <= capacityBytes else { return (false, evicted) }
                s.clock += 1
                s.free[count, default: []].append((address, s.clock))
                s.cachedBytes += count * 4
                return (true, evicted)
            }
            Self.deallocate(evicted)
            if !kept { Self.unmap(address, count) }
            return
        }
        UnsafeMutableRawPointer(pointer).deallocate()
    }

    /// Frees every cached buffer and lowers the high-water mark to the bytes in use now: when a
    /// model has let go of most of its memory for good (weights frozen into blocks), neither the
    /// freed buffers nor a bound sized by them should keep it in the process.
    func releaseAll() {
        let all = state.withLock { s -> [(address: UInt, count: Int)] in
            let out = s.free.flatMap { count, list in list.map { (address: $0.address, count: count) } }
            s.free = [:]
            s.cachedBytes = 0
            s.highWater = s.liveBytes
            return out
        }
        Self.deallocate(all)
    }

    /// Bytes held by the cache, and bytes in use, of buffers of the cached sizes.
    var usage: (cached: Int, live: Int, highWater: Int) {
        state.withLock { s in (s.cachedBytes, s.liveBytes, s.highWater) }
    }

    /// Buffers of at least this many floats (1 MB) are mapped from the kernel directly.
    static let mappedCount = 256 * 1024

    // Large buffers are mapped from the kernel directly rather than taken from malloc: glibc
    // raises its mmap threshold to the largest block freed, after which such blocks come from
    // the heap, and a fragmented heap never shrinks (measured: the process grew by a gigabyte
    // over 30 steps of varying width with nothing in use or cached). Smaller ones stay with
    // malloc: a process may hold only 65530 mappings, and a cache of 64 KB buffers could pass that.
    private static func map(_ count: Int) throws -> UnsafeMutablePointer<Float> {
        guard count >= mappedCount else {
            return UnsafeMutableRawPointer.allocate(byteCount: count * 4, alignment: 64).bindMemory(to: Float.self, capacity: count)
        }
        let p = mmap(nil, count * 4, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let p, p != MAP_FAILED else {
            throw TensorError.outOfMemory(requestedGB: Double(count) * 4 / 1e9, availableGB: Double(MachineMemory.physicalBytes) / 1e9)
        }
        return p.bindMemory(to: Float.self, capacity: count)
    }

    private static func unmap(_ address: UInt, _ count: Int) {
        if count >= mappedCount {
            munmap(UnsafeMutableRawPointer(bitPattern: address), count * 4)
        } else {
            UnsafeMutableRawPointer(bitPattern: address)?.deallocate()
        }
    }

    private static func deallocate(_ evicted: [(address: UInt, count: Int)]) {
        for e in evicted { unmap(e.address, e.count) }
    }
}

extension Tensor {
    /// Gives the freed buffers Finch keeps for reuse back to the system, and lets the cache grow
    /// only from what is in use now: for when a model has let go of much of its memory for good.
    public static func releaseCachedBuffers() {
        BufferCache.shared.releaseAll()
        finch_release_heap()
    }
}
