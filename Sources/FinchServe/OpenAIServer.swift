import FinchData
import FinchModel
import Foundation
import NIOCore
import NIOPosix

/// An OpenAI-compatible HTTP server over Finch models: /v1/models, /v1/completions and
/// /v1/chat/completions, streamed as server-sent events when asked. Requests are decoded on one
/// thread a token each in turn (DecodeScheduler); the HTTP side runs on SwiftNIO.
public final class OpenAIServer: @unchecked Sendable {
    public let models: [ServedModel]
    /// When set, every /v1 request must carry `Authorization: Bearer <key>`.
    public let apiKey: String?
    /// Bodies larger than this are refused with 413.
    public let maxBodyBytes: Int
    let scheduler: DecodeScheduler
    private let answered = CountingSink.Counter()
    private var group: MultiThreadedEventLoopGroup?
    private var channel: Channel?
    public private(set) var host = "127.0.0.1"
    public private(set) var port = 0

    public init(models: [ServedModel], apiKey: String? = nil, maxBodyBytes: Int = 4 << 20, capacity: Int = 64) throws {
        guard !models.isEmpty else { throw ModelError("nothing to serve: give at least one model") }
        var seen = Set<String>()
        for m in models where !seen.insert(m.name).inserted { throw ModelError("two served models are named \(m.name)") }
        self.models = models
        self.apiKey = apiKey.flatMap { $0.isEmpty ? nil : $0 }
        self.maxBodyBytes = maxBodyBytes
        scheduler = DecodeScheduler(capacity: capacity)
    }

    /// The base URL clients use (OpenAI's `base_url`).
    public var url: String { "http://\(host.contains(":") ? "[\(host)]" : host):\(port)/v1" }

    /// Generation requests answered so far (with their answer or an error).
    public var requestsFinished: Int { answered.count }
    /// The most requests one forward pass has decoded together so far.
    public var largestBatch: Int { scheduler.largestBatch }
    /// Requests in progress or waiting.
    public var requestsInProgress: Int { scheduler.load }

    /// Listens on host:port (0 picks a free port) and returns at once; the server runs in the background.
    public func start(host: String = "127.0.0.1", port: Int = 8000) throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline(withErrorHandling: true).flatMap {
                    channel.pipeline.addHandler(HTTPHandler(server: self))
                }
            }
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
        do {
            channel = try bootstrap.bind(host: host, port: port).wait()
        } catch {
            try? group.syncShutdownGracefully()
            throw ModelError("cannot listen on \(host):\(port): \(error)")
        }
        self.group = group
        self.host = host
        self.port = channel?.localAddress?.port ?? port
    }

    /// Blocks until the server is stopped.
    public func wait() throws { try channel?.closeFuture.wait() }

    /// Stops listening, cancels the requests in progress and closes every connection.
    public func stop() {
        scheduler.stop()
        try? channel?.close().wait()
        try? group?.syncShutdownGracefully()
        channel = nil
        group = nil
    }

    /// Answers one request: at once (errors, /v1/models) or through the scheduler (generation).
    /// Returns the job so that a client that goes away can cancel it.
    func handle(method: String, path: String, authorization: String?, body: [UInt8], sink: ResponseSink) -> DecodeScheduler.Job? {
        do {
            let route = path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? path
            guard route.hasPrefix("/v1/") || route == "/v1" else {
                if route == "/" || route == "/health" {
                    sink.respond(status: 200, json: object(["status": .string("ok"), "models": .array(models.map { .string($0.name) })]))
                    return nil
                }
                throw ServeError(404, "no such endpoint: \(route); this server answers /v1/models, /v1/completions and /v1/chat/completions")
            }
            if let apiKey, authorization != "Bearer \(apiKey)" {
                throw ServeError(401, authorization == nil ? "this server needs an API key: send Authorization: Bearer <key>" : "the API key is not this server's")
            }
            switch (method, route) {
            case ("GET", "/v1/models"):
                sink.respond(status: 200, json: object(["object": .string("list"), "data": .array(models.map(\.listing))]))
                return nil
            case ("GET", _) where route.hasPrefix("/v1/models/"):
                let name = String(route.dropFirst("/v1/models/".count)).removingPercentEncoding ?? ""
                sink.respond(status: 200, json: try served(name, param: nil).listing)
                return nil
            case ("POST", "/v1/completions"):
                let body = try RequestBody(body)
                let served = try served(body.model(), param: "model")
                let counted = CountingSink(sink, answered)
                let run = try CompletionRun(served, body, sink: counted)
                return try schedule(served, counted, run.advance) { run.generation }
            case ("POST", "/v1/chat/completions"):
                let body = try RequestBody(body)
                let served = try served(body.model(), param: "model")
                let counted = CountingSink(sink, answered)
                let run = try ChatRun(served, body, sink: counted)
                return try schedule(served, counted, run.advance) { run.generation }
            case (_, "/v1/models"), (_, "/v1/completions"), (_, "/v1/chat/completions"):
                throw ServeError(405, "\(route) does not take \(method)")
            default:
                throw ServeError(404, "no such endpoint: \(route); this server answers /v1/models, /v1/completions and /v1/chat/completions")
            }
        } catch let e as ServeError {
            sink.fail(e)
        } catch let e as ModelError {
            sink.fail(ServeError.bad(e.description))
        } catch {
            sink.fail(ServeError(500, "\(error)"))
        }
        return nil
    }

    private func served(_ name: String, param: String?) throws -> ServedModel {
        guard let m = models.first(where: { $0.name == name }) else {
            throw ServeError(404, "the model \(name) does not exist; this server has \(models.map(\.name).joined(separator: ", "))", param: param)
        }
        return m
    }

    private func schedule(_ served: ServedModel, _ sink: ResponseSink, _ advance: @escaping () throws -> Bool,
                          generation: @escaping () -> TokenStream?) throws -> DecodeScheduler.Job {
        let job = DecodeScheduler.Job(served, advance: advance, generation: generation) { error in
            let e = (error as? ServeError) ?? ServeError(500, (error as? ModelError)?.description ?? "\(error)")
            sink.fail(e)
        }
        try scheduler.submit(job)
        return job
    }
}
