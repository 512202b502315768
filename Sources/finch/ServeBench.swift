import FinchModel
import FinchServe
import FinchTensor
import FinchTrain
import Foundation
import Synchronization

/// serve: SmolLM2-135M-Instruct behind `finch serve`'s server on loopback — one streamed answer
/// against the same greedy generation called directly, four streams at once against one, and
/// the time to the first token; rounds interleaved (direct, 1 stream, 4 streams, ...).
/// FINCH_BENCH_SERVE_LOAD=SECONDS adds the load test: 8 clients streaming for that long.
enum ServeBench {
    static let prompts = ["Once upon a time", "The history of the printing press", "Here is a recipe for bread:",
                          "The planets of the solar system", "Dear diary, today", "In the beginning of the war",
                          "The best way to learn to swim", "A short poem about the sea:"]

    static func run(_ out: BenchReporter, _ options: BenchOptions) throws {
        let model = try LanguageModel.load(ModelStore.resolve("smollm2-135m"))
        let server = try OpenAIServer(models: [ServedModel(name: "smol", model: model)])
        try server.start(host: "127.0.0.1", port: 0)
        defer { server.stop() }
        var greedy = GenerationOptions()
        greedy.maxTokens = 128

        var direct: [Double] = [], one: [Double] = [], four: [Double] = [], firstToken: [Double] = []
        _ = try BenchTiming.interleaved([
            {
                let t0 = BenchTiming.now()
                let g = try model.generate(prompts[0], options: greedy)
                direct.append(Double(g.ids.count) / (BenchTiming.now() - t0))
            },
            {
                let t0 = BenchTiming.now()
                let s = try stream(server.port, prompts[0], maxTokens: 128)
                one.append(Double(s.tokens) / (BenchTiming.now() - t0))
                firstToken.append(s.firstToken)
            },
            {
                let t0 = BenchTiming.now()
                let tokens = Mutex(0)
                LoopbackClient.concurrently(4) { i in
                    let n = (try? stream(server.port, prompts[i], maxTokens: 128).tokens) ?? 0
                    tokens.withLock { $0 += n }
                }
                four.append(Double(tokens.withLock { $0 }) / (BenchTiming.now() - t0))
            },
        ], seconds: options.seconds * 6, minRounds: 3)
        let directTPS = BenchTiming.median(direct), oneTPS = BenchTiming.median(one), fourTPS = BenchTiming.median(four)
        out.report("serve.direct_tps", directTPS, digits: 1)
        out.report("serve.stream1_tps", oneTPS, digits: 1)
        out.report("serve.stream1_vs_direct", oneTPS / directTPS, digits: 3)
        out.report("serve.stream4_total_tps", fourTPS, digits: 1)
        out.report("serve.stream4_vs_stream1", fourTPS / oneTPS, digits: 3)
        out.report("serve.first_token_ms", BenchTiming.median(firstToken) * 1000, digits: 1)
        out.report("serve.largest_batch", Double(server.largestBatch), digits: 0)

        if let seconds = ProcessInfo.processInfo.environment["FINCH_BENCH_SERVE_LOAD"].flatMap(Double.init), seconds > 0 {
            try load(server, seconds: seconds, out)
        }
    }

    /// One streamed completion: tokens received (from the usage event) and seconds to the first text.
    static func stream(_ port: Int, _ prompt: String, maxTokens: Int) throws -> (tokens: Int, firstToken: Double) {
        let t0 = BenchTiming.now()
        let c = try LoopbackClient(port: port)
        let body = try JSONSerialization.data(withJSONObject: ["model": "smol", "prompt": prompt, "max_tokens": maxTokens, "temperature": 0,
                                                               "stream": true, "stream_options": ["include_usage": true]])
        c.send("POST", "/v1/completions", body: String(decoding: body, as: UTF8.self))
        var first = 0.0
        while first == 0, c.readMore() {
            if String(decoding: c.received, as: UTF8.self).contains("\"text\"") { first = BenchTiming.now() - t0 }
        }
        let r = c.readResponse()
        guard r.status == 200, r.events.last == "[DONE]" else { throw ModelError("the server answered \(r.status): \(r.body.prefix(200))") }
        let usage = (try? JSONSerialization.jsonObject(with: Data(r.events.dropLast().last!.utf8))) as? [String: Any]
        return ((usage?["usage"] as? [String: Any])?["completion_tokens"] as? Int ?? 0, first)
    }

    /// 8 clients, each streaming answers back to back for `seconds`: every request must be
    /// answered; resident memory at the start and the end shows whether it stays flat.
    static func load(_ server: OpenAIServer, seconds: Double, _ out: BenchReporter) throws {
        let rssStart = currentMegabytes
        let answered = Mutex(0), failed = Mutex(0), tokens = Mutex(0)
        let end = BenchTiming.now() + seconds
        LoopbackClient.concurrently(8) { i in
            var k = i
            while BenchTiming.now() < end {
                do {
                    let n = try stream(server.port, prompts[k % prompts.count], maxTokens: 64).tokens
                    answered.withLock { $0 += 1 }
                    tokens.withLock { $0 += n }
                } catch {
                    failed.withLock { $0 += 1 }
                }
                k += 1
            }
        }
        out.report("serve.load_seconds", seconds, digits: 0)
        out.report("serve.load_requests", Double(answered.withLock { $0 }), digits: 0)
        out.report("serve.load_failed", Double(failed.withLock { $0 }), digits: 0)
        out.report("serve.load_total_tps", Double(tokens.withLock { $0 }) / seconds, digits: 1)
        out.report("serve.load_rss_start_mb", rssStart, digits: 0)
        out.report("serve.load_rss_end_mb", currentMegabytes, digits: 0)
        out.report("serve.load_in_progress_after", Double(server.requestsInProgress), digits: 0)
    }

    static var currentMegabytes: Double { Double(MachineMemory.kilobytes(in: "/proc/self/status", "VmRSS:") ?? 0) / 1024 }
}
