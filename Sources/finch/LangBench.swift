import FinchIO
import FinchLang
import FinchLib
import Foundation

/// lang: the interpreter against CPython on the same two programs (recursive
/// fib(30), a loop summing 10 million integers), interleaved five times each,
/// medians compared; and the time to start finch, evaluate 1+1 and exit.
enum LangBench {
    static let finchSetup = "fn fib(n) { if n < 2 { return n }\n return fib(n - 1) + fib(n - 2) }"
    static let finchFib = "fib(30)"
    static let finchLoop = "s = 0\nfor i in range(10000000) { s += i }\ns"
    static let python = """
    import sys, time
    def fib(n):
        if n < 2: return n
        return fib(n - 1) + fib(n - 2)
    t = time.perf_counter(); fib(30); fib_s = time.perf_counter() - t
    t = time.perf_counter()
    s = 0
    for i in range(10000000): s += i
    loop_s = time.perf_counter() - t
    print(fib_s, loop_s)
    """

    /// The rounds are fixed (five of each side, as the issue asks), so --seconds does not apply.
    static func run(_ out: BenchReporter, _ options: BenchOptions) throws {
        let interpreter = try FinchLibrary.makeInterpreter()
        try interpreter.run(finchSetup)
        let python = pythonPath()
        var fib: [Double] = [], loop: [Double] = [], pyFib: [Double] = [], pyLoop: [Double] = []
        for _ in 0..<5 {
            fib.append(try time { try interpreter.run(finchFib) })
            loop.append(try time { try interpreter.run(finchLoop) })
            if let python, let (f, l) = runPython(python) {
                pyFib.append(f)
                pyLoop.append(l)
            }
        }
        var startup: [Double] = []
        let finch = CommandLine.arguments[0]
        for _ in 0..<10 { startup.append(try time { try Spawn.run(finch, ["run", "-e", "1+1"], quiet: true) }) }

        let fibS = BenchTiming.median(fib), loopS = BenchTiming.median(loop)
        out.report("lang.fib30_s", fibS, digits: 3)
        out.report("lang.loop10m_s", loopS, digits: 3)
        out.report("lang.startup_ms", BenchTiming.median(startup) * 1000, digits: 1)
        guard !pyFib.isEmpty else {
            print("lang.python: not found (no python3 on PATH)")
            return
        }
        let pf = BenchTiming.median(pyFib), pl = BenchTiming.median(pyLoop)
        out.report("lang.fib30_python_s", pf, digits: 3)
        out.report("lang.loop10m_python_s", pl, digits: 3)
        out.report("lang.ratio_vs_python", max(fibS / pf, loopS / pl), digits: 3)
    }

    static func time(_ body: () throws -> Void) rethrows -> Double {
        let start = BenchTiming.now()
        try body()
        return BenchTiming.now() - start
    }

    static func pythonPath() -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let p = "\(dir)/python3"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    static func runPython(_ python: String) -> (Double, Double)? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = ["-c", LangBench.python]
        let pipe = Pipe()
        p.standardOutput = pipe
        guard (try? p.run()) != nil else { return nil }
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        let parts = text.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        return parts.count == 2 ? (parts[0], parts[1]) : nil
    }
}
