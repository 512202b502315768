import Foundation

/// What the kernel says of itself (kernel_info_reply) and writes in its kernelspec.
public enum KernelInfo {
    /// The version the finch executable reports, set by it at start.
    nonisolated(unsafe) public static var finchVersion = "0"

    static var content: JSONObject {
        ["status": "ok", "protocol_version": "5.3", "implementation": "finch", "implementation_version": finchVersion,
         "language_info": languageInfo, "banner": "Finch \(finchVersion) — a finetuning lab", "help_links": [Any]()]
    }

    /// Finch's syntax is close enough to JavaScript's (braces, `fn`, strings, numbers, // and #
    /// comments aside) for CodeMirror and Pygments to colour it reasonably.
    static var languageInfo: JSONObject {
        ["name": "finch", "version": finchVersion, "mimetype": "text/x-finch", "file_extension": ".finch",
         "pygments_lexer": "javascript", "codemirror_mode": "javascript", "nbconvert_exporter": "script"]
    }
}
