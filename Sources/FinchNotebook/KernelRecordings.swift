import Foundation

/// Recordings for other kernel sets. A 135M model's greedy words change with the last bits of its
/// matrix products, and OpenBLAS's kernel sets (SkylakeX on AVX-512, Haswell on AVX2) round
/// differently, so a notebook recorded on one replays to other words on the other. A notebook that
/// says which set its outputs came from (`<!-- finch-test: kernels=SkylakeX -->`) keeps the outputs
/// of each other set in a copy of itself, `<name>.assets/recorded-<set>.md`, written by
/// `finch run --write` on such a machine and compared by `finch test` there.
extension Notebook {
    /// Whether outputs made with `kernels` belong in a separate recording rather than in this file.
    public func recordsElsewhere(kernels: String) -> Bool {
        guard let own = testSettings.kernels else { return false }
        return own.lowercased() != kernels.lowercased()
    }

    /// Where the outputs made with kernel set `kernels` are kept.
    public func recordingPath(kernels: String) -> String {
        (assetsPath as NSString).appendingPathComponent("recorded-\(kernels.lowercased()).md")
    }

    /// The notebook whose recorded outputs a replay with `kernels` is compared with: this one, or
    /// the recording for that kernel set; nil when the notebook needs one and there is none yet.
    /// A recording whose cells are not this notebook's (the lesson changed since) is an error.
    public func recording(for kernels: String) throws -> Notebook? {
        guard recordsElsewhere(kernels: kernels) else { return self }
        let other = recordingPath(kernels: kernels)
        guard FileManager.default.fileExists(atPath: other) else { return nil }
        let recorded = try Notebook(contentsOf: other)
        let stale = zip(cells, recorded.cells).first { $0.code != $1.code }?.0.number
            ?? (cells.count == recorded.cells.count ? nil : min(cells.count, recorded.cells.count) + 1)
        if let stale {
            throw NotebookError(other, "its cell \(stale) is not \(path)'s: the notebook changed since it was recorded (`finch run --write \(path)` on a \(kernels) machine records it again)")
        }
        return recorded
    }
}
