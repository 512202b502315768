import FinchIO
import Foundation

extension Notebook {
    /// The notebook's text with `outputs` (by cell number) in place of the recorded ones; cells
    /// not in `outputs` keep theirs. Prose and code come through byte for byte; an empty output
    /// removes the block.
    public func text(replacingOutputs outputs: [Int: Output]) -> String {
        var byRecordedStart: [Int: Cell] = [:], byClosing: [Int: Cell] = [:]
        for c in cells {
            if let r = c.recordedRange { byRecordedStart[r.lowerBound] = c } else { byClosing[c.closingIndex] = c }
        }
        var result: [String] = []
        var i = 0
        while i < lines.count {
            if let c = byRecordedStart[i], let new = outputs[c.number] {
                result += new.markdownLines
                i = c.recordedRange!.upperBound
                continue
            }
            result.append(lines[i])
            if let c = byClosing[i], let new = outputs[c.number] { result += new.markdownLines }
            i += 1
        }
        return result.joined(separator: "\n")
    }

    /// Writes the notebook with new outputs atomically: the old file stays whole until the new one is complete.
    public func write(replacingOutputs outputs: [Int: Output], to path: String? = nil) throws {
        try AtomicFile.write(text(replacingOutputs: outputs), to: path ?? self.path)
    }

    /// A fenced block of `text` tagged `tag`, its fence longer than any run of backticks inside.
    public static func fenced(_ text: String, tag: String) -> [String] {
        var longest = 0, run = 0
        for ch in text { if ch == "`" { run += 1; longest = max(longest, run) } else { run = 0 } }
        let fence = String(repeating: "`", count: max(3, longest + 1))
        return [fence + tag] + text.components(separatedBy: "\n") + [fence]
    }
}

extension Output {
    /// The output as the notebook records it: the marker, a fenced block per run of text, and
    /// figure links on lines of their own so they render as images; nothing when empty.
    public var markdownLines: [String] {
        guard !isEmpty else { return [] }
        var out = ["<!-- output -->"]
        for part in parts {
            switch part {
            case .text(let lines): out += Notebook.fenced(lines.joined(separator: "\n"), tag: "")
            case .image(let title, let link): out.append("![\(title)](\(link))")
            }
        }
        return out
    }
}
