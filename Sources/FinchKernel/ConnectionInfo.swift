import Foundation

/// The connection file Jupyter writes for a kernel: where to listen and how to sign.
struct ConnectionInfo: Decodable {
    let transport: String
    let ip: String
    let shellPort: Int, iopubPort: Int, stdinPort: Int, controlPort: Int, hbPort: Int
    let key: String
    let signatureScheme: String

    enum CodingKeys: String, CodingKey {
        case transport, ip, key
        case shellPort = "shell_port", iopubPort = "iopub_port", stdinPort = "stdin_port", controlPort = "control_port", hbPort = "hb_port"
        case signatureScheme = "signature_scheme"
    }

    /// Reads `path`; the error names the file and what is missing or wrong.
    static func read(_ path: String) throws -> ConnectionInfo {
        guard let data = FileManager.default.contents(atPath: path) else { throw KernelError("cannot read the connection file \(path)") }
        do {
            let info = try JSONDecoder().decode(ConnectionInfo.self, from: data)
            guard info.transport == "tcp" else { throw KernelError("\(path): transport \(info.transport) is not supported (tcp is)") }
            return info
        } catch let e as KernelError {
            throw e
        } catch DecodingError.keyNotFound(let key, _) {
            throw KernelError("\(path): the connection file has no \(key.stringValue)")
        } catch {
            throw KernelError("\(path): not a Jupyter connection file (\(error))")
        }
    }

    func endpoint(_ port: Int) -> String { "\(transport)://\(ip):\(port)" }
}
