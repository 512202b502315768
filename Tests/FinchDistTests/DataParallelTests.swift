import FinchIO
import Foundation
import Testing

/// `finch run --np N` through Open MPI on this machine: N processes with batch B train exactly
/// as one process with batch N × B; checkpoints move between process counts; a lost rank, ranks
/// that disagree, and Ctrl-C each end the run the way docs/scale.md says.
@Suite(.serialized) struct DataParallelTests {
    typealias H = DistHarness

    /// 2 × batch 4 against 1 × batch 8, 20 steps: every loss and every trained weight within 1e-5.
    @Test(arguments: [false, true]) func twoProcessesTrainAsOneWithTheSameGlobalBatch(lora: Bool) throws {
        let dir = try H.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let one = try H.run(H.script(lora: lora, batch: 8, steps: 20, out: dir + "/one"), in: dir, name: "one.finch")
        #expect(one.status == 0, "\(one.text)")
        let two = try H.run(H.script(lora: lora, batch: 4, steps: 20, out: dir + "/two"), in: dir, np: 2, name: "two.finch")
        #expect(two.status == 0, "\(two.text)")
        #expect(two.text.contains("20 steps of 8 examples (4 on each of 2 processes)"), "\(two.text)")
        // Rank 0 alone prints: one header, one closing line.
        #expect(two.text.components(separatedBy: "training ").count == 2 && two.text.components(separatedBy: "world 2 loss").count == 2, "\(two.text)")
        let a = try H.checkpoint(dir + "/one/ckpt/checkpoint-20"), b = try H.checkpoint(dir + "/two/ckpt/checkpoint-20")
        #expect(a.losses.count == 20 && a.losses.last! < a.losses.first! - 0.1, "the run learns: \(a.losses)")
        let d = H.difference(a, b)
        #expect(d.loss <= 1e-5 && d.weight <= 1e-5, "losses differ by \(d.loss), weights by \(d.weight)")
        // The log is written by rank 0 alone, whole.
        let log = try String(contentsOfFile: dir + "/two/log.csv", encoding: .utf8)
        #expect(log.split(separator: "\n").count == 21, "\(log)")
    }

    /// A checkpoint of 2 ranks resumes in 1 process, and one of 1 process in 2 ranks: the same
    /// data order and the same following losses as the run that was never interrupted.
    @Test func checkpointsMoveBetweenProcessCounts() throws {
        let dir = try H.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let whole = try H.run(H.script(lora: false, batch: 8, steps: 20, out: dir + "/whole"), in: dir, name: "whole.finch")
        #expect(whole.status == 0, "\(whole.text)")
        let reference = try H.checkpoint(dir + "/whole/ckpt/checkpoint-20")

        for (first, then) in [(2, 1), (1, 2)] {
            let out = dir + "/\(first)-\(then)"
            let batch = { (np: Int) in 8 / np }
            let a = try H.run(H.script(lora: false, batch: batch(first), steps: 10, out: out), in: dir, np: first == 1 ? nil : first, name: "a.finch")
            #expect(a.status == 0, "\(a.text)")
            let b = try H.run(H.script(lora: false, batch: batch(then), steps: 20, out: out, train: ", resume: \"\(out)/ckpt\""), in: dir,
                              np: then == 1 ? nil : then, name: "b.finch")
            #expect(b.status == 0 && b.text.contains("resuming after step 10"), "\(b.text)")
            let d = H.difference(reference, try H.checkpoint(out + "/ckpt/checkpoint-20"))
            #expect(d.loss <= 1e-5 && d.weight <= 1e-5, "\(first) then \(then) processes: losses differ by \(d.loss), weights by \(d.weight)")
        }
    }

    /// evaluate, multiple_choice and perplexity share their examples among ranks and give every
    /// rank the whole result: the same as one process's, row for row.
    @Test func evaluationsSplitAndGatherTheSameResults() throws {
        let dir = try H.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let script = """
        rows = []
        for i in range(13) { rows.push({"question": "what comes after ${i}?", "answer": "${i + 1}"}) }
        tok = bpe_train(rows.map(fn(r) { r["question"] + " " + r["answer"] }), vocab: 280, special: ["<|end|>"])
        m = model(vocab: tok.vocab_size, dim: 32, layers: 2, heads: 4, context: 64, tokenizer: tok, seed: 3)
        data = dataset(rows)
        ev = evaluate(m, data, max_tokens: 3, metric: "token_f1")
        mc = []
        for i in range(7) { mc.push({"question": "after ${i}?", "choices": {"text": ["${i + 1}", "${i + 2}", "x"], "label": ["A", "B", "C"]}, "answerKey": "A"}) }
        choice = multiple_choice(m, dataset(mc))
        p = perplexity(m, data)
        print("world:", world()["size"])
        print("evaluate:", ev.summary)
        print("rows:", ev.results.to_list().map(fn(r) { r["predicted"] }))
        print("mc:", choice.summary)
        print("mc_rows:", choice.results.to_list().map(fn(r) { r["predicted"] }))
        print("tokens:", p["tokens"])
        print("ppl:", p["loss"])
        """
        let one = try H.run(script, in: dir, name: "eval.finch")
        let two = try H.run(script, in: dir, np: 2, name: "eval.finch")
        #expect(one.status == 0 && two.status == 0, "\(one.text)\n\(two.text)")
        func result(_ text: String) -> [String: String] {
            var out: [String: String] = [:]
            for line in text.split(separator: "\n") {
                guard let colon = line.firstIndex(of: ":") else { continue }
                out[String(line[..<colon])] = String(line[line.index(after: colon)...])
            }
            return out
        }
        let a = result(one.text), b = result(two.text)
        #expect(a["world"] == " 1" && b["world"] == " 2", "\(one.text)\n\(two.text)")
        for key in ["evaluate", "rows", "mc", "mc_rows", "tokens"] {
            #expect(a[key] != nil && a[key] == b[key], "\(key): \(a[key] ?? "none") against \(b[key] ?? "none")")
        }
        #expect(a["evaluate"]?.contains("over 13 examples") == true && a["mc"]?.contains("over 7 questions") == true, "\(one.text)")
        let pa = try #require(a["ppl"].flatMap { Double($0.trimmingCharacters(in: .whitespaces)) }), pb = try #require(b["ppl"].flatMap { Double($0.trimmingCharacters(in: .whitespaces)) })
        #expect(abs(pa - pb) <= 1e-6 * pa, "perplexity loss \(pa) against \(pb)")
    }
}

/// A notebook replayed as two processes: rank 0's outputs are the ones written back.
@Suite struct NotebookUnderMPITests {
    @Test func onlyRankZeroWritesTheNotebook() throws {
        let dir = try DistHarness.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/nb.md"
        try "# A notebook\n\n```finch\nprint(\"size\", world()[\"size\"], \"rank\", world()[\"rank\"])\n```\n".write(toFile: path, atomically: true, encoding: .utf8)
        let r = try Spawn.output(DistHarness.finch, ["run", "--np", "2", "--write", path])
        #expect(r.status == 0, "\(r.text)")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("<!-- output -->\n```\nsize 2 rank 0\n```"), "\(text)")
        #expect(r.text.components(separatedBy: "wrote \(path)").count == 2, "written once: \(r.text)")
    }
}
