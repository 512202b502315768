import FinchLang
import Testing

/// An interpreter's step limit stops endless code with an error, per interpreter and per run.
@Suite struct StepLimitTests {
    @Test func endlessLoopsAndRecursionStopAtTheLimit() throws {
        let interpreter = try Interpreter()
        interpreter.stepLimit = 1000
        for code in ["while true { }", "for i in range(0, 1e300) { }", "fn f(n) { return f(n + 1) + 0 }\nf(0)"] {
            do {
                try interpreter.run(code)
                Issue.record("\(code): finished")
            } catch {
                #expect(String(describing: error).contains("stopped after 1000 loop iterations and calls"), "\(error)")
            }
        }
        // Each run starts with the whole budget, and a short program fits in it.
        try interpreter.run("total = 0\nfor i in range(0, 500) { total += i }")
        #expect(interpreter.global("total").map { "\($0)" } == "124750")
        // Another interpreter has no limit.
        let free = try Interpreter()
        try free.run("n = 0\nwhile n < 5000 { n += 1 }")
        #expect(free.global("n").map { "\($0)" } == "5000")
    }
}
