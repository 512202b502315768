import Foundation

/// Runs work on a thread with a large stack, so deep (but bounded) Finch
/// recursion reaches the interpreter's own "stack overflow at depth N"
/// error instead of overflowing a small thread stack. The caller waits.
enum BigStack {
    static let size = 1 << 30
    static let threadName = "finch-interpreter"

    static func run<T>(_ body: @escaping () throws -> T) throws -> T {
        // Marked in the thread's dictionary: Linux cuts thread names to 15 bytes, so the name cannot tell.
        if Thread.current.threadDictionary[Interpreter.bigStackThreadKey] != nil { return try body() }
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        let work = UncheckedSendable(body)
        // Settings scoped to the calling thread (where files may be written) follow the code.
        let inherited = UncheckedSendable(Thread.current.threadDictionary.copy() as! NSDictionary)
        let thread = Thread {
            for case let (k as String, v) in inherited.value { Thread.current.threadDictionary[k] = v }
            Thread.current.threadDictionary[Interpreter.bigStackThreadKey] = true
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

extension Interpreter {
    /// Marks a thread (in its `threadDictionary`) whose stack is big enough to run Finch code on
    /// directly: set it on a thread of at least 1 GB of stack to keep `run` from starting another.
    public static let bigStackThreadKey = "finch.big-stack"
}

private final class ResultBox<T>: @unchecked Sendable {
    var result: Result<T, Error>?
}

struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
