import Crypto
import Foundation

/// A JSON object as Jupyter's messages carry it (decoded with JSONSerialization).
typealias JSONObject = [String: Any]

/// One message of the Jupyter messaging protocol (5.3) as it travels on a socket: the routing
/// identities, the "<IDS|MSG>" delimiter, the HMAC signature, then header, parent header,
/// metadata and content as JSON, and any binary buffers.
struct JupyterMessage: @unchecked Sendable {
    var identities: [Data] = []
    var header: JSONObject
    var parentHeader: JSONObject = [:]
    var metadata: JSONObject = [:]
    var content: JSONObject
    var buffers: [Data] = []

    var type: String { header["msg_type"] as? String ?? "" }

    static let delimiter = Data("<IDS|MSG>".utf8)

    /// A new message of `type` in `session`, answering `parent` (its header becomes our parent
    /// header, and a reply goes back to its identities).
    init(type: String, session: String, content: JSONObject, parent: JupyterMessage? = nil) {
        header = ["msg_id": UUID().uuidString.lowercased(), "session": session, "username": "finch",
                  "date": ISO8601DateFormatter.jupyter.string(from: Date()), "msg_type": type, "version": "5.3"]
        parentHeader = parent?.header ?? [:]
        identities = parent?.identities ?? []
        self.content = content
    }

    /// Decodes and checks a received message; the error says what was wrong with it.
    init(frames: [Data], signer: MessageSigner) throws {
        guard let split = frames.firstIndex(of: Self.delimiter) else { throw KernelError("no <IDS|MSG> delimiter among \(frames.count) frames") }
        guard frames.count >= split + 6 else { throw KernelError("\(frames.count - split - 1) frames after the delimiter; a message has at least 5") }
        let parts = Array(frames[(split + 2)...(split + 5)])
        let signature = String(decoding: frames[split + 1], as: UTF8.self)
        guard signer.verify(signature, parts) else { throw KernelError("bad signature") }
        func object(_ data: Data, _ name: String) throws -> JSONObject {
            guard let value = try? JSONSerialization.jsonObject(with: data), let o = value as? JSONObject else {
                throw KernelError("the \(name) is not a JSON object: \(String(decoding: data.prefix(80), as: UTF8.self))")
            }
            return o
        }
        identities = Array(frames[..<split])
        header = try object(parts[0], "header")
        parentHeader = try object(parts[1], "parent header")
        metadata = try object(parts[2], "metadata")
        content = try object(parts[3], "content")
        buffers = Array(frames[(split + 6)...])
        guard header["msg_type"] is String else { throw KernelError("the header has no msg_type") }
    }

    /// The frames to send, signed.
    func frames(signer: MessageSigner) throws -> [Data] {
        let parts = try [header, parentHeader, metadata, content].map { try JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys]) }
        return identities + [Self.delimiter, Data(signer.sign(parts).utf8)] + parts + buffers
    }
}

/// HMAC-SHA256 over a message's four JSON parts with the connection file's key, as hex
/// (swift-crypto's HMAC; an empty key means unsigned messages, as Jupyter allows).
struct MessageSigner {
    let key: SymmetricKey?

    init(key: String, scheme: String) throws {
        guard scheme == "hmac-sha256" || key.isEmpty else { throw KernelError("signature_scheme \(scheme) is not supported (hmac-sha256 is)") }
        self.key = key.isEmpty ? nil : SymmetricKey(data: Data(key.utf8))
    }

    func sign(_ parts: [Data]) -> String {
        guard let key else { return "" }
        var mac = HMAC<SHA256>(key: key)
        for p in parts { mac.update(data: p) }
        return mac.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// Whether `signature` (hex) is the parts' own, compared in constant time by swift-crypto.
    func verify(_ signature: String, _ parts: [Data]) -> Bool {
        guard let key else { return true }
        guard let bytes = Data(hex: signature) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(bytes, authenticating: parts.reduce(Data(), +), using: key)
    }
}

/// A message or connection file the kernel refuses, with the reason.
struct KernelError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension Data {
    /// Bytes from an even-length hex string; nil for anything else.
    init?(hex: String) {
        let chars = Array(hex.utf8)
        guard chars.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(chars.count / 2)
        for i in stride(from: 0, to: chars.count, by: 2) {
            guard let b = UInt8(String(decoding: chars[i..<i + 2], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(b)
        }
        self.init(bytes)
    }
}

extension ISO8601DateFormatter {
    /// Jupyter's header dates: ISO 8601 with fractional seconds, in UTC.
    nonisolated(unsafe) static let jupyter: ISO8601DateFormatter = {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f
    }()
}
