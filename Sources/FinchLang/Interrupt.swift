import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Ctrl-C: the signal handler sets a flag; the interpreter checks it at loop
/// back-edges and calls, and long native loops call `Interrupt.check()`.
public enum Interrupt {
    static let flag = Atomic<Bool>(false)
    /// Set with `flag` but left alone by `clear()`: a native that handles Ctrl-C itself (training
    /// returns its run) clears the flag, yet a notebook must still stop after that cell.
    static let seen = Atomic<Bool>(false)

    /// Whether Ctrl-C was pressed since the last `clear()`.
    public static var requested: Bool { flag.load(ordering: .relaxed) }

    /// Whether Ctrl-C was pressed since the last `reset()`, even if something handled it.
    public static var requestedSinceReset: Bool { seen.load(ordering: .relaxed) }

    public static func request() {
        seen.store(true, ordering: .relaxed)
        flag.store(true, ordering: .relaxed)
    }
    public static func clear() { flag.store(false, ordering: .relaxed) }

    /// Forgets every earlier Ctrl-C, handled or not.
    public static func reset() {
        clear()
        seen.store(false, ordering: .relaxed)
    }

    /// Throws (and clears the flag) when Ctrl-C was pressed: call it in long native loops.
    public static func check() throws {
        if flag.load(ordering: .relaxed) {
            clear()
            throw FinchError(.interrupted, "stopped by Ctrl-C")
        }
    }

    /// Routes SIGINT to the flag instead of killing the process.
    public static func installHandler() {
        reset()  // both atomics exist before the handler can run: lazy initialisation is not signal-safe
        signal(SIGINT) { _ in Interrupt.request() }
        // A parent may have started us with SIGINT blocked (a mask is inherited across exec).
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }
}
