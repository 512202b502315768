import FinchModel
import Foundation
import FinchTensor
import Testing

/// LoRA over a base kept in blocks (`keepBase(in:)`, `load(_:base:)`): the frozen projections hold
/// only their Q8_0 or Q4_1 blocks, and the model trains, merges and saves exactly as a float32
/// model whose projections hold the blocks' values.
@Suite struct QuantizedBaseTests {
    /// Every width a whole number of 32-value blocks.
    static func model() throws -> LanguageModel {
        try LanguageModel.random(ModelConfig(vocab: 50, dim: 64, layers: 2, heads: 4, kvHeads: 2, ffn: 96, context: 32), seed: 8)
    }
    static var ids: Tensor { try! Tensor([3, 14, 15, 9, 26, 5, 35, 8, 9, 7], shape: [2, 5]) }

    /// The float32 twin: the same model with each projection's weight replaced by its blocks' values.
    static func widenedTwin(_ format: QuantFormat) throws -> LanguageModel {
        let m = try model()
        for block in m.blocks { for (_, layer) in block.linears { try layer.weight.assign(QuantizedMatrix(layer.weight, format: format).widened()) } }
        return m
    }

    static func logits(_ m: LanguageModel) throws -> [Float] { try GradMode.noGrad { try m.forward(ids).scalars } }

    @Test(arguments: QuantFormat.allCases) func trainsAsTheFloat32ModelOfTheBlocksValues(format: QuantFormat) throws {
        for checkpointed in [false, true] {
            let kept = try Self.model(), twin = try Self.widenedTwin(format)
            for m in [kept, twin] {
                try m.addLoRA(rank: 4, alpha: 8, targets: ["q", "v", "down"], dropout: 0.1, seed: 1)
                (m.training, m.gradientCheckpointing) = (true, checkpointed)
            }
            let before = kept.weightBytes
            try kept.keepBase(in: format)
            #expect(kept.weights.filter { $0.weight.format == format }.count == 2 * 7, "every projection of both blocks is kept in blocks")
            #expect(kept.parameters.count == twin.parameters.count - 14 && kept.weights.map(\.name) == twin.weights.map(\.name))
            #expect(kept.parameterCount == twin.parameterCount)
            // Four bytes a weight become the blocks' 1.125 (Q8_0) or 0.625 (Q4_1): every row here is a whole panel's.
            let projected = kept.blocks.flatMap(\.linears).reduce(0) { $0 + $1.layer.outFeatures * $1.layer.inFeatures }
            #expect(before - kept.weightBytes == Int(Double(projected) * (4 - format.bytesPerWeight)))
            // Three SGD steps on the adapters: the same losses and adapters, bit for bit.
            for step in 0..<3 {
                var losses: [Float] = []
                for m in [kept, twin] {
                    let (loss, _) = try m.loss(ids: Self.ids, labels: Self.ids)
                    try loss.backward()
                    losses.append(loss.scalars[0])
                    try GradMode.noGrad {
                        for p in m.loraParameters { try p.tensor.assign(p.tensor.adding(p.tensor.grad!.multiplying(.scalar(-0.5)))); p.tensor.zeroGrad() }
                    }
                }
                #expect(losses[0].bitPattern == losses[1].bitPattern, "\(format) step \(step), checkpointed \(checkpointed): \(losses)")
            }
            #expect(kept.loraParameters.map(\.tensor.scalars) == twin.loraParameters.map(\.tensor.scalars))
            kept.training = false; twin.training = false
            #expect(try Self.logits(kept) == Self.logits(twin))
        }
    }

    @Test func mergeFuseSaveAndLoadSeeTheBlocksValues() throws {
        let m = try Self.model()
        try m.addLoRA(rank: 4, alpha: 8, targets: ["q", "v"], seed: 3)
        try m.keepBase(in: .q8_0)
        var rng = RNG(seed: 4)
        for p in m.loraParameters where p.name.contains("lora_B") { try p.tensor.assign(Tensor.normal(p.tensor.shape, std: 0.5, rng: &rng)) }
        let adapted = try Self.logits(m)

        // Merged for a while (as fuse does), then back to blocks and adapters, bit for bit.
        let merged = try m.withAdaptersMerged { try Self.logits(m) }
        #expect(zip(adapted, merged).map { abs($0 - $1) }.max()! < 1e-4)
        #expect(try Self.logits(m) == adapted)
        #expect(m.blocks[0].linear("q").stored.format == .q8_0 && m.blocks[0].linear("q").lora != nil)

        // Saved: the blocks' values in float32; read back with the adapters, the same logits.
        let dir = try ModelFilesTests.tempDir("qbase")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try m.save(directory: dir + "/model")
        try m.saveAdapter(directory: dir + "/adapter")
        let float = try LanguageModel(directory: dir + "/model")
        try float.loadAdapter(directory: dir + "/adapter")
        #expect(try Self.logits(float) == adapted)
        // Loaded straight into blocks: Q8_0 of Q8_0's values gives the same blocks back.
        let blocks = try LanguageModel(directory: dir + "/model", base: .q8_0)
        #expect(blocks.weights.filter { $0.weight.format == .q8_0 }.count == 14)
        try blocks.loadAdapter(directory: dir + "/adapter")
        #expect(try Self.logits(blocks) == adapted)

        // Frozen weights cannot train, and the error says how to widen them.
        #expect(throws: ModelError.self) { try m.setTrainable(true, matching: "*.q_proj.weight") }
        #expect(try m.setTrainable(true, matching: "*norm*") == 5)
        try m.setTrainable(false, matching: "*norm*")
        #expect(throws: ModelError.self) { _ = try m.blocks[0].linear("k").weight }

        // Merging for good widens the adapted projections; the others stay in blocks.
        try m.mergeLoRA()
        #expect(m.blocks[1].linear("v").stored.format == nil && m.blocks[1].linear("k").stored.format == .q8_0)
        #expect(zip(adapted, try Self.logits(m)).map { abs($0 - $1) }.max()! < 1e-4)
        // And f32 widens the rest back (still frozen).
        try m.keepBase(in: nil)
        #expect(m.weights.allSatisfy { $0.weight.format == nil } && m.trainableCount == 0)
    }

    @Test func onlyProjectionsMayBeKeptInBlocks() throws {
        let m = try Self.model()
        var weights = Dictionary(uniqueKeysWithValues: m.weights.map { ($0.name, $0.weight) })
        weights["model.norm.weight"] = .frozen(try QuantizedMatrix(Tensor.ones([2, 32])))
        #expect(throws: ModelError.self) { try LanguageModel(config: m.config, weights: weights, source: "test") }
    }
}
