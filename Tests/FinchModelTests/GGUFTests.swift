import FinchModel
import Foundation
import Testing

/// The GGUF reader on the real SmolLM2 file (fetched by `make model`) and on broken files.
@Suite struct GGUFTests {
    @Test func readsSmolLM2Metadata() throws {
        let path = ModelStore.smolLM2Path
        try #require(FileManager.default.fileExists(atPath: path), "run `make model` (scripts/fetch-model.sh) first: no \(path)")
        let file = try GGUFFile(path: path)
        #expect(file.version == 3)
        #expect(file.metadata["general.architecture"]?.string == "llama")
        #expect(file.metadata["llama.block_count"]?.int == 30)
        #expect(file.metadata["llama.embedding_length"]?.int == 576)
        #expect(file.metadata["llama.attention.head_count_kv"]?.int == 3)
        #expect(file.metadata["llama.rope.freq_base"]?.double == 100_000)
        #expect(file.metadata["tokenizer.ggml.pre"]?.string == "smollm")
        #expect(file.metadata["tokenizer.ggml.tokens"]?.strings?.count == 49152)
        #expect(file.metadata["tokenizer.ggml.merges"]?.strings?.count == 48900)
        #expect(file.metadata["tokenizer.ggml.eos_token_id"]?.int == 2)
        #expect(file.tensors.count == 272)
        let embedding = try #require(file.tensors.first { $0.name == "token_embd.weight" })
        #expect(embedding.dimensions == [576, 49152])
        #expect(file.dataOffset % 32 == 0)
    }

    @Test func brokenFilesAreErrorsThatSayWhere() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("finch-gguf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func write(_ bytes: [UInt8]) throws -> String {
            let p = dir.appendingPathComponent("f\(bytes.count).gguf").path
            try Data(bytes).write(to: URL(fileURLWithPath: p))
            return p
        }
        func le(_ v: UInt64, _ n: Int) -> [UInt8] { (0..<n).map { UInt8((v >> (8 * UInt64($0))) & 0xFF) } }
        do {
            _ = try GGUFFile(path: try write(Array("NOPE".utf8) + le(3, 4)))
            Issue.record("a file without the magic was read")
        } catch let e as GGUFError { #expect(e.description.contains("not a GGUF file")) }
        do {
            // Header claims one metadata entry, then the file ends.
            _ = try GGUFFile(path: try write(Array("GGUF".utf8) + le(3, 4) + le(0, 8) + le(1, 8)))
            Issue.record("a truncated file was read")
        } catch let e as GGUFError { #expect(e.description.contains("metadata count is 1, more than the 0 bytes left") && e.description.contains("at byte 16")) }
        do {
            // A string length far larger than the file.
            _ = try GGUFFile(path: try write(Array("GGUF".utf8) + le(3, 4) + le(0, 8) + le(1, 8) + le(1 << 40, 8)))
            Issue.record("an impossible length was accepted")
        } catch let e as GGUFError { #expect(e.description.contains("a string length is 1099511627776, more than the 0 bytes left") && e.description.contains("at byte 24")) }
    }
}
