@preconcurrency import COpenBLAS
import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The one thread setting for OpenBLAS and Finch's own kernels, so the two never
/// oversubscribe the cores. Read from FINCH_THREADS (default: all cores).
public enum Threads {
    private static let current = Atomic<Int>(0)

    /// Threads used by matrix products and parallel kernels.
    public static var count: Int {
        let n = current.load(ordering: .relaxed)
        if n > 0 { return n }
        return configureFromEnvironment()
    }

    /// Sets the thread count for OpenBLAS and Finch kernels alike.
    public static func set(_ n: Int) {
        let n = max(1, n)
        current.store(n, ordering: .relaxed)
        openblas_set_num_threads(Int32(n))
    }

    /// Runs `body` with OpenBLAS on one thread, for kernels that split work across Finch's own
    /// threads and call BLAS from each: many small products in parallel beat each one split in two
    /// (OpenBLAS's idle workers spin, taking the cores Finch's threads need).
    static func withSingleThreadedBLAS<T>(unless keep: Bool = false, _ body: () throws -> T) rethrows -> T {
        let n = count
        guard n > 1, !keep else { return try body() }
        openblas_set_num_threads(1)
        defer { openblas_set_num_threads(Int32(n)) }
        return try body()
    }

    /// Cores the machine reports.
    public static var available: Int { max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))) }

    private static func configureFromEnvironment() -> Int {
        var n = available
        if let text = getenv("FINCH_THREADS").map({ String(cString: $0) }), let v = Int(text), v > 0 { n = v }
        set(n)
        return n
    }
}

/// Splits 0..<count into contiguous chunks run on up to Threads.count threads;
/// small jobs (below `grain` items per thread) run inline.
@inline(__always)
func parallelRanges(_ count: Int, grain: Int, _ body: (Range<Int>) -> Void) {
    let threads = min(Threads.count, max(1, count / max(grain, 1)))
    if threads <= 1 {
        if count > 0 { body(0..<count) }
        return
    }
    let chunk = (count + threads - 1) / threads
    withoutActuallyEscaping(body) { body in
        let box = UncheckedBox(body)
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            let start = t * chunk
            let end = min(count, start + chunk)
            if start < end { box.value(start..<end) }
        }
    }
}

/// Lets kernels hand raw pointers to worker threads; each worker writes a disjoint range.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// Finch's parallel loops, for code outside this module (benchmarks, other kernels).
public enum Parallel {
    /// Runs body over contiguous chunks of 0..<count on up to Threads.count threads.
    public static func forEachRange(_ count: Int, grain: Int = 1 << 16, _ body: (Range<Int>) -> Void) {
        parallelRanges(count, grain: grain, body)
    }

    /// memcpy split across the threads (glibc streams large copies past the cache).
    public static func memcpy(from src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>, count: Int) {
        parallelRanges(count, grain: 1 << 16) { r in (dst + r.lowerBound).update(from: src + r.lowerBound, count: r.count) }
    }

    /// A plain copy loop split across the threads: ordinary loads and stores,
    /// as every elementwise kernel makes — the bandwidth baseline for them.
    public static func copy(from src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>, count: Int) {
        parallelRanges(count, grain: 1 << 16) { r in
            for i in r { dst[i] = src[i] }
        }
    }
}
