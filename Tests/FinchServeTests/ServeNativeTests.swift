import FinchLang
import FinchLib
import FinchServe
import Foundation
import Testing

/// serve() from the language: the server runs in the background while the script goes on, the
/// script's own generate waits its turn on the same model, and stop() frees the port.
@Suite(.serialized) struct ServeNativeTests {
    /// An interpreter with SmolLM2 loaded as `m` and served as "docs-bot" as `server` (more of
    /// serve's arguments in `serving`), what it prints collected in `out`.
    final class Session {
        let interpreter: Interpreter
        var out = ""
        init(serving: String = "") throws {
            interpreter = try FinchLibrary.makeInterpreter()
            interpreter.output = { [unowned self] in self.out += $0 }
            try interpreter.run("m = load_model(\"smollm2-135m\")\nserver = serve(m, port: 0, name: \"docs-bot\"\(serving))")
        }
    }

    @Test func serveRunsInTheBackgroundUntilStopped() throws {
        let session = try Session()
        let interpreter = session.interpreter
        try interpreter.run("print(server.url.starts_with(\"http://127.0.0.1:\"), server.port > 0, server)")
        #expect(session.out.hasPrefix("serving docs-bot at http://127.0.0.1:"))
        #expect(session.out.contains("true true <Server docs-bot at http://127.0.0.1:"), "\(session.out)")
        let port = Int(session.out.split(separator: ":")[2].prefix { $0.isNumber })!

        // A client streams while the script generates on the same model: both get whole answers.
        let client = try LoopbackClient(port: port)
        client.send("POST", "/v1/completions", body: #"{"model": "docs-bot", "prompt": "Once upon a time", "max_tokens": 30, "temperature": 0}"#)
        session.out = ""
        try interpreter.run(#"answer = m.generate("The capital of France is", max_tokens: 8, stream: false)"#)
        let r = client.readResponse()
        #expect(r.status == 200 && ((r.json["choices"] as? [[String: Any]])?.first?["text"] as? String)?.isEmpty == false)

        session.out = ""
        try interpreter.run("print(server.requests, server.largest_batch)\nserver.stop()")
        #expect(session.out == "1 1\n")
        // Nothing of the server answers on its port (another test may get the freed port, and a
        // client can even connect to itself on it, so no refusal is required).
        if let c = try? LoopbackClient(port: port) {
            c.send("GET", "/health")
            #expect(!c.readResponse().body.contains("docs-bot"))
        }

        // Bad arguments are the call's errors.
        #expect(throws: FinchError.self) { try interpreter.run("serve(m, port: 70000)") }
        #expect(throws: FinchError.self) { try interpreter.run(#"serve(m, weights: "q4")"#) }
    }

    /// server.request() goes over HTTP like any client (with the server's API key), decodes the
    /// answer, lists a stream's events, and turns an error answer into the call's error.
    @Test func requestIsARealHTTPClient() throws {
        let session = try Session(serving: ", api_key: \"sesame\"")
        let interpreter = session.interpreter
        try interpreter.run("""
        print(server.request("/v1/models")["data"][0]["id"])
        a = server.request("/v1/completions", {"model": "docs-bot", "prompt": "The capital of France is", "max_tokens": 4, "temperature": 0})
        print(a["choices"][0]["text"] == m.generate("The capital of France is", max_tokens: 4, stream: false), a["usage"]["completion_tokens"])
        events = server.request("/v1/completions", {"model": "docs-bot", "prompt": "The capital of France is", "max_tokens": 4, "temperature": 0, "stream": true})
        print(type(events), events.map(fn(e) { e["choices"][0]["text"] }).join(sep: "") == a["choices"][0]["text"])
        """)
        #expect(session.out.hasSuffix("docs-bot\ntrue 4\nlist true\n"), "\(session.out)")

        for (code, message) in [
            (#"server.request("/v1/completions", {"model": "other", "prompt": "x"})"#, "the server answered 404: "),
            (#"server.request("v1/models")"#, "path must start with /"),
            (#"server.request("/v1/models", [1])"#, "body"),
        ] {
            do {
                try interpreter.run(code)
                Issue.record("\(code) did not fail")
            } catch let e as FinchError {
                #expect(e.description.contains(message), "\(code): \(e)")
            }
        }
        try interpreter.run("server.stop()")
        #expect(throws: FinchError.self) { try interpreter.run(#"server.request("/v1/models")"#) }
    }
}
