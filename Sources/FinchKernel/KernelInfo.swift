import Foundation

/// What the kernel says of itself (kernel_info_reply) and writes in its kernelspec.
public enum KernelInfo {
    /// The version the finch executable reports, set by it at start.
    nonisolated(unsafe) public static var finchVersion = "0"

    static var content: JSONObject {
        ["status": "ok", "protocol_version": "5.3", "implementation": "finch", "implementation_version": finchVersion,
         "language_info": languageInfo, "banner": "Finch \(finchVersion) — a finetuning lab", "help_links": [Any]()]
    }

    /// Neither CodeMirror nor Pygments knows Finch; Ruby's modes colour it best of those they
    /// have: `#` comments, `nil`, `true`/`false`, `if`/`else`/`while`/`for`/`in`/`return`, strings
    /// and numbers (JavaScript's would show every `#` comment as code).
    static var languageInfo: JSONObject {
        ["name": "finch", "version": finchVersion, "mimetype": "text/x-finch", "file_extension": ".finch",
         "pygments_lexer": "ruby", "codemirror_mode": "ruby", "nbconvert_exporter": "script"]
    }
}
