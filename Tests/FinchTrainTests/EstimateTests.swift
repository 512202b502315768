import FinchIO
import FinchModel
import FinchTensor
import FinchTrain
import Foundation
import Testing

/// estimate() against what training SmolLM2-135M really holds (the train benchmark's memory
/// parts, each in a process of its own), and its arithmetic.
@Suite struct EstimateTests {
    static let finch = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/release/finch").path

    func measured(_ part: String) throws -> Double {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("finch-estimate-\(part)-\(getpid()).txt").path
        defer { unlink(out) }
        let status = try Spawn.run("/bin/sh", ["-c", "'\(Self.finch)' bench train --part \(part) > '\(out)'"])
        #expect(status == 0)
        let text = try String(contentsOfFile: out, encoding: .utf8)
        let value = text.split(separator: "\n").last.flatMap { $0.split(separator: " ").last }.flatMap { Double($0) }
        return try #require(value, "no figure in \(text)")
    }

    @Test func estimateMatchesMeasuredPeakMemory() throws {
        let model = try LanguageModel(gguf: ModelStore.resolve("smollm2-135m"))
        let q8 = try LanguageModel(gguf: ModelStore.resolve("smollm2-135m"), base: .q8_0)
        for (part, m, method) in [("full-memory", model, TrainingEstimate.Method.full), ("lora-memory", model, .lora), ("q8-lora-memory", q8, .lora)] {
            let mb = try measured(part)
            let estimate = TrainingEstimate.of(m, method: method, batch: 4, seq: 256).totalBytes / 1e6
            #expect(abs(estimate - mb) <= 0.1 * mb, "\(part): estimated \(Int(estimate)) MB, measured \(Int(mb)) MB")
        }
    }

    @Test func arithmetic() {
        let e = TrainingEstimate.of(parameters: 1_000_000_000, method: .full, batch: 1, seq: 1024, layers: 16, dim: 2048, ffn: 8192, vocab: 32000, kvDim: 512)
        #expect(e.weightsBytes == 4e9 && e.gradientBytes == 4e9 && e.optimizerBytes == 8e9)
        #expect(e.flopsPerStep == 6e9 * 1024)
        let lora = TrainingEstimate.of(parameters: 1_000_000_000, method: .lora, batch: 1, seq: 1024, layers: 16, dim: 2048, ffn: 8192, vocab: 32000, kvDim: 512)
        #expect(lora.gradientBytes < 1e-2 * e.gradientBytes && lora.flopsPerStep == 4e9 * 1024)
        // LoRA's frozen, un-adapted gate, up and down keep no input: the MLP's normalised rows and the product, per token and layer.
        #expect(e.activationBytes - lora.activationBytes == 4 * 1024 * 16 * (2048 + 8192))
        // A base kept in blocks: the projections (q, o 2048², k, v 2048·512, the MLP's 3·2048·8192 per layer) at the blocks' bytes.
        let perLayer: Int = 2 * 2048 * 2048 + 2 * 2048 * 512 + 3 * 2048 * 8192
        let projections = Double(16 * perLayer)
        for format in QuantFormat.allCases {
            let kept = TrainingEstimate.of(parameters: 1_000_000_000, method: .lora, batch: 1, seq: 1024, layers: 16, dim: 2048, ffn: 8192,
                                           vocab: 32000, kvDim: 512, base: format)
            #expect(lora.weightsBytes - kept.weightsBytes == projections * (4 - format.bytesPerWeight), "\(format)")
            #expect(kept.activationBytes == lora.activationBytes && kept.optimizerBytes == lora.optimizerBytes)
        }
    }

    /// A model's own estimate counts its weights as it holds them.
    @Test func aModelsEstimateCountsItsBlocks() throws {
        let m = try LanguageModel.random(ModelConfig(vocab: 50, dim: 64, layers: 2, heads: 4, kvHeads: 2, ffn: 96, context: 32))
        try m.addLoRA(rank: 2)
        let dense = TrainingEstimate.of(m, method: .lora, batch: 1, seq: 32)
        try m.keepBase(in: .q8_0)
        let kept = TrainingEstimate.of(m, method: .lora, batch: 1, seq: 32)
        let projections: Int = 2 * (2 * 64 * 64 + 2 * 64 * 32 + 3 * 64 * 96)
        #expect(kept.weightsBytes == dense.weightsBytes - Double(projections) * (4 - 1.125))
    }
}
