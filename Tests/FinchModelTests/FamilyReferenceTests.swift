@testable import FinchModel
import FinchTensor
import Foundation
import Testing

/// Every family against transformers: tiny random models made by
/// scripts/reference/make_family_fixtures.py (Fixtures/families/NAME), loaded from their Hugging
/// Face folders; logits on several prompts, greedy continuations through the KV cache, PEFT
/// adapters, and both file formats written and read back.
@Suite struct FamilyReferenceTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/families").path
    static let families = Architectures.names

    struct Reference: Decodable {
        let prompts: [[Int]]
        let greedy: [[Int]]
        let lora_targets: [String]
    }

    static func reference(_ family: String) throws -> Reference {
        try JSONDecoder().decode(Reference.self, from: Data(contentsOf: URL(fileURLWithPath: "\(root)/\(family)/reference.json")))
    }

    static func floats(_ path: String) throws -> [Float] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    static func logits(_ m: LanguageModel, _ ids: [Int]) throws -> [Float] {
        try GradMode.noGrad { try m.forward(Tensor(ids.map(Float.init), shape: [1, ids.count])).scalars }
    }

    static func maxDiff(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count, "\(a.count) vs \(b.count) values")
        return zip(a, b).map { abs($0 - $1) }.max() ?? 0
    }

    @Test(arguments: families)
    func logitsAndGreedyMatchTransformers(_ family: String) throws {
        let m = try LanguageModel.load("\(Self.root)/\(family)")
        #expect(m.config.architecture == family)
        let ref = try Self.reference(family)
        let expected = try Self.floats("\(Self.root)/\(family)/logits.f32")
        var offset = 0
        for prompt in ref.prompts {
            let ours = try Self.logits(m, prompt)
            let theirs = Array(expected[offset..<offset + ours.count])
            offset += ours.count
            #expect(Self.maxDiff(ours, theirs) < 1e-4, "\(family), \(prompt.count) tokens")
        }
        #expect(offset == expected.count, "every reference logit compared")
        // No end-of-text stop: the reference continues for the full count.
        m.tokenizer = nil
        var options = GenerationOptions()
        options.maxTokens = 8
        options.decodeWeights = .f32
        for (prompt, greedy) in zip(ref.prompts, ref.greedy) {
            #expect(try m.generate(ids: prompt, options: options).ids == greedy, "\(family): greedy continuation of \(prompt.count) tokens")
        }
    }

    @Test(arguments: families)
    func cachedDecodingMatchesTheFullPass(_ family: String) throws {
        let m = try LanguageModel.load("\(Self.root)/\(family)")
        let ids = try Self.reference(family).prompts[2]
        let full = try Self.logits(m, ids)
        let cache = KVCache()
        var stepped: [Float] = []
        try GradMode.noGrad {
            // A prompt of 5, then one token at a time: positions past the sliding window included.
            stepped += try m.forward(Tensor(ids[..<5].map(Float.init), shape: [1, 5]), cache: cache).scalars
            for id in ids[5...] { stepped += try m.forward(Tensor([Float(id)], shape: [1, 1]), cache: cache).scalars }
        }
        // A step multiplies one row by gemv, the full pass all rows by gemm: the sums round
        // differently, by a few units in the last place of logits up to 7 in size (Haswell's kernels:
        // 2.7e-5 on gemma3_text, under 5e-6 on the others). A cache that misplaces a position is off by tenths.
        #expect(Self.maxDiff(full, stepped) < 5e-5)
    }

    /// Several sequences decoded in one pass, each at its own position (GPT-2's learned positions,
    /// Gemma's local rotary tables, sliding windows) with its own cache, as each alone.
    @Test(arguments: families)
    func batchedDecodingMatchesEachSequenceAlone(_ family: String) throws {
        let m = try LanguageModel.load("\(Self.root)/\(family)")
        let prompts = try Self.reference(family).prompts
        try GradMode.noGrad {
            let alone = try m.prefilledCaches(prompts), together = try m.prefilledCaches(prompts)
            var next = prompts.map { $0[0] }
            for step in 0..<3 {
                let rows = try m.decode(next, caches: together, quantized: .q8_0)
                for (i, (id, cache)) in zip(next, alone).enumerated() {
                    let each = try m.forward(Tensor([Float(id)], shape: [1, 1]), cache: cache, quantized: .q8_0)
                    // Rows of fixtures too narrow for Q8_0 go through float32 GEMM, which may round a batch differently.
                    #expect(Self.maxDiff(try rows.slice(axis: 0, start: i, end: i + 1).scalars, each.scalars) < 1e-5, "\(family): step \(step), sequence \(i)")
                }
                next = next.map { ($0 + 1) % m.config.vocab }
            }
        }
    }

    @Test(arguments: families)
    func peftAdaptersLoadAndSaveAsPEFTWritesThem(_ family: String) throws {
        let dir = "\(Self.root)/\(family)"
        let m = try LanguageModel.load(dir)
        let ref = try Self.reference(family)
        try m.loadAdapter(directory: dir + "/adapter")
        let adapted = try Self.logits(m, ref.prompts[0])
        #expect(Self.maxDiff(adapted, try Self.floats(dir + "/adapter_logits.f32")) < 1e-4, "\(family): PEFT's logits with the adapter")

        let out = FileManager.default.temporaryDirectory.appendingPathComponent("finch-family-adapter-\(family)-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        try m.saveAdapter(directory: out)
        let theirs = try SafetensorsFile(path: dir + "/adapter/adapter_model.safetensors")
        let ours = try SafetensorsFile(path: out + "/adapter_model.safetensors")
        #expect(Set(ours.entries.map(\.name)) == Set(theirs.entries.map(\.name)), "the tensor names PEFT writes")
        for e in theirs.entries { #expect(ours.entries.first { $0.name == e.name }?.shape == e.shape, "\(e.name)") }
        func config(_ path: String) throws -> [String: Any] {
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path + "/adapter_config.json"))) as! [String: Any]
        }
        let (a, b) = (try config(out), try config(dir + "/adapter"))
        #expect(Set(a["target_modules"] as! [String]) == Set(ref.lora_targets))
        #expect(a["fan_in_fan_out"] as? Bool == b["fan_in_fan_out"] as? Bool)
        let reloaded = try LanguageModel.load(dir)
        try reloaded.loadAdapter(directory: out)
        #expect(Self.maxDiff(try Self.logits(reloaded, ref.prompts[0]), adapted) == 0)
    }

    /// PEFT's adapter written as a GGUF adapter: in llama.cpp's terms (it adds s·B(Ax) to the
    /// base file's W x, in the file's own row order) the adapter file and the base GGUF give the
    /// merged weights; and Finch reads both files back to the adapted logits.
    @Test(arguments: families)
    func ggufAdaptersAreWhatLlamaCppAdds(_ family: String) throws {
        let dir = "\(Self.root)/\(family)", ids = try Self.reference(family).prompts[0]
        let m = try LanguageModel.load(dir)
        try m.loadAdapter(directory: dir + "/adapter")
        let adapted = try Self.logits(m, ids)
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("finch-gguf-adapter-\(family)-\(UUID())").path
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: out) }
        try m.saveAdapter(path: out + "/a.gguf")
        try m.saveGGUF(path: out + "/base.gguf")
        try m.withAdaptersMerged { try m.saveGGUF(path: out + "/merged.gguf") }

        let adapter = try GGUFFile(path: out + "/a.gguf"), base = try GGUFFile(path: out + "/base.gguf")
        let merged = try GGUFFile(path: out + "/merged.gguf")
        #expect(adapter.metadata["general.type"]?.string == "adapter" && adapter.metadata["adapter.type"]?.string == "lora")
        #expect(adapter.metadata["general.architecture"] == base.metadata["general.architecture"])
        let alpha = Float(adapter.metadata["adapter.lora.alpha"]!.double!)
        var checked = 0
        for info in adapter.tensors where info.name.hasSuffix(".lora_a") {
            let weight = String(info.name.dropLast(7))
            let a = try adapter.tensor(info), b = try adapter.tensor(named: weight + ".lora_b")
            let update = try b.matmul(a).multiplying(.scalar(alpha / Float(a.shape[0])))
            let expected = try base.tensor(named: weight).adding(update)
            #expect(Self.maxDiff(expected.scalars, try merged.tensor(named: weight).scalars) < 1e-6, "\(family): \(weight)")
            checked += 1
        }
        #expect(checked > 0 && checked * 2 == adapter.tensors.count)

        let reloaded = try LanguageModel.load(out + "/base.gguf")
        try reloaded.loadAdapter(path: out + "/a.gguf")
        #expect(reloaded.loraParameters.count == m.loraParameters.count)
        #expect(Self.maxDiff(try Self.logits(reloaded, ids), adapted) < 1e-5, "\(family): base and adapter from GGUF")
    }

    /// GPT-2's "c_proj" is the last part of both the attention's and the MLP's output: an adapter
    /// on one of them is written by its path, which PEFT matches as a suffix (checked by hand in PEFT).
    @Test func anAmbiguousModuleNameIsWrittenByItsPath() throws {
        let dir = "\(Self.root)/gpt2", ids = try Self.reference("gpt2").prompts[0]
        let m = try LanguageModel.load(dir)
        try m.addLoRA(rank: 2, alpha: 4, targets: ["o"])
        var rng = RNG(seed: 3)
        for p in m.loraParameters { try p.tensor.assign(Tensor.normal(p.tensor.shape, std: 0.3, rng: &rng)) }
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("finch-gpt2-o-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        try m.saveAdapter(directory: out)
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/adapter_config.json"))) as! [String: Any]
        #expect(config["target_modules"] as? [String] == ["attn.c_proj"])
        let reloaded = try LanguageModel.load(dir)
        try reloaded.loadAdapter(directory: out)
        #expect(reloaded.loraParameters.count == m.loraParameters.count)
        #expect(Self.maxDiff(try Self.logits(reloaded, ids), try Self.logits(m, ids)) == 0)
    }

    @Test(arguments: families)
    func bothFileFormatsRoundTrip(_ family: String) throws {
        let m = try LanguageModel.load("\(Self.root)/\(family)")
        let ids = try Self.reference(family).prompts[1]
        let expected = try Self.logits(m, ids)
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("finch-family-\(family)-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        try m.save(directory: out + "/hf")
        let hf = try LanguageModel.load(out + "/hf")
        #expect(hf.config == m.config)
        #expect(Self.maxDiff(try Self.logits(hf, ids), expected) == 0, "\(family): safetensors")
        try m.saveGGUF(path: out + "/m.gguf")
        let gguf = try LanguageModel.load(out + "/m.gguf")
        #expect(gguf.config.architecture == (family == "mistral" ? "llama" : family) || gguf.config.family.ggufName == m.family.ggufName)
        #expect(Self.maxDiff(try Self.logits(gguf, ids), expected) < 1e-5, "\(family): GGUF")
        #expect(gguf.tokenizer?.encode("Finch finetunes") == m.tokenizer?.encode("Finch finetunes"))
    }

    @Test(arguments: families)
    func fullAndLoRATrainingLowerTheLoss(_ family: String) throws {
        for lora in [false, true] {
            let m = try LanguageModel.load("\(Self.root)/\(family)")
            if lora { try m.addLoRA(rank: 4, alpha: 8) }
            let ids = try Tensor(Self.reference(family).prompts[1].map(Float.init), shape: [1, 13])
            var losses: [Float] = []
            for _ in 0..<5 {
                let (loss, tokens) = try m.loss(ids: ids, labels: ids)
                losses.append(try loss.item() / Float(tokens))
                for t in m.trainableTensors { t.zeroGrad() }
                try loss.backward()
                try GradMode.noGrad {
                    for t in m.trainableTensors { try t.assign(t.subtracting(t.grad!.multiplying(.scalar(0.05 / Float(tokens))))) }
                }
            }
            #expect(losses.last! < losses.first!, "\(family)\(lora ? " LoRA" : ""): \(losses)")
        }
    }

    /// A Llama 3.1 GGUF converted by llama.cpp holds only rope_freqs.weight: the numbers come back from it.
    @Test func llama3RopeScalingIsRecoveredFromTheFactorsAlone() throws {
        let llama31 = RopeScaling(factor: 8, lowFrequencyFactor: 1, highFrequencyFactor: 4, originalContext: 8192)
        let base = RotaryTable.frequencies(headDim: 128, theta: 500_000)
        let factors = zip(base, llama31.scale(base)).map { Double(Float($0 / $1)) }
        let fitted = try RopeScaling.fitted(factors: factors, frequencies: base, source: "test")
        #expect(fitted.factor == 8 && fitted.lowFrequencyFactor == 1 && fitted.originalContext == 8192)
        #expect(abs(fitted.highFrequencyFactor - 4) < 1e-3)
        #expect(throws: ModelError.self) { try RopeScaling.fitted(factors: base.map { _ in 2 }, frequencies: base, source: "test") }
    }
}

extension LanguageModel {
    /// One cache per prompt, each holding its prompt after a forward pass (for the batched-decoding tests).
    func prefilledCaches(_ prompts: [[Int]]) throws -> [KVCache] {
        try prompts.map { p in
            let cache = KVCache()
            _ = try forward(Tensor(p.map(Float.init), shape: [1, p.count]), cache: cache)
            return cache
        }
    }
}
