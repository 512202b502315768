import FinchModel
import FinchTensor
import FinchTrain
import Foundation

/// generate: SmolLM2-135M-Instruct — load time, prefill of a 512-token prompt, greedy decoding
/// of 128 tokens, and decoding against the bound that memory bandwidth sets (every weight is
/// read once per token; the bandwidth is a plain copy, and a read stream, measured in the same run).
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
        let short = Array(prompt.prefix(16))  // the decoding runs' prompt
        if options.part == "decode" { return try decodeAlone(out, model, prompt: short, seconds: options.seconds) }
        if options.part == "prefill" { return try prefillAlone(out, model, prompt: prompt, seconds: options.seconds) }

        // Peak memory of loading and generating (the Q8_0 copies included), before the copy buffers below add to it.
        _ = try decode128(model, prompt: short)
        _ = try decode128(model, prompt: short, format: .q8_0)
        _ = try decode128(model, prompt: short, format: .q4_1)
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
        var decodeSeconds: [Double] = [], q8Seconds: [Double] = [], q4Seconds: [Double] = []
        var readSink: Float = 0
        let decode = try BenchTiming.interleaved([
            { decodeSeconds.append(try decode128(model, prompt: short)) },
            { Parallel.copy(from: src, to: dst, count: bytes / 4) },
            { q8Seconds.append(try decode128(model, prompt: short, format: .q8_0)) },
            { readSink += readStream(src, count: bytes / 4) },
            { q4Seconds.append(try decode128(model, prompt: short, format: .q4_1)) },
        ], seconds: options.seconds * 4, minRounds: 3)
        let prefillTPS = 512 / prefill[0]
        let f32TPS = 127 / BenchTiming.median(decodeSeconds), q8TPS = 127 / BenchTiming.median(q8Seconds)
        let q4TPS = 127 / BenchTiming.median(q4Seconds)
        let bandwidth = 2 * Double(bytes) / decode[1] / 1e9  // the copy, read + write
        // Decoding reads its weights and writes almost nothing: a read stream is its bound.
        let readBandwidth = Double(bytes) / decode[3] / 1e9
        precondition(readSink.isFinite)
        let f32Bytes = Double(model.decodeWeightBytes()), q8Bytes = Double(model.decodeWeightBytes(.q8_0))
        let q4Bytes = Double(model.decodeWeightBytes(.q4_1))
        out.report("generate.prefill_tps", prefillTPS, digits: 1)
        out.report("generate.bandwidth_gbps", bandwidth, digits: 1)
        // Decoding with the default Q8_0 weights, then with float32.
        out.report("generate.decode_tps", q8TPS, digits: 1)
        out.report("generate.weight_mb_per_token", q8Bytes / 1e6, digits: 1)
        out.report("generate.decode_bound_fraction", q8TPS / (bandwidth * 1e9 / q8Bytes), digits: 3)
        out.report("generate.read_gbps", readBandwidth, digits: 1)
        out.report("generate.decode_read_bound_fraction", q8TPS / (readBandwidth * 1e9 / q8Bytes), digits: 3)
        // Decoding with Q4_1 copies (the file's own blocks for a Q4_1 GGUF; the head stays Q8_0).
        out.report("generate.decode_q4_tps", q4TPS, digits: 1)
        out.report("generate.q4_weight_mb_per_token", q4Bytes / 1e6, digits: 1)
        out.report("generate.decode_q4_read_bound_fraction", q4TPS / (readBandwidth * 1e9 / q4Bytes), digits: 3)
        out.report("generate.decode_f32_tps", f32TPS, digits: 1)
        out.report("generate.f32_weight_mb_per_token", f32Bytes / 1e6, digits: 1)
        out.report("generate.decode_f32_bound_fraction", f32TPS / (bandwidth * 1e9 / f32Bytes), digits: 3)
        let prefillGFLOPS = prefillTPS * 2 * Double(model.parameterCount) / 1e9
        out.report("generate.prefill_gflops", prefillGFLOPS, digits: 1)
        out.report("generate.gemm_gflops", gemmGFLOPS, digits: 1)
        out.report("generate.prefill_vs_gemm", prefillGFLOPS / gemmGFLOPS, digits: 3)
        out.report("generate.peak_rss_mb", peakMB, digits: 0)
    }

    /// Q8_0 and Q4_1 decoding alone, by turns, for profiling and for comparing builds (`--part decode`).
    static func decodeAlone(_ out: BenchReporter, _ model: LanguageModel, prompt: [Int], seconds: Double) throws {
        // The steps' own seconds, as in the whole benchmark (a side's time would include its prompt).
        var q8: [Double] = [], q4: [Double] = []
        _ = try BenchTiming.interleaved([
            { q8.append(try decode128(model, prompt: prompt, format: .q8_0)) },
            { q4.append(try decode128(model, prompt: prompt, format: .q4_1)) },
        ], seconds: seconds * 8, minRounds: 3)
        out.report("generate.decode_tps", 127 / BenchTiming.median(q8), digits: 1)
        out.report("generate.decode_q4_tps", 127 / BenchTiming.median(q4), digits: 1)
    }

    /// Prefill of the 512-token prompt alone, for profiling (`--part prefill`).
    static func prefillAlone(_ out: BenchReporter, _ model: LanguageModel, prompt: [Int], seconds: Double) throws {
        let ids = try Tensor(prompt.map(Float.init), shape: [1, prompt.count])
        let times = try BenchTiming.interleaved([{ _ = try GradMode.noGrad { try model.forward(ids, cache: KVCache(), lastOnly: true) } }],
                                                seconds: seconds * 8, minRounds: 5)
        out.report("generate.prefill_tps", Double(prompt.count) / times[0], digits: 1)
    }

    /// Reads `count` floats once on every thread's share, summing them so nothing is left out:
    /// the memory traffic of decoding (weights read, nothing written), without its arithmetic.
    static func readStream(_ p: UnsafePointer<Float>, count: Int) -> Float {
        let chunks = max(1, Threads.count)
        let sums = UnsafeMutablePointer<Float>.allocate(capacity: chunks)
        defer { sums.deallocate() }
        sums.initialize(repeating: 0, count: chunks)
        let per = (count + chunks - 1) / chunks
        Parallel.forEachRange(chunks, grain: 1) { r in
            for c in r {
                let start = c * per, end = min(count, start + per)
                var acc = (SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>())
                var i = start
                while i + 64 <= end {
                    let raw = UnsafeRawPointer(p + i)
                    acc.0 += raw.loadUnaligned(as: SIMD16<Float>.self)
                    acc.1 += raw.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
                    acc.2 += raw.loadUnaligned(fromByteOffset: 128, as: SIMD16<Float>.self)
                    acc.3 += raw.loadUnaligned(fromByteOffset: 192, as: SIMD16<Float>.self)
                    i += 64
                }
                var s = (acc.0 + acc.1 + acc.2 + acc.3).sum()
                while i < end { s += p[i]; i += 1 }
                sums[c] = s
            }
        }
        return (0..<chunks).reduce(0) { $0 + sums[$1] }
    }

    /// Seconds for 127 greedy decoding steps after the first token (EOS does not stop it).
    static func decode128(_ model: LanguageModel, prompt: [Int], format: QuantFormat? = nil) throws -> Double {
        try GradMode.noGrad {
            let cache = KVCache()
            var logits = try model.forward(Tensor(prompt.map(Float.init), shape: [1, prompt.count]), cache: cache, lastOnly: true)
            let t0 = BenchTiming.now()
            for _ in 0..<127 {
                let next = try logits.argmax(axis: -1).item()
                logits = try model.forward(Tensor([next], shape: [1, 1]), cache: cache, lastOnly: true, quantized: format)
            }
            return BenchTiming.now() - t0
        }
    }
}
