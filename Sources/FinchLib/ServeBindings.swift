import FinchData
import FinchLang
import FinchModel
import FinchServe

/// serve(): an OpenAI-compatible server for a model, running in the background of the REPL or a script.
enum ServeBindings {
    static let type: NativeType = {
        let t = NativeType(name: "Server", doc: "An OpenAI-compatible HTTP server running in the background (serve()); stop() ends it.")
        t.describe = { o in
            let s = o.value as! OpenAIServer
            return "<Server \(s.models.map(\.name).joined(separator: ", ")) at \(s.url)>"
        }
        t.property("url", doc: "The base URL for OpenAI clients (base_url), e.g. http://127.0.0.1:8000/v1.") { o in
            .string((o.value as! OpenAIServer).url)
        }
        t.property("port", doc: "The port it listens on.") { o in .number(Double((o.value as! OpenAIServer).port)) }
        t.property("requests", doc: "How many generation requests it has answered so far.") { o in
            .number(Double((o.value as! OpenAIServer).requestsFinished))
        }
        t.property("largest_batch", doc: "The most requests one forward pass has decoded together so far.") { o in
            .number(Double((o.value as! OpenAIServer).largestBatch))
        }
        t.method("stop", on: OpenAIServer.self, [], returns: "nil", "Stops the server: requests in progress end and the port is freed.",
                 "server.stop()") { s, _ in
            s.stop()
            return .nil
        }
        t.method("request", on: OpenAIServer.self, [
            Param("path", .string, doc: "the endpoint, e.g. \"/v1/completions\" or \"/v1/models\""),
            Param("body", .optional(.dict), default: .nil, doc: "the JSON body, as a dict; without one the request is a GET"),
        ], returns: "dict or list",
        "Sends one HTTP request to the server, as any OpenAI client would (with its API key), and returns the decoded JSON answer; a streamed answer (\"stream\": true) comes back as the list of its events.",
        "server.request(\"/v1/completions\", {\"prompt\": \"Hello\", \"max_tokens\": 8})") { s, a in
            try request(s, a)
        }
        return t
    }()

    /// server.request(): a real HTTP round trip over loopback, so a notebook shows what a client gets.
    private static func request(_ s: OpenAIServer, _ a: Arguments) throws -> Value {
        let path = a.string("path")
        guard path.hasPrefix("/") else { throw a.error("path must start with /, e.g. \"/v1/completions\", got \(Value.quote(path))") }
        guard ["127.0.0.1", "0.0.0.0", "localhost"].contains(s.host) else {
            throw a.error("this server listens on \(s.host) only; request() reaches servers through 127.0.0.1")
        }
        var body: String?
        if case .dict(let d) = a["body"] { body = JSONWriter.write(.object(try DataBindings.fields(d, "request() body"))) }
        let response: LoopbackClient.Response
        do {
            response = try LoopbackClient.request(s.port, body == nil ? "GET" : "POST", path, body: body,
                                                  headers: s.apiKey.map { ["Authorization": "Bearer \($0)"] } ?? [:])
        } catch {
            throw a.error("nothing answers at \(s.url) (was the server stopped?)")
        }
        if response.headers["content-type"]?.hasPrefix("text/event-stream") == true {
            return .list(try response.events.filter { $0 != "[DONE]" }.map { try decode($0, a) })
        }
        guard (200..<300).contains(response.status) else {
            var reason = response.body.trimmingCharacters(in: .whitespacesAndNewlines)
            if let e = try? DataValue.parseJSON(Array(response.body.utf8)), case .string(let m)? = e["error"]?["message"] { reason = m }
            throw a.error("the server answered \(response.status): \(reason)")
        }
        let answer = try decode(response.body, a)
        return answer
    }

    private static func decode(_ json: String, _ a: Arguments) throws -> Value {
        do { return DataBindings.value(try DataValue.parseJSON(Array(json.utf8))) } catch {
            throw a.error("the server's answer is not JSON: \(json.prefix(200))")
        }
    }

    static func register(in r: Registry) {
        r.register(type)
        r.register(NativeFunction("serve", [
            Param("model", .object("Model")),
            Param("port", .int, default: .number(8000), doc: "0 picks a free port"),
            Param("host", .string, default: .string("127.0.0.1"), doc: "\"0.0.0.0\" listens on every interface (then set api_key)"),
            Param("name", .optional(.string), default: .nil, doc: "the model name clients ask for (default: the model's file name)"),
            Param("api_key", .optional(.string), default: .nil, doc: "when set, requests must send Authorization: Bearer <key>"),
            Param("weights", .string, default: .string("q8_0"), doc: "decoding weights: \"q8_0\" (fast), \"q4_1\" (faster, coarser) or \"f32\" (exact)"),
        ], returns: "Server",
        doc: "Serves a model over OpenAI's HTTP API (/v1/models, /v1/completions, /v1/chat/completions, streaming) in the background; the REPL stays usable, and generate/train on the same model wait their turn.",
        example: "server = serve(m, port: 8000)") { a in
            let m = a.object("model", as: LanguageModel.self)!
            let weights = try ModelBindings.weightFormat(a)
            let port = a.int("port")
            guard (0...65535).contains(port) else { throw a.error("port must be in 0...65535, got \(port)") }
            do {
                let served = try ServedModel(name: a.optionalString("name") ?? ServedModel.defaultName(for: m.source), model: m, decodeWeights: weights)
                let server = try OpenAIServer(models: [served], apiKey: a.optionalString("api_key"))
                try server.start(host: a.string("host"), port: port)
                a.interpreter.output("serving \(served.name) at \(server.url)\n")
                return .object(NativeObject(type: type, value: server))
            } catch let e as ModelError {
                throw a.error(e.description)
            }
        })
    }
}
