import Foundation

/// A plain HTTP/1.1 client over a POSIX socket to a server on this machine (127.0.0.1 only), for
/// `finch bench serve`, the tests, and the language's `server.request`: it shows exactly what the server sends (status, headers, chunked
/// server-sent events), can read an answer as it streams, and can hang up in the middle.
public final class LoopbackClient {
    public struct Response {
        public var status: Int
        public var headers: [String: String]
        public var body: String
        /// The `data:` payloads of an event stream, in order.
        public var events: [String] {
            body.components(separatedBy: "\n\n").compactMap { $0.hasPrefix("data: ") ? String($0.dropFirst(6)) : nil }
        }
        public var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:] }
    }

    public let fd: Int32
    private var buffer: [UInt8] = []
    /// Where recv writes, kept between reads: a stream arrives in many small chunks.
    private var chunk = [UInt8](repeating: 0, count: 65536)

    public init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { close(fd); throw POSIXError(.ECONNREFUSED) }
    }

    deinit { close(fd) }

    /// What has arrived so far.
    public var received: [UInt8] { buffer }

    public func send(_ method: String, _ path: String, body: String? = nil, headers: [String: String] = [:]) {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        for (k, v) in headers { text += "\(k): \(v)\r\n" }
        if let body { text += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n" }
        text += "\r\n" + (body ?? "")
        sendRaw(Array(text.utf8))
    }

    public func sendRaw(_ bytes: [UInt8]) {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            sent += n
        }
    }

    /// Reads until the server closes the connection, and decodes the response.
    public func readResponse() -> Response {
        while readMore() {}
        return Self.parse(buffer)
    }

    /// Reads until `text` has arrived (or the connection ends); returns what arrived.
    public func read(until text: String) -> String {
        while !String(decoding: buffer, as: UTF8.self).contains(text), readMore() {}
        return String(decoding: buffer, as: UTF8.self)
    }

    /// Reads what has arrived (waiting for something); false when the connection has ended.
    public func readMore() -> Bool {
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return false }
        buffer += chunk[..<n]
        return true
    }

    static func parse(_ bytes: [UInt8]) -> Response {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { return Response(status: 0, headers: [:], body: text) }
        let lines = text[..<split.lowerBound].components(separatedBy: "\r\n")
        let status = Int(lines[0].split(separator: " ")[1]) ?? 0
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            if let colon = line.firstIndex(of: ":") {
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        var body = String(text[split.upperBound...])
        if headers["transfer-encoding"] == "chunked" {
            // size in hex, CRLF, the bytes, CRLF; a size of 0 ends the body.
            var decoded: [UInt8] = [], rest = Array(body.utf8)[...]
            while let cr = rest.firstIndex(of: 0x0D), let size = Int(String(decoding: rest[..<cr], as: UTF8.self), radix: 16), size > 0,
                  cr + 2 + size <= rest.endIndex {
                decoded += rest[(cr + 2)..<(cr + 2 + size)]
                rest = rest[(cr + 2 + size + 2)...]
            }
            body = String(decoding: decoded, as: UTF8.self)
        }
        return Response(status: status, headers: headers, body: body)
    }

    /// One request on a fresh connection.
    public static func request(_ port: Int, _ method: String, _ path: String, body: String? = nil, headers: [String: String] = [:]) throws -> Response {
        let c = try LoopbackClient(port: port)
        c.send(method, path, body: body, headers: headers)
        return c.readResponse()
    }

    /// Runs `body(0..<n)` on n threads at once and waits for all: n clients really at the same
    /// time (DispatchQueue.concurrentPerform runs no more at once than there are cores).
    public static func concurrently(_ n: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let group = DispatchGroup()
        for i in 0..<n {
            group.enter()
            Thread {
                body(i)
                group.leave()
            }.start()
        }
        group.wait()
    }
}
