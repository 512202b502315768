import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A buffer of Float32 that tensors view. Freed buffers of the same size are
/// reused: training allocates the same shapes every step, and fresh pages
/// from the kernel cost a page fault each (measured: they would double the
/// time of a large elementwise op).
public final class Storage: @unchecked Sendable {
    public let base: UnsafeMutablePointer<Float>
    public let count: Int
    /// Bumped by every in-place write (assign, fill, setElement, and writers through raw
    /// pointers that call `markWritten`), so caches derived from the values know to refresh.
    public private(set) var version: UInt64 = 0

    /// Records that the values changed (for code that writes through `Tensor.unsafePointer`).
    public func markWritten() { version &+= 1 }

    /// Uninitialised storage of `count` floats.
    init(uninitializedCount count: Int) throws {
        self.count = count
        self.base = try BufferCache.shared.allocate(count)
    }

    /// Zero-filled storage of `count` floats.
    convenience init(zeros count: Int) throws {
        try self.init(uninitializedCount: count)
        base.update(repeating: 0, count: count)
    }

    deinit { BufferCache.shared.release(base, count) }
}

/// Size-keyed cache of freed float buffers, bounded in total bytes.
final class BufferCache: Sendable {
    static let shared = BufferCache()

    /// Buffers smaller than this go straight to malloc, which is fast for them.
    static let minimumCachedCount = 16 * 1024
    private let capacityBytes: Int
    let physicalBytes: Int

    private struct State {
        // Addresses rather than pointers: pointers are not Sendable into the lock.
        var free: [Int: [UInt]] = [:]
        var cachedBytes = 0
    }
    private let state = Mutex(State())

    init() {
        let pages = sysconf(Int32(_SC_PHYS_PAGES))
        let pageSize = sysconf(Int32(_SC_PAGESIZE))
        physicalBytes = pages > 0 && pageSize > 0 ? pages * pageSize : Int.max
        capacityBytes = min(physicalBytes / 8, 4 << 30)
    }

    func allocate(_ count: Int) throws -> UnsafeMutablePointer<Float> {
        let bytes = count.multipliedReportingOverflow(by: 4)
        guard !bytes.overflow, bytes.partialValue <= physicalBytes else {
            let gb = Double(count) * 4 / 1e9
            throw TensorError.outOfMemory(requestedGB: gb, availableGB: Double(physicalBytes) / 1e9)
        }
        if count >= Self.minimumCachedCount {
            let reused: UInt? = state.withLock { s in
                guard var list = s.free[count], let p = list.popLast() else { return nil }
                s.free[count] = list.isEmpty ? nil : list
                s.cachedBytes -= count * 4
                return p
            }
            if let address = reused, let p = UnsafeMutablePointer<Float>(bitPattern: address) { return p }
        }
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 4, alignment: 64)
        return raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    func release(_ pointer: UnsafeMutablePointer<Float>, _ count: Int) {
        if count >= Self.minimumCachedCount {
            let address = UInt(bitPattern: pointer)
            let kept = state.withLock { s -> Bool in
                guard s.cachedBytes + count * 4 <= capacityBytes else { return false }
                s.free[count, default: []].append(address)
                s.cachedBytes += count * 4
                return true
            }
            if kept { return }
        }
        UnsafeMutableRawPointer(pointer).deallocate()
    }
}
