import Foundation

/// Where Finch keeps downloaded models: FINCH_HOME, default ~/.cache/finch.
public enum ModelStore {
    public static var home: String {
        if let h = ProcessInfo.processInfo.environment["FINCH_HOME"], !h.isEmpty { return h }
        return (ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()) + "/.cache/finch"
    }

    /// The SmolLM2-135M-Instruct GGUF, if it has been fetched (scripts/fetch-model.sh).
    public static var smolLM2Path: String { home + "/models/SmolLM2-135M-Instruct.Q4_1.gguf" }
}
