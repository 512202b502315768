import Foundation

/// Runs work on a thread with a large stack, so deep (but bounded) Finch
/// recursion reaches the interpreter's own "stack overflow at depth N"
/// error instead of overflowing a small thread stack. The caller waits.
enum BigStack {
    static let size = 1 << 30
    static let threadName = "finch-interpreter"

    static func run<T>(_ body: @escaping () throws -> T) throws -> T {
        if Thread.current.name == threadName { return try body() }
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        let work = UncheckedSendable(body)
        let thread = Thread {
            box.result = Result { try work.value() }
            done.signal()
        }
        thread.name = threadName
        thread.stackSize = size
        thread.start()
        done.wait()
        return try box.result!.get()
    }
}

private final class ResultBox<T>: @unchecked Sendable {
    var result: Result<T, Error>?
}

struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
