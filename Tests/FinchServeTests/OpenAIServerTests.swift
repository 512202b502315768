import FinchModel
import FinchServe
import FinchTensor
import FinchText
import Foundation
import Synchronization
import Testing

/// The server as an OpenAI client sees it, on the real SmolLM2 over loopback: answers equal the
/// model's own generate/chat, logprobs are the model's, bad requests get their status and reason,
/// and clients that hang up free their place.
@Suite(.serialized) struct OpenAIServerTests {
    nonisolated(unsafe) static let model: Result<LanguageModel, Error> = Result { try LanguageModel.load(ModelStore.resolve("smollm2-135m")) }

    /// A server on a free loopback port for the length of `body`, stopped afterwards whatever happens.
    func withServer(apiKey: String? = nil, maxBodyBytes: Int = 4 << 20, _ body: (OpenAIServer, LanguageModel) throws -> Void) throws {
        let m = try Self.model.get()
        let server = try OpenAIServer(models: [ServedModel(name: "smol", model: m)], apiKey: apiKey, maxBodyBytes: maxBodyBytes)
        try server.start(host: "127.0.0.1", port: 0)
        defer { server.stop() }
        try body(server, m)
    }

    func post(_ server: OpenAIServer, _ path: String, _ json: String, headers: [String: String] = [:]) throws -> LoopbackClient.Response {
        try LoopbackClient.request(server.port, "POST", path, body: json, headers: headers)
    }

    func greedy(_ max: Int) -> GenerationOptions {
        var o = GenerationOptions()
        o.maxTokens = max
        return o
    }

    func choices(_ r: LoopbackClient.Response) -> [[String: Any]] { r.json["choices"] as? [[String: Any]] ?? [] }

    @Test func completionsEqualTheModelsOwnGeneration() throws {
        try withServer { server, m in
            let expected = try m.generate("The capital of France is", options: greedy(12)).text
            let r = try post(server, "/v1/completions", #"{"model": "smol", "prompt": "The capital of France is", "max_tokens": 12, "temperature": 0}"#)
            #expect(r.status == 200 && r.headers["content-type"] == "application/json")
            #expect(choices(r).first?["text"] as? String == expected)
            #expect(choices(r).first?["finish_reason"] as? String == "length")
            let usage = r.json["usage"] as? [String: Any]
            #expect(usage?["completion_tokens"] as? Int == 12 && usage?["prompt_tokens"] as? Int == m.tokenizer!.encode("The capital of France is").count)

            // Streamed: the pieces join to the same text, the last event is [DONE], usage when asked.
            let s = try post(server, "/v1/completions", #"{"model": "smol", "prompt": "The capital of France is", "max_tokens": 12, "temperature": 0, "stream": true, "stream_options": {"include_usage": true}}"#)
            #expect(s.status == 200 && s.headers["content-type"] == "text/event-stream")
            let events = s.events
            #expect(events.last == "[DONE]")
            let chunks = events.dropLast().compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            let text = chunks.compactMap { ($0["choices"] as? [[String: Any]])?.first?["text"] as? String }.joined()
            #expect(text == expected)
            #expect((chunks.last?["usage"] as? [String: Any])?["completion_tokens"] as? Int == 12)

            // Several prompts, text and token ids, in one request: one choice each, in order.
            let ids = m.tokenizer!.encode("Once upon a time")
            let both = try post(server, "/v1/completions", #"{"model": "smol", "prompt": [\#(ids.map(String.init).joined(separator: ", "))], "max_tokens": 5, "temperature": 0}"#)
            #expect(choices(both).first?["text"] as? String == (try m.generate("Once upon a time", options: greedy(5)).text))
        }
    }

    @Test func stopStringsCutTheText() throws {
        try withServer { server, m in
            let full = try m.generate("The capital of France is", options: greedy(12)).text
            let r = try post(server, "/v1/completions", #"{"model": "smol", "prompt": "The capital of France is", "max_tokens": 12, "temperature": 0, "stop": ["."]}"#)
            #expect(choices(r).first?["text"] as? String == String(full.prefix { $0 != "." }))
            #expect(choices(r).first?["finish_reason"] as? String == "stop")
        }
    }

    /// lm-evaluation-harness's loglikelihood request: echo, max_tokens 0, logprobs 1.
    @Test func echoedLogprobsAreTheModelsOwn() throws {
        try withServer { server, m in
            let text = "Water boils at one hundred degrees Celsius."
            let r = try post(server, "/v1/completions", #"{"model": "smol", "prompt": "\#(text)", "max_tokens": 0, "echo": true, "logprobs": 1, "temperature": 0}"#)
            let choice = try #require(choices(r).first)
            #expect(choice["text"] as? String == text)
            let lp = try #require(choice["logprobs"] as? [String: Any])
            let tokenLogprobs = try #require(lp["token_logprobs"] as? [Any])
            let ids = m.tokenizer!.encode(text)
            #expect(tokenLogprobs.count == ids.count && tokenLogprobs.first is NSNull)
            #expect((lp["tokens"] as? [String])?.joined() == text)
            // Against log-softmax of the model's logits, computed here in double precision.
            let logits = try GradMode.noGrad { try m.forward(Tensor(ids.map(Float.init), shape: [1, ids.count])) }
            let V = logits.shape[2], all = logits.scalars
            for t in 1..<ids.count {
                let row = all[((t - 1) * V)..<(t * V)].map(Double.init)
                let top = row.max()!
                let expected = row[ids[t]] - top - log(row.reduce(0) { $0 + exp($1 - top) })
                let got = try #require(tokenLogprobs[t] as? Double)
                #expect(abs(got - expected) < 1e-4, "token \(t): \(got) vs \(expected)")
            }
            let tops = try #require(lp["top_logprobs"] as? [Any])
            #expect(tops.count == ids.count && (tops[1] as? [String: Double])?.count == 1)
        }
    }

    /// lm-evaluation-harness's local-completions sends max_tokens 1 with echo and drops the last
    /// entry as the generated token: when the model ends right after the prompt, that entry must
    /// be the end token, not the prompt's last token (which scored " Liver" 0 in the harness).
    @Test func anEndTokenIsTheLastLogprobEntry() throws {
        try withServer { server, m in
            let text = "Question: Which organ do humans use to breathe?\\nAnswer: Liver"
            let ids = m.tokenizer!.encode("Question: Which organ do humans use to breathe?\nAnswer: Liver")
            let r = try post(server, "/v1/completions", #"{"model": "smol", "prompt": "\#(text)", "max_tokens": 1, "echo": true, "logprobs": 1, "temperature": 0}"#)
            let choice = try #require(choices(r).first)
            #expect(choice["finish_reason"] as? String == "stop", "the model ends after Liver: the case this test is about")
            let lp = try #require(choice["logprobs"] as? [String: Any])
            let tokens = try #require(lp["tokens"] as? [String]), logprobs = try #require(lp["token_logprobs"] as? [Any])
            #expect(tokens.count == ids.count + 1 && logprobs.count == ids.count + 1)
            #expect(choice["text"] as? String == "Question: Which organ do humans use to breathe?\nAnswer: Liver")

            let zero = try post(server, "/v1/completions", #"{"model": "smol", "prompt": "\#(text)", "max_tokens": 0, "echo": true, "logprobs": 1}"#)
            let prompt = try #require((choices(zero).first?["logprobs"] as? [String: Any])?["token_logprobs"] as? [Any])
            #expect((logprobs.dropLast().last as? Double) == (prompt.last as? Double), "the prompt's last token keeps its place")
        }
    }

    @Test func chatEqualsTheModelsOwnChat() throws {
        try withServer { server, m in
            let question: JinjaValue = .dict(JinjaDict([("role", .string("user")), ("content", .string("What is the capital of France?"))]))
            let expected = try m.chat([question], options: greedy(24)).text
            let body = #"{"model": "smol", "messages": [{"role": "user", "content": "What is the capital of France?"}], "max_tokens": 24, "temperature": 0"#
            let r = try post(server, "/v1/chat/completions", body + "}")
            let message = try #require(choices(r).first?["message"] as? [String: Any])
            #expect(message["role"] as? String == "assistant" && message["content"] as? String == expected)
            #expect(r.json["object"] as? String == "chat.completion")

            let s = try post(server, "/v1/chat/completions", body + #", "stream": true}"#)
            let chunks = s.events.dropLast().compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            let deltas = chunks.compactMap { ($0["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any] }
            #expect(deltas.first?["role"] as? String == "assistant")
            #expect(deltas.compactMap { $0["content"] as? String }.joined() == expected)
            #expect(s.events.last == "[DONE]" && chunks.allSatisfy { $0["object"] as? String == "chat.completion.chunk" })
            #expect((chunks.last?["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String != nil)
        }
    }

    @Test func aSeedRepeatsASampledAnswer() throws {
        try withServer { server, _ in
            let body = #"{"model": "smol", "prompt": "Once upon a time", "max_tokens": 16, "temperature": 0.9, "seed": 7}"#
            let a = try post(server, "/v1/completions", body), b = try post(server, "/v1/completions", body)
            #expect(choices(a).first?["text"] as? String == choices(b).first?["text"] as? String)
        }
    }

    @Test func badRequestsGetTheirStatusAndReason() throws {
        try withServer(maxBodyBytes: 2000) { server, _ in
            func check(_ r: LoopbackClient.Response, _ status: Int, _ reason: String) {
                let message = (r.json["error"] as? [String: Any])?["message"] as? String ?? ""
                #expect(r.status == status && message.contains(reason), "\(r.status) \(r.body)")
            }
            check(try post(server, "/v1/completions", #"{"model": "smol", "prompt": "#), 400, "not valid JSON")
            check(try post(server, "/v1/completions", #"{"model": "gpt-9", "prompt": "Hi"}"#), 404, "the model gpt-9 does not exist")
            check(try post(server, "/v1/completions", #"{"model": "smol"}"#), 400, "prompt is required")
            check(try post(server, "/v1/completions", #"{"model": "smol", "prompt": "Hi", "n": 2}"#), 400, "n must be 1")
            check(try post(server, "/v1/completions", #"{"model": "smol", "prompt": "Hi", "temperature": 5}"#), 400, "temperature must be in 0...2")
            check(try post(server, "/v1/completions", #"{"model": "smol", "prompt": "Hi", "max_tokens": "many"}"#), 400, "max_tokens must be a number")
            check(try post(server, "/v1/chat/completions", #"{"model": "smol", "messages": "Hi"}"#), 400, "messages must be a non-empty list")
            check(try post(server, "/v1/completions", "[1, 2]"), 400, "must be a JSON object")
            check(try post(server, "/v1/completions", #"{"model": "smol", "prompt": "\#(String(repeating: "a", count: 3000))"}"#), 413, "larger than this server's limit of 2000 bytes")
            check(try LoopbackClient.request(server.port, "DELETE", "/v1/completions"), 405, "does not take DELETE")
            check(try LoopbackClient.request(server.port, "GET", "/v2/engines"), 404, "no such endpoint")
            // Broken HTTP is answered 400 by the HTTP layer; the server goes on serving.
            let raw = try LoopbackClient(port: server.port)
            raw.sendRaw(Array("NONSENSE\r\n\r\n".utf8))
            #expect(raw.readResponse().status == 400)
            let models = try LoopbackClient.request(server.port, "GET", "/v1/models")
            #expect(((models.json["data"] as? [[String: Any]])?.first?["id"] as? String) == "smol")
        }
    }

    @Test func anAPIKeyIsRequiredWhenSet() throws {
        try withServer(apiKey: "sekrit") { server, _ in
            let none = try LoopbackClient.request(server.port, "GET", "/v1/models")
            let wrong = try LoopbackClient.request(server.port, "GET", "/v1/models", headers: ["Authorization": "Bearer wrong"])
            let right = try LoopbackClient.request(server.port, "GET", "/v1/models", headers: ["Authorization": "Bearer sekrit"])
            #expect(none.status == 401 && wrong.status == 401 && right.status == 200)
        }
    }

    @Test func aClientThatHangsUpFreesItsPlace() throws {
        try withServer { server, _ in
            let c = try LoopbackClient(port: server.port)
            c.send("POST", "/v1/completions", body: #"{"model": "smol", "prompt": "Once upon a time", "max_tokens": 1000, "stream": true}"#)
            _ = c.read(until: "\"text\"")
            #expect(server.requestsInProgress == 1)
            close(c.fd)
            let deadline = Date().addingTimeInterval(10)
            while server.requestsInProgress > 0 && Date() < deadline { usleep(20_000) }
            #expect(server.requestsInProgress == 0, "the abandoned generation still runs")
            let r = try post(server, "/v1/completions", #"{"model": "smol", "prompt": "Hi", "max_tokens": 2}"#)
            #expect(r.status == 200)
        }
    }

    /// Requests decoded a token each in turn, their forward passes batched, still get exactly
    /// their own greedy answers.
    @Test func concurrentRequestsEachGetTheirOwnAnswer() throws {
        try withServer { server, m in
            let prompts = ["The capital of France is", "Once upon a time", "def fibonacci(n):", "The three primary colors are"]
            let expected = try prompts.map { try m.generate($0, options: greedy(20)).text }
            let got = Mutex([String?](repeating: nil, count: prompts.count))
            LoopbackClient.concurrently(prompts.count) { i in
                let body = #"{"model": "smol", "prompt": \#(String(data: try! JSONSerialization.data(withJSONObject: [prompts[i]]), encoding: .utf8)!.dropFirst().dropLast()), "max_tokens": 20, "temperature": 0, "stream": true}"#
                let r = try? post(server, "/v1/completions", body)
                let text = r?.events.dropLast().compactMap { e -> String? in
                    let chunk = try? JSONSerialization.jsonObject(with: Data(e.utf8)) as? [String: Any]
                    return (chunk?["choices"] as? [[String: Any]])?.first?["text"] as? String
                }.joined()
                got.withLock { $0[i] = text }
            }
            #expect(got.withLock { $0 } == expected.map { Optional($0) })
            #expect(server.largestBatch >= 2, "the requests' tokens were decoded together")
        }
    }
}
