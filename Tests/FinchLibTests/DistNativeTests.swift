import FinchLang
import FinchLib
import Foundation
import Testing

/// world(), launch() and read_log() as a script meets them alone (launch's runs themselves are
/// replayed by lesson 07 and tested in FinchDistTests).
@Suite struct DistNativeTests {
    func error(_ code: String) -> String {
        do { _ = try runFinch(code); return "no error" } catch { return String(describing: error) }
    }

    @Test func aloneTheWorldIsOneProcess() throws {
        #expect(try runFinch("print(world())").output == "{\"rank\": 0, \"size\": 1}\n")
    }

    @Test func launchChecksItsArgumentsBeforeStartingAnything() {
        #expect(error("launch(\"/nonexistent/x.finch\")").contains("cannot read /nonexistent/x.finch"))
        #expect(error("launch(\"/dev/null\", processes: 0)").contains("processes must be from 1 to 64, got 0"))
    }

    @Test func readLogReadsWhatTrainWritesAndNamesBadLines() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("finch-readlog-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for ext in ["csv", "jsonl"] {
            let (out, _) = try runFinch("""
            tok = bpe_train(["the cat sat on the mat"] * 10, vocab: 270, special: ["<|end|>"])
            m = model(vocab: tok.vocab_size, dim: 16, layers: 1, heads: 2, context: 32, tokenizer: tok)
            run = train(m, dataset([{"question": "the cat", "answer": "sat"}] * 4), steps: 3, batch: 2, eval: dataset([{"question": "a", "answer": "b"}]), log: "\(dir)/log.\(ext)", print_every: 100)
            t = read_log("\(dir)/log.\(ext)")
            print(t.columns, len(t))
            print(t["loss"] == run.history["loss"], t["val_loss"][0], t["val_loss"][2] == run.history["val_loss"][2])
            """)
            #expect(out.hasSuffix("[\"step\", \"loss\", \"val_loss\", \"lr\", \"grad_norm\", \"tokens_per_s\", \"elapsed\"] 3\ntrue nil true\n"), "\(ext): \(out)")
        }
        try "step,loss\n1,2.5\n2,abc\n".write(toFile: dir + "/bad.csv", atomically: true, encoding: .utf8)
        #expect(error("read_log(\"\(dir)/bad.csv\")").contains("\(dir)/bad.csv:3: \"abc\" is not a number"))
        try "step,loss\n1,2.5,7\n".write(toFile: dir + "/short.csv", atomically: true, encoding: .utf8)
        #expect(error("read_log(\"\(dir)/short.csv\")").contains("short.csv:2: 3 values, the header names 2"))
        try "{\"step\": 1}\nnot json\n".write(toFile: dir + "/bad.jsonl", atomically: true, encoding: .utf8)
        #expect(error("read_log(\"\(dir)/bad.jsonl\")").contains("bad.jsonl:2: not a JSON object"))
        #expect(error("read_log(\"\(dir)/x.txt\")").contains("cannot read"))
    }
}
