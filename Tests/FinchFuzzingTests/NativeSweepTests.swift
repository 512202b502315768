import FinchFuzzing
import Foundation
import Testing

/// Every native and method with each numeric parameter at ±inf, NaN, ±1e19, 2^53, 0 and -1:
/// each call ends in a value or an error. A trap would end this test process; the label of the
/// call in flight is written to standard error first, so the run's last line names it.
@Suite struct NativeSweepTests {
    @Test func everyNativeSurvivesNumbersNoCallerShouldPass() throws {
        let harness = LangHarness.shared
        let calls = NativeSweep.calls(harness.registry)
        defer { try? FileManager.default.removeItem(atPath: NativeSweep.scratch) }
        #expect(calls.count > 300, "only \(calls.count) calls: has the registry lost its numeric parameters?")
        var last = Date(), previous = ""
        let outcomes = try harness.runEach(setup: NativeSweep.setup, calls: calls) { label in
            let seconds = Date().timeIntervalSince(last)
            if seconds > 0.5 { FileHandle.standardError.write(Data("native sweep: slow (\(seconds) s): \(previous)\n".utf8)) }
            FileHandle.standardError.write(Data("native sweep: \(label)\n".utf8))
            last = Date()
            previous = label
        }
        #expect(outcomes.count == calls.count)
        // The sweep means something only if the calls reach the natives' bodies: most must get past
        // argument binding (an error naming the value is fine; "must be a Tensor" is not the point).
        let bound = outcomes.filter { $0.map { !$0.contains("argument '") && !$0.contains("is missing argument") } ?? true }
        #expect(bound.count * 10 >= calls.count * 8, "only \(bound.count) of \(calls.count) calls got past binding")
        for (call, outcome) in zip(calls, outcomes) {
            FileHandle.standardError.write(Data("native sweep: \(call.code) → \(outcome ?? "ok")\n".utf8))
        }
    }
}
