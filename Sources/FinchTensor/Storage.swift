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
