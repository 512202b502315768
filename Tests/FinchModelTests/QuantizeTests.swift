@testable import FinchModel
import FinchTensor
import Foundation
import Testing

/// Finch's Q4_0 and Q4_K writers, read back by the dequantiser that reads llama.cpp's files
/// (checked against the gguf package in DequantizeTests): every value within half a step of
/// its block (plus the f16 rounding of the scales), the extremes kept, zeros exact.
@Suite struct QuantizeTests {
    static func roundTrip(_ type: GGUFType, _ x: [Float]) -> [Float] {
        var bytes = [UInt8](repeating: 0, count: type.byteCount(elements: x.count))
        var y = [Float](repeating: .nan, count: x.count)
        x.withUnsafeBufferPointer { src in
            bytes.withUnsafeMutableBytes { raw in
                for b in 0..<(x.count / type.blockElements) {
                    let from = src.baseAddress! + b * type.blockElements, to = raw.baseAddress! + b * type.blockBytes
                    if type == .q4_0 { Quantize.q4_0(from, to) } else { Quantize.q4_K(from, to) }
                }
            }
        }
        bytes.withUnsafeBytes { raw in
            y.withUnsafeMutableBufferPointer { out in
                for b in 0..<(x.count / type.blockElements) {
                    Dequantize.block(type, raw.baseAddress! + b * type.blockBytes, out.baseAddress! + b * type.blockElements)
                }
            }
        }
        return y
    }

    static func samples() throws -> [[Float]] {
        var rng = RNG(seed: 3)
        let normal = try Tensor.normal([4096], std: 0.05, rng: &rng).scalars
        let positive = normal.map { abs($0) + 0.01 }, negative = normal.map { -abs($0) - 0.01 }
        var spiky = normal
        for i in stride(from: 7, to: spiky.count, by: 97) { spiky[i] *= 40 }
        return [normal, positive, negative, spiky, [Float](repeating: 0, count: 512), [Float](repeating: 0.25, count: 512)]
    }

    /// Each value becomes the nearest of the block's 16 levels d·(q − 8), d = m / −8 with m the
    /// value of largest magnitude (which is exact, up to f16); so within half a step, except
    /// beyond the 8th level on m's other side, which only reaches 7 steps.
    @Test func q4_0TakesTheNearestLevel() throws {
        for x in try Self.samples() {
            let y = Self.roundTrip(.q4_0, x)
            for b in 0..<(x.count / 32) {
                let block = x[(32 * b)..<(32 * b + 32)]
                let k = block.indices.max { abs(x[$0]) < abs(x[$1]) }!
                let d = Float(Float16(x[k] / -8))
                #expect(abs(y[k] - x[k]) <= abs(x[k]) * 1e-3)
                for i in block.indices {
                    let nearest = (0..<16).map { abs(d * Float($0 - 8) - x[i]) }.min()!
                    // Values are placed with the unrounded d, read with the f16 one: a near tie may go either way.
                    #expect(abs(y[i] - x[i]) <= nearest + abs(d) * 1e-2 + 1e-7, "value \(i): \(x[i]) → \(y[i]), step \(d)")
                }
            }
        }
    }

    @Test func q4_KStaysWithinHalfAStepOfItsSubBlock() throws {
        for x in try Self.samples() {
            let y = Self.roundTrip(.q4_K, x)
            var worst: Float = 0
            for s in 0..<(x.count / 32) {
                let sub = x[(32 * s)..<(32 * s + 32)]
                let range = sub.max()! - min(0, sub.min()!)
                let superBlock = x[(256 * (s / 8))..<(256 * (s / 8) + 256)]
                let superRange = superBlock.max()! - min(0, superBlock.min()!)
                // A 6-bit step of d = max step / 63: rounding it costs up to d/2 per step, over 15 steps.
                let allowed = range / 15 / 2 + 15 * (superRange / 15 / 63) / 2 + superRange / 63 + 1e-6
                for i in sub.indices { worst = max(worst, abs(y[i] - x[i]) / allowed) }
            }
            #expect(worst <= 1, "worst error \(worst) of the allowed")
            let rms = (zip(x, y).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) / Float(x.count)).squareRoot()
            let scale = (x.map { $0 * $0 }.reduce(0, +) / Float(x.count)).squareRoot()
            #expect(scale == 0 ? rms == 0 : rms / scale < 0.15, "relative RMS error \(rms / scale)")
        }
    }

    /// A saved model in each 4-bit format loads back with its tensors in that format (rows too
    /// short for Q4_K's 256 fall back to Q4_0) and logits near float32's.
    @Test func fourBitModelsLoadBack() throws {
        let config = ModelConfig(architecture: "llama", vocab: 280, dim: 256, layers: 2, heads: 4, kvHeads: 2, ffn: 512, context: 64,
                                 ropeTheta: 500, tiedEmbeddings: true)
        let m = try LanguageModel.random(config, seed: 5, tokenizer: ModelFilesTests.tinyTokenizer())
        let ids: [Float] = [5, 17, 200, 3, 99, 42, 7]
        let reference = try ModelFilesTests.logits(m, ids)
        let dir = try ModelFilesTests.tempDir("q4")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (type, fileType) in [(GGUFType.q4_0, UInt64(2)), (.q4_K, 14)] {
            let path = dir + "/m-\(type.name).gguf"
            try m.saveGGUF(path: path, type: type)
            let file = try GGUFFile(path: path)
            #expect(file.metadata["general.file_type"]?.int == Int(fileType))
            #expect(file.tensors.first { $0.name == "blk.0.attn_q.weight" }?.type == type.rawValue)
            #expect(file.tensors.first { $0.name == "blk.0.attn_norm.weight" }?.type == GGUFType.f32.rawValue)
            let loaded = try LanguageModel.load(path)
            let diff = ModelFilesTests.maxDiff(try ModelFilesTests.logits(loaded, ids), reference)
            let spread = reference.map(abs).max()!
            #expect(diff < 0.25 * spread, "\(type.name): logits differ by \(diff) (largest \(spread))")
        }
    }
}
