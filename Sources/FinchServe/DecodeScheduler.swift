import FinchModel
import Foundation
import Synchronization

/// Runs the server's generations on one thread, one token of each active request in turn, so
/// concurrent clients share the CPU fairly and a long answer cannot hold the others back.
final class DecodeScheduler: @unchecked Sendable {
    /// One request's work: `advance` does a step (a token, or a whole scoring pass) and returns
    /// true when the request is answered; `failed` answers it with an error instead.
    final class Job: @unchecked Sendable {
        let served: ServedModel
        let advance: () throws -> Bool
        let failed: (Error) -> Void
        private let cancelled = Atomic<Bool>(false)

        init(_ served: ServedModel, advance: @escaping () throws -> Bool, failed: @escaping (Error) -> Void) {
            self.served = served
            self.advance = advance
            self.failed = failed
        }

        /// The client went away: the job leaves at its next turn and its memory is freed.
        func cancel() { cancelled.store(true, ordering: .relaxed) }
        var isCancelled: Bool { cancelled.load(ordering: .relaxed) }
    }

    /// Requests beyond this many (active and waiting) are refused with 503 rather than queued without end.
    let capacity: Int
    private let condition = NSCondition()
    private var waiting: [Job] = []
    private var active: [Job] = []
    private var running = true
    private var thread: Thread?

    init(capacity: Int = 64) {
        self.capacity = capacity
        let t = Thread { [unowned self] in loop() }
        t.name = "finch-serve-decode"
        t.stackSize = 16 << 20
        thread = t
        t.start()
    }

    /// Requests being worked on or waiting.
    var load: Int { condition.lock(); defer { condition.unlock() }; return waiting.count + active.count }

    func submit(_ job: Job) throws {
        condition.lock()
        defer { condition.unlock() }
        guard running else { throw ServeError(503, "the server is stopping") }
        guard waiting.count + active.count < capacity else {
            throw ServeError(503, "the server has \(capacity) requests in progress; try again shortly")
        }
        waiting.append(job)
        condition.signal()
    }

    /// Stops taking work; requests in progress are cancelled. Returns when the thread has ended.
    func stop() {
        condition.lock()
        running = false
        for job in waiting + active { job.cancel() }
        condition.signal()
        condition.unlock()
        while thread?.isFinished == false { usleep(1000) }
    }

    private func loop() {
        while true {
            condition.lock()
            while running && waiting.isEmpty && active.isEmpty { condition.wait() }
            active += waiting
            waiting.removeAll()
            let turn = active
            let stopping = !running
            condition.unlock()
            var done: Set<ObjectIdentifier> = []
            for job in turn {
                var finishedNow = job.isCancelled || stopping
                if !finishedNow {
                    // One user of a model at a time: the REPL's generate and train take the same lock.
                    job.served.model.inUse.lock()
                    do { finishedNow = try job.advance() } catch {
                        job.failed(error)
                        finishedNow = true
                    }
                    job.served.model.inUse.unlock()
                }
                if finishedNow { done.insert(ObjectIdentifier(job)) }
            }
            condition.lock()
            active.removeAll { done.contains(ObjectIdentifier($0)) }
            let exit = !running && active.isEmpty && waiting.isEmpty
            condition.unlock()
            if exit { return }
        }
    }
}
