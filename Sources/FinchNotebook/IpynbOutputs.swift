import Foundation

/// The outputs of an executed Jupyter notebook (nbclient, JupyterLab), read back as `Output`s so
/// that what the Finch kernel produced can be compared with a notebook's recorded outputs.
public enum IpynbOutputs {
    /// Each code cell's output, in order: streams and text results as lines, figures as images
    /// (titled, without a link: their pixels are not compared), errors as their traceback.
    public static func read(_ data: Data, path: String) throws -> [Output] {
        guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let cells = root["cells"] as? [[String: Any]] else {
            throw NotebookError(path, "not a Jupyter notebook (no cells)")
        }
        return cells.filter { $0["cell_type"] as? String == "code" }.map { cell in
            var printed = ""
            var parts: [Output.Part] = []
            func flush() {
                if !printed.isEmpty { parts += Output(printed: printed, assetsDirectory: nil).parts }
                printed = ""
            }
            for o in cell["outputs"] as? [[String: Any]] ?? [] {
                let data = o["data"] as? [String: Any] ?? [:]
                switch o["output_type"] as? String {
                case "stream": printed += text(o["text"])
                case "execute_result", "display_data":
                    if data["image/png"] != nil {
                        flush()
                        let title = text(data["text/plain"])
                        parts.append(.image(title: title.hasPrefix("<figure: ") ? String(title.dropFirst(9).dropLast()) : title, link: ""))
                    } else {
                        let t = text(data["text/plain"])
                        printed += t.hasSuffix("\n") ? t : t + "\n"
                    }
                case "error": printed += (o["traceback"] as? [String] ?? []).joined(separator: "\n") + "\n"
                default: break
                }
            }
            flush()
            return Output(parts: parts)
        }
    }

    /// Jupyter's text: a string or a list of lines.
    static func text(_ value: Any?) -> String {
        if let s = value as? String { return s }
        return (value as? [String] ?? []).joined()
    }
}

extension Output {
    /// The output as compared across front ends: figures by title only (`[figure: title]`),
    /// since where a figure's file lives is not part of what a cell shows.
    public var textWithFigureTitles: String {
        parts.map { part -> String in
            switch part {
            case .text(let lines): return lines.joined(separator: "\n") + "\n"
            case .image(let title, _): return "[figure: \(title)]\n"
            }
        }.joined()
    }
}
