import FinchModel
import Foundation
import FinchTensor
import Testing

/// LoRA adapters: a fresh adapter changes nothing, merging keeps the logits, only A and B train.
@Suite struct LoRATests {
    static func model() throws -> LanguageModel {
        try LanguageModel.random(ModelConfig(vocab: 50, dim: 32, layers: 2, heads: 4, kvHeads: 2, ffn: 64, context: 32), seed: 8)
    }
    static var ids: Tensor { try! Tensor([3, 14, 15, 9, 26, 5, 35], shape: [1, 7]) }

    @Test func mergedAndUnmergedLogitsAgree() throws {
        let m = try Self.model()
        let before = try GradMode.noGrad { try m.forward(Self.ids).scalars }
        try m.addLoRA(rank: 4, alpha: 8, targets: ["q", "v", "down"], seed: 1)
        #expect(try GradMode.noGrad { try m.forward(Self.ids).scalars } == before, "B starts at zero: nothing changes")
        // q: 4·(32+32), v: 4·(32+16), down: 4·(64+32) per layer, two layers.
        #expect(m.trainableCount == 2 * (4 * 64 + 4 * 48 + 4 * 96))
        #expect(m.loraParameters.map(\.name).first == "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight")
        var rng = RNG(seed: 2)
        for p in m.loraParameters where p.name.contains("lora_B") { try p.tensor.assign(Tensor.normal(p.tensor.shape, std: 0.5, rng: &rng)) }
        let adapted = try GradMode.noGrad { try m.forward(Self.ids).scalars }
        #expect(zip(adapted, before).map { abs($0 - $1) }.max()! > 1e-3, "a trained adapter changes the logits")
        try m.mergeLoRA()
        #expect(m.loraParameters.isEmpty)
        let merged = try GradMode.noGrad { try m.forward(Self.ids).scalars }
        #expect(zip(adapted, merged).map { abs($0 - $1) }.max()! < 1e-4)
    }

    @Test func onlyTheAdaptersGetGradients() throws {
        let m = try Self.model()
        try m.addLoRA(rank: 2, targets: ["q", "v"])
        #expect(m.parameters.allSatisfy { !$0.tensor.requiresGrad }, "the base model is frozen")
        let (loss, _) = try m.loss(ids: Self.ids, labels: Self.ids)
        try loss.backward()
        #expect(m.parameters.allSatisfy { $0.tensor.grad == nil })
        #expect(m.loraParameters.allSatisfy { $0.tensor.grad != nil })
        #expect(throws: ModelError.self) { try m.addLoRA(targets: ["attention"]) }
    }
}

/// Adapters saved in PEFT's layout and read back onto a fresh copy of the base model.
@Suite struct AdapterFileTests {
    @Test func saveAndLoadKeepTheAdaptedLogits() throws {
        let m = try LoRATests.model()
        try m.addLoRA(rank: 4, alpha: 8, targets: ["q", "v"], seed: 3)
        var rng = RNG(seed: 4)
        for p in m.loraParameters where p.name.contains("lora_B") { try p.tensor.assign(Tensor.normal(p.tensor.shape, std: 0.5, rng: &rng)) }
        let adapted = try GradMode.noGrad { try m.forward(LoRATests.ids).scalars }
        let dir = try ModelFilesTests.tempDir("adapter")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try m.saveAdapter(directory: dir)
        let config = try String(contentsOfFile: dir + "/adapter_config.json", encoding: .utf8)
        #expect(config.contains("\"peft_type\" : \"LORA\"") && config.contains("\"q_proj\"") && config.contains("\"v_proj\""))
        let fresh = try LoRATests.model()
        try fresh.loadAdapter(directory: dir)
        #expect(try GradMode.noGrad { try fresh.forward(LoRATests.ids).scalars } == adapted)
        #expect(throws: ModelError.self) { try LoRATests.model().saveAdapter(directory: dir + "/none") }
        #expect(throws: ModelError.self) { try fresh.loadAdapter(directory: dir + "/missing") }
    }
}

/// GGUF adapter files that are not this model's adapters are refused, naming the file and the reason,
/// and the model keeps the adapters it had (a PEFT folder's failure too).
@Suite struct GGUFAdapterErrorTests {
    func expectRefusal(_ path: String, _ reason: String, onto m: LanguageModel) {
        let before = m.loraParameters.map { $0.tensor.scalars }
        do {
            try m.loadAdapter(path: path)
            Issue.record("\(path) loaded")
        } catch {
            #expect("\(error)".contains(path) && "\(error)".contains(reason), "\(error)")
        }
        #expect(m.loraParameters.map { $0.tensor.scalars } == before, "the adapters it had are kept")
    }

    @Test func wrongFilesAreRefused() throws {
        let dir = try ModelFilesTests.tempDir("gguf-adapter")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let m = try LoRATests.model()
        try m.addLoRA(rank: 4, alpha: 8, targets: ["q", "v"], seed: 3)
        try m.saveAdapter(path: dir + "/a.gguf")
        try m.saveGGUF(path: dir + "/whole.gguf")
        let onto = try LoRATests.model()
        try onto.addLoRA(rank: 2, targets: ["o"], seed: 9)

        expectRefusal(dir + "/whole.gguf", "not a GGUF adapter", onto: onto)
        // Another family's adapter, and one whose rank differs between projections.
        let file = try GGUFFile(path: dir + "/a.gguf")
        func rewrite(_ name: String, metadata: (inout [(String, GGUFValue)]) -> Void = { _ in }, tensors: (inout [GGUFWriter.Entry]) throws -> Void = { _ in }) throws -> String {
            var meta = file.keys.map { ($0, file.metadata[$0]!) }
            metadata(&meta)
            var entries = try file.tensors.map { GGUFWriter.Entry(name: $0.name, tensor: try file.tensor($0), type: .f32) }
            try tensors(&entries)
            try GGUFWriter.write(path: dir + "/" + name, metadata: meta, tensors: entries)
            return dir + "/" + name
        }
        expectRefusal(try rewrite("qwen.gguf", metadata: { $0 = $0.map { $0.0 == "general.architecture" ? ($0.0, .string("qwen2")) : $0 } }),
                      "for qwen2 models", onto: onto)
        expectRefusal(try rewrite("half.gguf", tensors: { $0.removeLast() }), "has a lora_a but no lora_b", onto: onto)
        expectRefusal(try rewrite("shape.gguf", tensors: { $0[0] = GGUFWriter.Entry(name: $0[0].name, tensor: try Tensor.zeros([4, 31]), type: .f32) }),
                      "this model needs [r, 32]", onto: onto)
        expectRefusal(try rewrite("stray.gguf", tensors: { $0.append(GGUFWriter.Entry(name: "blk.0.attn_q.weight", tensor: try Tensor.zeros([32, 32]), type: .f32)) }),
                      "neither a .lora_a nor a .lora_b", onto: onto)

        // A PEFT folder whose weights are missing: the adapters it had are kept too.
        try m.saveAdapter(path: dir + "/peft")
        try FileManager.default.removeItem(atPath: dir + "/peft/adapter_model.safetensors")
        expectRefusal(dir + "/peft", "adapter_model.safetensors", onto: onto)

        // The good file still loads, and gives what the adapter gave.
        try onto.loadAdapter(path: dir + "/a.gguf")
        #expect(onto.loraParameters.map(\.name) == m.loraParameters.map(\.name))
    }
}
