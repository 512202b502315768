@preconcurrency import COpenBLAS
import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The one thread setting for Finch's kernels and matrix products, read from FINCH_THREADS
/// (default: all cores, or under mpirun the cores divided among the processes on this machine). OpenBLAS always runs on the calling thread: Finch splits each large
/// product across its own WorkerTeam, which was faster on every shape of a training step than
/// OpenBLAS's threads (1024×576 by 576ᵀ: 200 against 166 GFLOP/s on 2 cores) and leaves no second
/// set of threads spinning while Finch's kernels run.
public enum Threads {
    private static let current = Atomic<Int>(0)

    /// Threads used by matrix products and parallel kernels.
    public static var count: Int {
        let n = current.load(ordering: .relaxed)
        return n > 0 ? n : initial
    }

    /// Sets the thread count for Finch's kernels and matrix products.
    public static func set(_ n: Int) {
        _ = initial
        current.store(max(1, n), ordering: .relaxed)
    }

    /// The first use sets OpenBLAS up, once (a static's initialiser runs once however many threads
    /// arrive together): its kernels chosen before any product, its own threads off.
    private static let initial: Int = {
        BLASKernels.pin()
        openblas_set_num_threads(1)
        // Under mpirun the processes on one machine share its cores: each takes its part.
        let local = getenv("OMPI_COMM_WORLD_LOCAL_SIZE").flatMap { Int(String(cString: $0)) } ?? 1
        var n = max(1, available / max(1, local))
        if let text = getenv("FINCH_THREADS").map({ String(cString: $0) }), let v = Int(text), v > 0 { n = v }
        _ = current.compareExchange(expected: 0, desired: n, ordering: .relaxed)
        return n
    }()

    /// Cores the machine reports.
    public static var available: Int { max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))) }
}

/// Splits 0..<count into contiguous chunks, one per thread (up to Threads.count), run on the
/// WorkerTeam; small jobs (below `grain` items per thread) run inline. The chunks depend only on
/// count, grain and Threads.count, never on timing, so reductions over them are deterministic; when
/// the team is busy (a loop nested in another) the same chunks run in order on the caller.
@inline(__always)
func parallelRanges(_ count: Int, grain: Int, _ body: (Range<Int>) -> Void) {
    let threads = min(Threads.count, max(1, count / max(grain, 1)))
    if threads <= 1 {
        if count > 0 { body(0..<count) }
        return
    }
    let chunk = (count + threads - 1) / threads
    func run(_ t: Int) {
        let start = t * chunk
        let end = min(count, start + chunk)
        if start < end { body(start..<end) }
    }
    WorkerTeam.shared.run(chunks: threads, run)
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
