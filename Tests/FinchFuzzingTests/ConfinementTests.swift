import FinchFuzzing
import Foundation
import Testing

/// Programs under fuzzing write only inside the harness's scratch directory: a save elsewhere is
/// refused before it makes anything, folders included (the sweep once left empty folders named
/// after its arguments in the directory the tests ran from).
@Suite struct ConfinementTests {
    @Test func savesOutsideTheScratchDirectoryLeaveNothing() throws {
        let outside = NSTemporaryDirectory() + "finch-confinement-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: outside) }
        let calls = [
            ("tokenizer", "tok.save(\"\(outside)/tok\")"),
            ("model", "m.save(\"\(outside)/model/m.gguf\")"),
            ("adapter", "m.lora(rank: 2)\nm.save_adapter(\"\(outside)/adapter\")"),
            ("log", "train(m, ds, steps: 1, batch: 2, max_length: 16, log: \"\(outside)/log/run.csv\")"),
            ("checkpoint", "train(m, ds, steps: 1, batch: 2, max_length: 16, save_dir: \"\(outside)/ckpt\", save_every: 1)"),
        ].map { (label: $0.0, code: $0.1) }
        let outcomes = try LangHarness.shared.runEach(setup: NativeSweep.setup, calls: calls) { _ in }
        for (call, outcome) in zip(calls, outcomes) {
            #expect(outcome?.contains("where writing is confined") == true, "\(call.label): \(outcome ?? "no error")")
        }
        #expect(!FileManager.default.fileExists(atPath: outside))
    }
}
