import FinchLang
import FinchLib
import Foundation
import Testing

/// m.fuse: the merged model is checked against the unmerged one before anything is written;
/// the written file gives the adapted model's answers, the model keeps its adapters, and a
/// check that fails writes nothing and says what differs.
@Suite struct FuseTests {
    @Test func fuseChecksWritesAndLeavesTheModelAdapted() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("finch-fuse-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (out, interpreter) = try runFinch("""
        tok = tokenizer("smollm2-135m")
        m = model(vocab: 49152, dim: 64, layers: 2, heads: 4, context: 128, tokenizer: tok, seed: 3)
        ds = dataset([{question: "What is Finch?", answer: "A finetuning lab."}, {question: "Who trains?", answer: "You do."}])
        m.lora(rank: 4)
        run = train(m, ds, steps: 6, lr: 0.02, batch: 2)
        adapted = m.generate("What is Finch?", max_tokens: 8, weights: "f32", stream: false)
        r = m.fuse("\(dir)/fused.gguf", modelfile: true)
        print(r.probes, r.max_logit_diff < 1e-3, m.trainable > 0 and m.trainable < 100000)
        fused = load_model("\(dir)/fused.gguf")
        print(fused.generate("What is Finch?", max_tokens: 8, weights: "f32", stream: false) == adapted)
        """)
        #expect(out.contains("checked on 2 probe prompts: the same 16-token greedy continuations, logits within"), "\(out)")
        #expect(out.contains("wrote \(dir)/fused.gguf\nwrote \(dir)/Modelfile\n"), "\(out)")
        #expect(out.contains("2 true true\ntrue\n"), "\(out)")
        do {
            try interpreter.run(#"m.fuse("\#(dir)/never.gguf", tolerance: 1e-30)"#)
            Issue.record("a failed check wrote the model")
        } catch let e as FinchError {
            #expect(e.message.contains("not written: merging the adapters changed the model: the logits differ by up to"), "\(e.message)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/never.gguf"))
        let modelfile = try String(contentsOfFile: dir + "/Modelfile", encoding: .utf8)
        #expect(modelfile.contains("FROM ./fused.gguf\nTEMPLATE \"\"\"{{- if .System }}<|im_start|>system"))
        #expect(modelfile.contains("PARAMETER stop \"<|im_end|>\""))
    }
}
