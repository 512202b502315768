import FinchIO
import FinchModel
import FinchTensor
import FinchServe
import Foundation
import Testing

/// `finch serve` as a user starts it: it prints its URL, serves the base and an adapter under
/// their names, and SIGTERM stops it cleanly.
@Suite(.serialized) struct ServeCommandTests {
    static let finch = OpenAIClientTests.repository.appendingPathComponent(".build/release/finch").path

    @Test func serveWithAnAdapterThenStopOnSIGTERM() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("finch-serve-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // An adapter that changes the answers: random B (a fresh adapter's B is zero, which changes
        // nothing), served from llama.cpp's GGUF adapter file (PEFT folders load through the same path).
        let tuned = try LanguageModel.load(ModelStore.resolve("smollm2-135m"))
        try tuned.addLoRA(rank: 4, alpha: 8, seed: 1)
        var rng = RNG(seed: 5)
        for (name, t) in tuned.loraParameters where name.contains("lora_B") {
            try t.assign(Tensor.normal(t.shape, std: 0.02, rng: &rng))
        }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try tuned.saveAdapter(path: dir + "/adapter.gguf")
        var greedy = GenerationOptions()
        greedy.maxTokens = 10
        let expected = try tuned.generate("The capital of France is", options: greedy).text

        let log = dir + "/serve.log"
        let pid = try Spawn.start(Self.finch, ["serve", "--port", "0", "--adapter", "tuned=\(dir)/adapter.gguf"], output: log)
        var exited = false
        defer { if !exited { kill(pid, SIGKILL); Spawn.wait(pid) } }
        var text = ""
        let deadline = Date().addingTimeInterval(60)
        while !text.contains("(Ctrl-C stops)") && Date() < deadline {
            usleep(50_000)
            text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        }
        #expect(text.hasPrefix("serving smollm2-135m, tuned at http://127.0.0.1:"), "\(text)")
        let port = try #require(Int(text.split(separator: ":").dropFirst(2).first?.prefix { $0.isNumber } ?? ""))

        let models = try LoopbackClient.request(port, "GET", "/v1/models")
        #expect((models.json["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["smollm2-135m", "tuned"])
        let r = try LoopbackClient.request(port, "POST", "/v1/completions",
                                           body: #"{"model": "tuned", "prompt": "The capital of France is", "max_tokens": 10, "temperature": 0}"#)
        #expect((r.json["choices"] as? [[String: Any]])?.first?["text"] as? String == expected)

        kill(pid, SIGTERM)
        let status = Spawn.wait(pid)
        exited = true
        #expect(status == 0)
        #expect(((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("stopped after 1 generation requests"))

        // A broken adapter folder is an error naming it, before anything listens.
        let bad = try Spawn.run(Self.finch, ["serve", "--port", "0", "--adapter", "x=\(dir)/nothing"], output: log)
        #expect(bad != 0)
        #expect(((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("adapter x: \(dir)/nothing/adapter_config.json"))
    }
}
