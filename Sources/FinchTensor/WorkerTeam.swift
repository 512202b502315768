import COpenBLAS
import Dispatch
import Foundation
import Synchronization

/// Finch's one set of worker threads: the caller plus Threads.count − 1 helpers, shared by every
/// parallel kernel and every split matrix product (OpenBLAS itself runs on one thread).
/// A helper spins briefly between jobs instead of sleeping: a training step is hundreds of jobs of
/// 10 µs–50 ms and a decoding step ~200 of 50–600 µs, and waking a sleeping thread for each (as
/// DispatchQueue does) costs more than the second core gains (measured: decoding at 56 tokens/s on
/// two threads that way, 67 on one). After about 200 µs without work a helper sleeps, so it never
/// holds a core for long. With one set of threads nothing oversubscribes the cores: OpenBLAS's own
/// workers used to spin in sched_yield while Finch's kernels ran, taking ~10% of a step.
final class WorkerTeam: @unchecked Sendable {
    static let shared = WorkerTeam()

    /// The job: ticket (high bits) | chunk count | next chunk to claim, swapped as one word so a
    /// helper that wakes late can never claim a chunk of a later job.
    private let state = Atomic<Int>(0)
    private let completed = Atomic<Int>(0)
    private let oneJobAtATime = Mutex(())
    nonisolated(unsafe) private var job: ((Int) -> Void)?
    /// The poster's matrix-product precision, which the helpers take on while running its job.
    nonisolated(unsafe) private var jobPrecision = MatmulPrecision.float32
    nonisolated(unsafe) private var helpers: [Helper] = []
    nonisolated(unsafe) private var ticket = 0

    private static let chunkBits = 18, chunkMask = (1 << chunkBits) - 1
    /// Most chunks one job can have.
    static let maxChunks = chunkMask

    private final class Helper: @unchecked Sendable {
        let sleeping = Atomic<Bool>(false)
        let wake = DispatchSemaphore(value: 0)
    }

    private init() {}

    /// Runs body(0) ... body(chunks − 1): across the team when it is free, else on the caller in order.
    func run(chunks: Int, _ body: (Int) -> Void) {
        if !tryRun(chunks: chunks, body) { for c in 0..<chunks { body(c) } }
    }

    /// Runs body(0) ... body(chunks − 1) across the caller and the helpers, each taking the next
    /// chunk as it finishes one; returns when all are done. Returns false, running nothing, when the
    /// team is busy: a call from inside a job (a kernel nested in a parallel loop) or from another
    /// thread at the same time — the caller then does the work itself.
    func tryRun(chunks: Int, _ body: (Int) -> Void) -> Bool {
        precondition(chunks <= Self.maxChunks, "too many chunks for one job")
        return oneJobAtATime.withLockIfAvailable { _ -> Bool in
            let threads = Threads.count
            if helpers.count < threads - 1 { startHelpers(threads - 1) }
            withoutActuallyEscaping(body) { body in
                job = body
                jobPrecision = MatmulPrecision.current
                completed.store(0, ordering: .relaxed)
                ticket = (ticket + 1) & ((1 << (62 - 2 * Self.chunkBits)) - 1)
                let word = (ticket << (2 * Self.chunkBits)) | (chunks << Self.chunkBits)
                state.store(word, ordering: .sequentiallyConsistent)
                for h in helpers where h.sleeping.load(ordering: .sequentiallyConsistent) { h.wake.signal() }
                work(ticket: ticket)
                while completed.load(ordering: .acquiring) != chunks {}
                job = nil
            }
            return true
        } ?? false
    }

    /// Claims and runs chunks of job `ticket` until none are left (or a later job replaced it).
    private func work(ticket: Int) {
        while true {
            let s = state.load(ordering: .acquiring)
            let chunks = (s >> Self.chunkBits) & Self.chunkMask, next = s & Self.chunkMask
            guard s >> (2 * Self.chunkBits) == ticket, next < chunks else { return }
            guard state.compareExchange(expected: s, desired: s + 1, ordering: .acquiringAndReleasing).exchanged else { continue }
            job?(next)
            completed.add(1, ordering: .releasing)
        }
    }

    private func startHelpers(_ n: Int) {
        while helpers.count < n {
            let h = Helper()
            helpers.append(h)
            let thread = Thread { [unowned self] in self.helperLoop(h) }
            thread.name = "finch-worker-\(helpers.count)"
            thread.start()
        }
    }

    /// How long a helper spins without work before it sleeps. Timed rather than counted: a count
    /// of 50,000 loads was 22 µs here, short enough that helpers slept between a decoding step's
    /// products and each wake-up cost more than the split gained (float32 decoding 8% slower).
    static let spinNanoseconds: UInt64 = 200_000

    private func helperLoop(_ h: Helper) {
        var seen = state.load(ordering: .acquiring) >> (2 * Self.chunkBits)
        while true {
            var spins = 0
            var deadline = DispatchTime.now().uptimeNanoseconds + Self.spinNanoseconds
            var current = state.load(ordering: .acquiring) >> (2 * Self.chunkBits)
            while current == seen {
                finch_spin_pause()
                spins += 1
                if spins & 63 == 0, DispatchTime.now().uptimeNanoseconds > deadline {
                    h.sleeping.store(true, ordering: .sequentiallyConsistent)
                    // Either the poster sees `sleeping` and signals, or this sees the new job.
                    if state.load(ordering: .sequentiallyConsistent) >> (2 * Self.chunkBits) == seen { h.wake.wait() }
                    h.sleeping.store(false, ordering: .relaxed)
                    deadline = DispatchTime.now().uptimeNanoseconds + Self.spinNanoseconds
                }
                current = state.load(ordering: .acquiring) >> (2 * Self.chunkBits)
            }
            seen = current
            MatmulPrecision.setCurrent(jobPrecision)
            work(ticket: current)
            MatmulPrecision.setCurrent(.float32)
        }
    }
}
