import FinchIO
import FinchModel
import FinchServe
import FinchText
import Foundation
import Testing

/// The official openai Python package (pinned, in a virtualenv under /tmp made once by
/// scripts/client-venv.sh) against a Finch server: streamed chat and completion, scoring with
/// echo, and its error classes for Finch's error answers.
@Suite(.serialized) struct OpenAIClientTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func python(_ name: String, _ packages: [String]) throws -> String {
        let r = try Spawn.output("/bin/sh", [repository.appendingPathComponent("scripts/client-venv.sh").path, name] + packages)
        guard r.status == 0, let python = r.text.split(separator: "\n").last.map(String.init), python.hasSuffix("/bin/python") else {
            throw ModelError("scripts/client-venv.sh \(name) failed: \(r.text)")
        }
        return python
    }

    @Test func theOpenAIPackageStreamsChatAndCompletions() throws {
        let python = try Self.python("openai", ["openai==3.63.0"])
        let m = try OpenAIServerTests.model.get()
        let server = try OpenAIServer(models: [ServedModel(name: "smol", model: m)], apiKey: "sekrit")
        try server.start(host: "127.0.0.1", port: 0)
        defer { server.stop() }
        let script = Self.repository.appendingPathComponent("Tests/FinchServeTests/openai_client.py").path
        let r = try Spawn.output(python, [script, server.url, "sekrit", "smol"])
        #expect(r.status == 0, "\(r.text)")
        let line = r.text.split(separator: "\n").last.map(String.init) ?? ""
        let out = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(r.text)")

        var greedy = GenerationOptions()
        greedy.maxTokens = 24
        let question: JinjaValue = .dict(JinjaDict([("role", .string("user")), ("content", .string("What is the capital of France?"))]))
        let chat = try m.chat([question], options: greedy).text
        greedy.maxTokens = 12
        let completion = try m.generate("The capital of France is", options: greedy).text
        #expect(out["models"] as? [String] == ["smol"])
        #expect(out["chat_stream"] as? String == chat && out["chat"] as? String == chat)
        #expect((out["chat_usage"] as? [Int])?.last == (out["chat_usage"] as? [Int]).map { $0[0] + $0[1] })
        #expect(out["completion_stream"] as? String == completion)
        #expect((out["echo_tokens"] as? [String])?.joined() == "Water boils at one hundred degrees.")
        let logprobs = out["echo_logprobs"] as? [Any] ?? []
        #expect(logprobs.first is NSNull && logprobs.dropFirst().allSatisfy { ($0 as? Double).map { $0 < 0 } ?? false })
        #expect((out["unknown_model"] as? [Any])?.first as? Int == 404)
        #expect((out["bad_key"] as? [Any])?.first as? Int == 401)
        #expect((out["bad_option"] as? [Any])?.first as? Int == 400 && ((out["bad_option"] as? [Any])?.last as? String)?.contains("n must be 1") == true)
    }
}
