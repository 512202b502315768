/// A request the server answers with an error status and OpenAI's error object.
public struct ServeError: Error, CustomStringConvertible, Sendable {
    public let status: Int
    public let message: String
    /// The request field at fault, if one is.
    public let param: String?
    public let type: String

    public init(_ status: Int, _ message: String, param: String? = nil) {
        self.status = status
        self.message = message
        self.param = param
        type = switch status {
        case 401: "authentication_error"
        case 404: "not_found_error"
        case 413: "request_too_large"
        case 500...: "server_error"
        default: "invalid_request_error"
        }
    }

    public var description: String { "\(status): \(message)" }

    static func bad(_ message: String, param: String? = nil) -> ServeError { ServeError(400, message, param: param) }
}
