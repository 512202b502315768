import FinchIO
import FinchLang
import FinchLib
import Foundation
import Synchronization

/// Finch programs under fuzzing: each input runs in a fresh interpreter with every binding, its
/// output discarded and the natives that fetch models left out, under a step budget (loop
/// iterations and calls). In the fuzzer's own process a watchdog also presses Ctrl-C when a
/// program runs past its time (long natives check that flag); elsewhere (the tests) it must not,
/// since Ctrl-C belongs to the whole process. Programs run on one long-lived big-stack thread
/// whose file writes are confined to a scratch directory.
public final class LangHarness: @unchecked Sendable {
    public static let shared = LangHarness()

    /// Where programs may write files; the libFuzzer driver sets it to its working directory
    /// before the first input, elsewhere (the tests) it is a fresh temporary directory.
    nonisolated(unsafe) public static var writableDirectory: String?
    /// Whether the watchdog may press Ctrl-C: only the libFuzzer driver, alone in its process, sets it.
    nonisolated(unsafe) public static var pressesCtrlC = false
    /// Loop iterations and calls one program may make.
    static let stepBudget = 200_000

    /// How long one program may run before the watchdog presses Ctrl-C.
    static let budgetNanoseconds: UInt64 = 300_000_000
    public let registry = FinchLibrary.makeRegistry()
    private let deadline = Atomic<UInt64>(0)  // uptime in ns; 0 = disarmed
    private let work = DispatchSemaphore(value: 0), done = DispatchSemaphore(value: 0)
    private let callers = NSLock()
    private var job: (() throws -> Void)?
    private var failure: Error?

    private init() {
        let dir = Self.writableDirectory ?? NSTemporaryDirectory() + "finch-fuzz-lang-\(getpid())"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let root = URL(fileURLWithPath: dir).standardizedFileURL.path
        if Self.pressesCtrlC {
            let watchdog = Thread { [unowned self] in self.watch() }
            watchdog.name = "finch-fuzz-watchdog"
            watchdog.start()
        }
        // Marked as a big-stack thread, so Interpreter.run runs on it directly.
        let runner = Thread { [unowned self] in
            Thread.current.threadDictionary[AtomicFile.confinementKey] = root
            Thread.current.threadDictionary[Interpreter.bigStackThreadKey] = true
            while true {
                self.work.wait()
                do { try self.job?() } catch { self.failure = error }
                self.done.signal()
            }
        }
        runner.name = "finch-interpreter"
        runner.stackSize = 1 << 30
        runner.start()
    }

    private func watch() {
        while true {
            Thread.sleep(forTimeInterval: 0.01)
            let d = deadline.load(ordering: .acquiring)
            if d != 0, DispatchTime.now().uptimeNanoseconds > d { Interrupt.request() }
        }
    }

    /// A fresh interpreter with every binding, its output discarded, under the step budget. The
    /// default model is 100 MB fetched from PyPI: not something to load a thousand times a second;
    /// serve() would leave a real server listening for every program that reaches it, and
    /// launch() would start mpirun and a finch per process.
    private func makeInterpreter() throws -> Interpreter {
        let interpreter = try Interpreter(registry: registry)
        interpreter.output = { _ in }
        for name in ["load_model", "tokenizer", "serve", "launch"] { interpreter.define(name, .nil) }
        interpreter.stepLimit = Self.stepBudget
        return interpreter
    }

    func run(_ data: Data) throws {
        try onRunner { try self.runHere(data) }
    }

    /// Runs `body` on the confined big-stack thread and waits for it; callers on other threads
    /// (tests run in parallel) take turns.
    func onRunner(_ body: @escaping () throws -> Void) throws {
        callers.lock()
        defer { callers.unlock() }
        job = body
        failure = nil
        work.signal()
        done.wait()
        job = nil
        if let failure { throw failure }
    }

    private func runHere(_ data: Data) throws {
        let text = String(decoding: data, as: UTF8.self)
        let interpreter = try makeInterpreter()
        if Self.pressesCtrlC {
            deadline.store(DispatchTime.now().uptimeNanoseconds + Self.budgetNanoseconds, ordering: .releasing)
        }
        defer {
            if Self.pressesCtrlC {
                deadline.store(0, ordering: .releasing)
                Interrupt.reset()
            }
        }
        _ = try? interpreter.run(text, name: "fuzz.finch")
    }
}

extension LangHarness {
    /// Runs `setup` once, then each of `calls` in the same fresh interpreter (an error ends only
    /// that call), on the harness's confined big-stack thread; `before` sees each call first, so a
    /// trap's last words name it. Throws when the setup itself fails.
    /// Returns the error of each call (nil where it gave a value).
    @discardableResult
    public func runEach(setup: String, calls: [(label: String, code: String)], before: @escaping (String) -> Void) throws -> [String?] {
        var outcomes: [String?] = []
        // Made on the runner, like every interpreter of the harness: they share one registry.
        try onRunner {
            let interpreter = try self.makeInterpreter()
            try interpreter.run(setup, name: "setup.finch")
            for (label, code) in calls {
                before(label)
                do {
                    _ = try interpreter.run(code, name: label)
                    outcomes.append(nil)
                } catch {
                    outcomes.append("\(error)")
                }
            }
        }
        return outcomes
    }
}
