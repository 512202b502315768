import FinchModel
import FinchTensor
import Foundation
import Testing

/// Corrupt model files: every load of a mutated file must either succeed or throw an
/// error that names the file — never crash, hang, or allocate what a bogus count asks for.
@Suite struct CorruptFileTests {
    /// A small valid GGUF (a tiny llama with a tokenizer) and where its data section starts.
    static func smallGGUF() throws -> (Data, Int) {
        let config = ModelConfig(vocab: 280, dim: 32, layers: 1, heads: 2, kvHeads: 1, ffn: 64, context: 32)
        let m = try LanguageModel.random(config, seed: 1, tokenizer: ModelFilesTests.tinyTokenizer())
        let dir = try ModelFilesTests.tempDir("fuzz")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try m.saveGGUF(path: dir + "/small.gguf", type: .q8_0)
        let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/small.gguf"))
        return (data, try GGUFFile(data: data, path: "small.gguf").dataOffset)
    }

    /// One random change: flipped bits, an "interesting" 64-bit value, a cut, or a removed or repeated chunk.
    static func mutate(_ original: Data, headerEnd: Int, rng: inout RNG) -> Data {
        var bytes = [UInt8](original)
        // Most mutations land in the header, where the parser's decisions are.
        func position() -> Int { Int(rng.next() % UInt64(rng.uniform() < 0.8 ? headerEnd : bytes.count)) }
        switch rng.next() % 5 {
        case 0:
            for _ in 0...(rng.next() % 4) { bytes[position()] ^= UInt8(1 << (rng.next() % 8)) }
        case 1:
            let interesting: [UInt64] = [0, 1, 7, 0xFF, 0xFFFF, 0xFFFF_FFFF, 1 << 31, 1 << 32, 1 << 40, 1 << 62, 1 << 63, UInt64.max, UInt64.max - 1]
            let at = Swift.min(position(), bytes.count - 8)
            withUnsafeBytes(of: interesting[Int(rng.next() % UInt64(interesting.count))].littleEndian) { v in
                for k in 0..<(rng.next() % 2 == 0 ? 8 : 4) { bytes[at + k] = v[k] }
            }
        case 2:
            bytes.removeLast(bytes.count - position())
        case 3:
            let at = position(), n = Swift.min(Int(rng.next() % 64) + 1, bytes.count - at)
            bytes.removeSubrange(at..<(at + n))
        default:
            let at = position(), n = Swift.min(Int(rng.next() % 64) + 1, bytes.count - at)
            bytes.insert(contentsOf: bytes[at..<(at + n)], at: at)
        }
        return Data(bytes)
    }

    @Test func mutatedGGUFFilesLoadOrFailCleanly() throws {
        let (original, headerEnd) = try Self.smallGGUF()
        _ = try LanguageModel(gguf: GGUFFile(data: original, path: "small.gguf"))
        var rng = RNG(seed: 2026)
        var loaded = 0, failed = 0
        var reasons: [String: Int] = [:]
        for _ in 0..<10_000 {
            let data = Self.mutate(original, headerEnd: headerEnd, rng: &rng)
            do {
                _ = try LanguageModel(gguf: GGUFFile(data: data, path: "small.gguf"))
                loaded += 1
            } catch {
                failed += 1
                let text = String(describing: error)
                #expect(text.contains("small.gguf"), "the error should name the file: \(text)")
                reasons[String(text.prefix(60)), default: 0] += 1
            }
        }
        #expect(loaded + failed == 10_000)
        #expect(failed > 5000, "most mutations should be caught (\(failed) were)")
        #expect(reasons.count > 20, "mutations should reach many different checks (\(reasons.count) did)")
    }

    @Test func mutatedSafetensorsLoadOrFailCleanly() throws {
        let m = try LanguageModel.random(ModelConfig(vocab: 40, dim: 16, layers: 1, heads: 2, ffn: 32, context: 16), seed: 2)
        let dir = try ModelFilesTests.tempDir("fuzz-st")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try m.save(directory: dir)
        let original = try Data(contentsOf: URL(fileURLWithPath: dir + "/model.safetensors"))
        let headerEnd = 8 + Int(original.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        var rng = RNG(seed: 7)
        var failed = 0
        for _ in 0..<3000 {
            do {
                let file = try SafetensorsFile(data: Self.mutate(original, headerEnd: headerEnd, rng: &rng), path: "model.safetensors")
                for e in file.entries { _ = try file.tensor(e) }
            } catch {
                failed += 1
                #expect(String(describing: error).contains("model.safetensors"))
            }
        }
        #expect(failed > 1000)
    }

    @Test func specificCorruptionsGiveSpecificErrors() throws {
        let (original, _) = try Self.smallGGUF()
        func error(_ data: Data) -> String {
            do { _ = try LanguageModel(gguf: GGUFFile(data: data, path: "x.gguf")); return "loaded" } catch { return "\(error)" }
        }
        #expect(error(Data("GGUX".utf8) + original.dropFirst(4)).contains("not a GGUF file"))
        #expect(error(original.prefix(original.count - 100)).contains("runs past the end of the file"))
        var version = original
        version[4] = 9
        #expect(error(version).contains("unsupported GGUF version 9"))
        var count = original
        count.replaceSubrange(8..<16, with: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F])
        #expect(error(count).contains("tensor count"))
    }
}
