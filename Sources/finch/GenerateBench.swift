import FinchModel
import FinchTensor
import FinchTrain
import Foundation

/// generate: SmolLM2-135M-Instruct — load time, prefill of a 512-token prompt, greedy decoding
/// of 128 tokens, and decoding against the bound that memory bandwidth sets (every weight is
/// read once per token; the bandwidth is a plain copy measured in the same run).
enum GenerateBench {
    static func run(_ out: BenchReporter, _ options: BenchOptions) throws {
        let path = try ModelStore.resolve("smollm2-135m")
        var model: LanguageModel!
        let load = try BenchTiming.interleaved([{ model = nil; model = try LanguageModel(gguf: path) }], seconds: 0, minRounds: 3)[0]
        out.report("generate.load_s", load, digits: 3)
        let tok = model.tokenizer!
        let text = try TokenizerBench.machineText(limit: 256 << 10)
        let prompt = Array(tok.encode(text, addSpecial: false).prefix(512))
        guard prompt.count == 512 else { throw ModelError("the benchmark text gave only \(prompt.count) tokens") }

        // Peak memory of loading and generating (the Q8_0 copies included), before the copy buffers below add to it.
        _ = try decode128(model, prompt: Array(prompt.prefix(16)))
        _ = try decode128(model, prompt: Array(prompt.prefix(16)), int8: true)
        let peakMB = ProcessMemory.peakMegabytes

        let bytes = 256 << 20
        let src = UnsafeMutablePointer<Float>.allocate(capacity: bytes / 4), dst = UnsafeMutablePointer<Float>.allocate(capacity: bytes / 4)
        defer { src.deallocate(); dst.deallocate() }
        src.initialize(repeating: 1, count: bytes / 4); dst.initialize(repeating: 0, count: bytes / 4)

        // Prefill against a GEMM of the model's own shape, then decoding against a plain copy:
        // each pair interleaved, so both sides of a ratio see the same machine.
        let ids = try Tensor(prompt.map(Float.init), shape: [1, 512])
        let a = try Tensor.randn([512, 576]), w = try Tensor.randn([1536, 576]).transpose()
        let prefill = try BenchTiming.interleaved([
            { _ = try GradMode.noGrad { try model.forward(ids, cache: KVCache(), lastOnly: true) } },
            { for _ in 0..<20 { _ = try a.matmul(w) } },
        ], seconds: options.seconds * 8, minRounds: 7)
        let gemmGFLOPS = 20 * 2 * 512 * 576 * 1536 / prefill[1] / 1e9
        var decodeSeconds: [Double] = [], int8Seconds: [Double] = []
        let decode = try BenchTiming.interleaved([
            { decodeSeconds.append(try decode128(model, prompt: Array(prompt.prefix(16)))) },
            { Parallel.copy(from: src, to: dst, count: bytes / 4) },
            { int8Seconds.append(try decode128(model, prompt: Array(prompt.prefix(16)), int8: true)) },
        ], seconds: options.seconds * 4, minRounds: 3)
        let prefillTPS = 512 / prefill[0]
        let f32TPS = 127 / BenchTiming.median(decodeSeconds), int8TPS = 127 / BenchTiming.median(int8Seconds)
        let bandwidth = 2 * Double(bytes) / decode[1] / 1e9  // the copy, read + write
        let f32Bytes = Double(model.decodeWeightBytes()), int8Bytes = Double(model.decodeWeightBytes(int8: true))
        out.report("generate.prefill_tps", prefillTPS, digits: 1)
        out.report("generate.bandwidth_gbps", bandwidth, digits: 1)
        // Decoding with the default Q8_0 weights, then with float32.
        out.report("generate.decode_tps", int8TPS, digits: 1)
        out.report("generate.weight_mb_per_token", int8Bytes / 1e6, digits: 1)
        out.report("generate.decode_bound_fraction", int8TPS / (bandwidth * 1e9 / int8Bytes), digits: 3)
        out.report("generate.decode_f32_tps", f32TPS, digits: 1)
        out.report("generate.f32_weight_mb_per_token", f32Bytes / 1e6, digits: 1)
        out.report("generate.decode_f32_bound_fraction", f32TPS / (bandwidth * 1e9 / f32Bytes), digits: 3)
        let prefillGFLOPS = prefillTPS * 2 * Double(model.parameterCount) / 1e9
        out.report("generate.prefill_gflops", prefillGFLOPS, digits: 1)
        out.report("generate.gemm_gflops", gemmGFLOPS, digits: 1)
        out.report("generate.prefill_vs_gemm", prefillGFLOPS / gemmGFLOPS, digits: 3)
        out.report("generate.peak_rss_mb", peakMB, digits: 0)
    }

    /// Seconds for 127 greedy decoding steps after the first token (EOS does not stop it).
    static func decode128(_ model: LanguageModel, prompt: [Int], int8: Bool = false) throws -> Double {
        try GradMode.noGrad {
            let cache = KVCache()
            var logits = try model.forward(Tensor(prompt.map(Float.init), shape: [1, prompt.count]), cache: cache, lastOnly: true)
            let t0 = BenchTiming.now()
            for _ in 0..<127 {
                let next = try logits.argmax(axis: -1).item()
                logits = try model.forward(Tensor([next], shape: [1, 1]), cache: cache, lastOnly: true, int8Weights: int8)
            }
            return BenchTiming.now() - t0
        }
    }
}
