import FinchData
import NIOCore
import NIOHTTP1

/// One HTTP connection: reads a request (refusing bodies over the server's limit with 413),
/// hands it to the server, and cancels its generation if the client goes away.
final class HTTPHandler: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let server: OpenAIServer
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var refused = false
    private var job: DecodeScheduler.Job?

    init(server: OpenAIServer) { self.server = server }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body = []
            refused = false
            if let length = h.headers.first(name: "content-length").flatMap(Int.init), length > server.maxBodyBytes { refuse(context) }
        case .body(var buffer):
            guard !refused else { return }
            if body.count + buffer.readableBytes > server.maxBodyBytes { return refuse(context) }
            body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            guard !refused, let head else { return }
            let sink = ConnectionSink(channel: context.channel, keepAlive: head.isKeepAlive, version: head.version)
            job = server.handle(method: head.method.rawValue, path: head.uri, authorization: head.headers.first(name: "authorization"),
                                body: body, sink: sink)
            body = []
        }
    }

    private func refuse(_ context: ChannelHandlerContext) {
        refused = true
        body = []
        let sink = ConnectionSink(channel: context.channel, keepAlive: false, version: head?.version ?? .http1_1)
        sink.fail(ServeError(413, "the request body is larger than this server's limit of \(server.maxBodyBytes) bytes"))
    }

    func channelInactive(context: ChannelHandlerContext) {
        job?.cancel()
        job = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        job?.cancel()
        context.close(promise: nil)
    }
}

/// Writes one response to a connection, from whichever thread produces it.
final class ConnectionSink: ResponseSink, @unchecked Sendable {
    let channel: Channel
    let keepAlive: Bool
    let version: HTTPVersion
    /// Touched on the channel's event loop only.
    private var streaming = false

    init(channel: Channel, keepAlive: Bool, version: HTTPVersion) {
        self.channel = channel
        self.keepAlive = keepAlive
        self.version = version
    }

    private func onLoop(_ body: @escaping () -> Void) {
        if channel.eventLoop.inEventLoop { body() } else { channel.eventLoop.execute(body) }
    }

    private func write(_ part: HTTPServerResponsePart) { channel.write(part, promise: nil) }

    private func end(close: Bool) {
        let done = channel.writeAndFlush(HTTPServerResponsePart.end(nil))
        if close { done.whenComplete { [channel] _ in channel.close(promise: nil) } }
    }

    func respond(status: Int, json: DataValue) {
        onLoop { [self] in
            if streaming {
                // Headers are gone: the error becomes the stream's last event.
                write(.body(.byteBuffer(ByteBuffer(string: "data: " + JSONWriter.write(json) + "\n\n"))))
                streaming = false
                return end(close: !keepAlive)
            }
            let bytes = ByteBuffer(string: JSONWriter.write(json) + "\n")
            var headers = HTTPHeaders([("content-type", "application/json"), ("content-length", String(bytes.readableBytes))])
            if !keepAlive { headers.add(name: "connection", value: "close") }
            write(.head(HTTPResponseHead(version: version, status: HTTPResponseStatus(statusCode: status), headers: headers)))
            write(.body(.byteBuffer(bytes)))
            end(close: !keepAlive)
        }
    }

    func startEvents() {
        onLoop { [self] in
            streaming = true
            let headers = HTTPHeaders([("content-type", "text/event-stream"), ("cache-control", "no-cache")])
            write(.head(HTTPResponseHead(version: version, status: .ok, headers: headers)))
            channel.flush()
        }
    }

    func event(_ json: DataValue) {
        let text = "data: " + JSONWriter.write(json) + "\n\n"
        onLoop { [self] in channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: text))), promise: nil) }
    }

    func endEvents() {
        onLoop { [self] in
            streaming = false
            write(.body(.byteBuffer(ByteBuffer(string: "data: [DONE]\n\n"))))
            end(close: !keepAlive)
        }
    }
}
