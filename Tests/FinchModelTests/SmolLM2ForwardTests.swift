import FinchModel
import FinchTensor
import Foundation
import Testing

/// SmolLM2-135M-Instruct's logits and greedy continuations against the numpy reference
/// (scripts/reference/model_reference.py), which runs llama.cpp's rotary-pairs layout on the
/// GGUF as stored, so agreement also checks Finch's conversion to the halves layout.
@Suite struct SmolLM2ForwardTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    nonisolated(unsafe) static let model: Result<LanguageModel, Error> = Result { try LanguageModel(gguf: ModelStore.resolve("smollm2-135m")) }

    struct Prompt { let text: String; let ids: [Int]; let greedy: [Int]; let logits: [Float] }

    static func prompts() throws -> [Prompt] {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: fixtures.appendingPathComponent("smollm2_forward.json"))) as! [String: Any]
        let raw = try Data(contentsOf: fixtures.appendingPathComponent("smollm2_logits.f32"))
        let all = raw.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        let entries = json["prompts"] as! [[String: Any]]
        let vocab = all.count / entries.count
        return entries.enumerated().map { i, e in
            Prompt(text: e["text"] as! String, ids: (e["ids"] as! [NSNumber]).map(\.intValue),
                   greedy: (e["greedy"] as! [NSNumber]).map(\.intValue), logits: Array(all[i * vocab ..< (i + 1) * vocab]))
        }
    }

    @Test func configurationFromTheFile() throws {
        let m = try Self.model.get()
        let c = m.config
        #expect(c.architecture == "llama" && c.layers == 30 && c.dim == 576 && c.heads == 9 && c.kvHeads == 3 && c.ffn == 1536)
        #expect(c.vocab == 49152 && c.tiedEmbeddings && c.ropeTheta == 100000 && c.context == 8192)
        #expect(m.parameterCount == 134_515_008)
        #expect(m.parameterCount == c.parameterCount)
    }

    @Test func logitsMatchTheReference() throws {
        let m = try Self.model.get(), tok = try #require(m.tokenizer)
        for p in try Self.prompts() {
            #expect(tok.encode(p.text, addSpecial: false) == p.ids, "token ids of \(p.text.debugDescription)")
            let logits = try GradMode.noGrad { try m.forward(Tensor(p.ids.map(Float.init), shape: [1, p.ids.count])) }
            let last = try logits.select(axis: 1, p.ids.count - 1).scalars
            let diff = zip(last, p.logits).map { abs($0 - $1) }.max()!
            #expect(diff < 1e-3, "max |logit difference| \(diff) for \(p.text.debugDescription)")
        }
    }
}
