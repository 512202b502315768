import FinchModel
import Foundation
import Synchronization

/// Runs the server's generations on one thread, one token of each active request in turn, so
/// concurrent clients share the CPU fairly and a long answer cannot hold the others back. The
/// turn's forward passes then run together, one batch per model (TokenStream.forward): the
/// weights are read once for all the requests decoding on them.
final class DecodeScheduler: @unchecked Sendable {
    /// One request's work: `advance` does a step (a token, or a whole scoring pass) and returns
    /// true when the request is answered; `failed` answers it with an error instead; `generation`
    /// is its token stream, whose deferred forward pass the scheduler batches.
    final class Job: @unchecked Sendable {
        let served: ServedModel
        let advance: () throws -> Bool
        let generation: () -> TokenStream?
        let failed: (Error) -> Void
        private let cancelled = Atomic<Bool>(false)

        init(_ served: ServedModel, advance: @escaping () throws -> Bool, generation: @escaping () -> TokenStream? = { nil },
             failed: @escaping (Error) -> Void) {
            self.served = served
            self.advance = advance
            self.generation = generation
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

    private let largest = Atomic<Int>(0)
    /// The most requests one forward pass has decoded together.
    var largestBatch: Int { largest.load(ordering: .relaxed) }

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

    /// The forward passes the turn's tokens left deferred, one batch per model (TokenStream.forward
    /// takes one model's streams), under the model's lock.
    private func forwardTogether(_ jobs: [Job], done: inout Set<ObjectIdentifier>) {
        var byModel: [ObjectIdentifier: [Job]] = [:]
        for job in jobs { byModel[ObjectIdentifier(job.served.model), default: []].append(job) }
        for group in byModel.values {
            let model = group[0].served.model
            model.inUse.lock()
            defer { model.inUse.unlock() }
            do {
                let rows = try TokenStream.forward(group.compactMap { $0.generation() })
                if rows > largest.load(ordering: .relaxed) { largest.store(rows, ordering: .relaxed) }
            } catch {
                for job in group {
                    job.failed(error)
                    done.insert(ObjectIdentifier(job))
                }
            }
        }
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
            forwardTogether(turn.filter { !done.contains(ObjectIdentifier($0)) }, done: &done)
            condition.lock()
            active.removeAll { done.contains(ObjectIdentifier($0)) }
            let exit = !running && active.isEmpty && waiting.isEmpty
            condition.unlock()
            if exit { return }
        }
    }
}
