import FinchIO
import Foundation

extension Notebook {
    /// The notebook as Jupyter's format (nbformat 4.5): prose as Markdown cells, each finch cell
    /// a code cell with its recorded output as a stream and its figures embedded as PNG data.
    public func ipynb() throws -> Data {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        var cellOwner = [Int](repeating: -1, count: lines.count)  // the finch cell a line belongs to, or -1 for prose
        var hidden = Set<Int>()  // finch-test comments: settings for `finch test`, not prose
        for (k, c) in cells.enumerated() {
            for i in (c.fenceLine - 1)...c.closingIndex { cellOwner[i] = k }
            if let o = c.optionsIndex { cellOwner[o] = k }
            if let r = c.recordedRange { for i in r { cellOwner[i] = k } }
        }
        for (i, l) in lines.enumerated() where l.trimmingCharacters(in: .whitespaces).hasPrefix("<!-- finch-test:") { hidden.insert(i) }

        var out: [[String: Any]] = []
        var prose: [String] = []
        func flushProse() {
            while prose.first?.trimmingCharacters(in: .whitespaces).isEmpty == true { prose.removeFirst() }
            while prose.last?.trimmingCharacters(in: .whitespaces).isEmpty == true { prose.removeLast() }
            if !prose.isEmpty {
                out.append(["cell_type": "markdown", "id": "md-\(out.count + 1)", "metadata": [String: Any](), "source": Self.sourceLines(prose.joined(separator: "\n"))])
            }
            prose = []
        }
        var done = Set<Int>()
        for (i, line) in lines.enumerated() {
            let k = cellOwner[i]
            if k < 0 {
                if !hidden.contains(i) { prose.append(line) }
                continue
            }
            guard !done.contains(k) else { continue }
            done.insert(k)
            flushProse()
            let c = cells[k]
            var outputs: [[String: Any]] = []
            for part in c.recorded?.parts ?? [] {
                switch part {
                case .text(let l):
                    outputs.append(["output_type": "stream", "name": "stdout", "text": Self.sourceLines(l.joined(separator: "\n") + "\n")])
                case .image(let title, let link):
                    let file = directory.appendingPathComponent(link)
                    guard let png = FileManager.default.contents(atPath: file.path) else {
                        throw NotebookError(path, line: (c.recordedRange?.lowerBound ?? 0) + 1, "cell \(c.number)'s figure \(link) is missing (run the notebook with --write first)")
                    }
                    outputs.append(["output_type": "display_data", "metadata": [String: Any](),
                                    "data": ["image/png": png.base64EncodedString(), "text/plain": [title]]])
                }
            }
            var metadata: [String: Any] = [:]
            var tags: [String] = []
            if c.options.skip { tags.append("skip") }
            if c.options.ignoreOutput { tags.append("ignore-output") }
            if c.options.raises { tags.append("raises-exception") }
            if !tags.isEmpty { metadata["tags"] = tags }
            out.append(["cell_type": "code", "id": "cell-\(c.number)", "execution_count": c.number, "metadata": metadata,
                        "source": Self.sourceLines(c.code), "outputs": outputs])
        }
        flushProse()
        let root: [String: Any] = [
            "cells": out,
            "metadata": ["kernelspec": ["name": "finch", "display_name": "Finch", "language": "finch"],
                         "language_info": ["name": "finch", "file_extension": ".finch"]],
            "nbformat": 4, "nbformat_minor": 5,
        ]
        return try JSONSerialization.data(withJSONObject: root, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    }

    /// Writes the Jupyter notebook atomically.
    public func exportIpynb(to target: String) throws {
        try AtomicFile.write(try ipynb(), to: target)
    }

    /// Jupyter's multi-line strings: a list of lines, each but the last ending in "\n".
    static func sourceLines(_ text: String) -> [String] {
        var lines = text.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        return lines.enumerated().map { i, l in i < lines.count - 1 || text.hasSuffix("\n") ? l + "\n" : l }
    }
}
