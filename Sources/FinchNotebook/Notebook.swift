import Foundation

/// A Markdown notebook: the file's lines, kept exactly, and the finch cells found in them.
/// Everything that is not a cell, its options comment or its recorded output is prose and is
/// never touched (docs/notebooks.md has the format).
public struct Notebook: Sendable {
    /// Where it was read from (messages name it).
    public let path: String
    /// The file split at "\n"; joined with "\n" they give the file back byte for byte.
    public let lines: [String]
    public var cells: [Cell]
    /// File-level settings for `finch test`, from `<!-- finch-test: ... -->` comments.
    public var testSettings: TestSettings

    /// The folder of the notebook's figures and recordings as its links name it: `<name>.assets`.
    public var assetsLink: String { URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent + ".assets" }
    /// That folder's path, beside the notebook.
    public var assetsPath: String { ((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent(assetsLink) }

    /// One fenced `finch` block.
    public struct Cell: Sendable {
        /// 1-based, in the order of the file.
        public let number: Int
        public let code: String
        /// File line (1-based) of the first line of code, so errors point into the notebook.
        public let codeLine: Int
        /// File line of the opening fence.
        public let fenceLine: Int
        /// Index in `lines` of the closing fence; a new output goes after it.
        let closingIndex: Int
        /// Index in `lines` of its `<!-- cell: ... -->` comment, if it has one.
        let optionsIndex: Int?
        public let options: CellOptions
        /// What the file records as the cell's output, and the lines it spans.
        public internal(set) var recorded: Output?
        var recordedRange: Range<Int>?
    }

    /// Per-cell options, from `<!-- cell: ... -->` on the line before the cell.
    public struct CellOptions: Sendable, Equatable {
        /// Not run; its recorded output stays as it is.
        public var skip = false
        /// Run, but its output is not compared by `finch test`.
        public var ignoreOutput = false
        /// Expected to stop with an error; the error's message is its output.
        public var raises = false
        /// Seconds the cell may take before replay counts it as failed.
        public var timeout: Double? = nil
        public init() {}
    }

    /// Settings read from `<!-- finch-test: rtol=0.05 -->`, `<!-- finch-test: sanitize REGEX -->` and
    /// `<!-- finch-test: kernels=NAME -->`.
    public struct TestSettings: Sendable {
        public var rtol: Double? = nil
        public var sanitizers: [String] = []
        /// The OpenBLAS kernel set the outputs in the file were recorded with; nil when they do not depend on it.
        public var kernels: String? = nil
        public init() {}
    }
}

/// A cell's output: lines of text, and figures shown as image links among them.
public struct Output: Sendable, Equatable {
    public enum Part: Sendable, Equatable {
        case text([String])
        /// `![title](link)`, a figure written beside the notebook.
        case image(title: String, link: String)
    }
    public var parts: [Part]

    public init(parts: [Part]) { self.parts = parts.filter { if case .text(let l) = $0 { return !l.isEmpty }; return true } }

    /// The output as printed: image parts as their Markdown link lines.
    public var text: String {
        parts.map { part -> String in
            switch part {
            case .text(let lines): return lines.joined(separator: "\n") + "\n"
            case .image(let title, let link): return "![\(title)](\(link))\n"
            }
        }.joined()
    }

    public var isEmpty: Bool { parts.isEmpty }

    /// Splits printed output into text and the image links of figures in `assetsDirectory`.
    public init(printed: String, assetsDirectory: String?) {
        var lines = printed.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        var parts: [Part] = [], run: [String] = []
        for line in lines {
            if let assetsDirectory, let image = Self.imageLink(line), image.link.hasPrefix(assetsDirectory + "/") {
                if !run.isEmpty { parts.append(.text(run)); run = [] }
                parts.append(.image(title: image.title, link: image.link))
            } else {
                run.append(line)
            }
        }
        if !run.isEmpty { parts.append(.text(run)) }
        self.init(parts: parts)
    }

    /// `![title](link)` as a whole line, or nil.
    static func imageLink(_ line: String) -> (title: String, link: String)? {
        guard line.hasPrefix("!["), line.hasSuffix(")"), let close = line.range(of: "]("), !line.contains("\n") else { return nil }
        let title = String(line[line.index(line.startIndex, offsetBy: 2)..<close.lowerBound])
        let link = String(line[close.upperBound..<line.index(before: line.endIndex)])
        guard !link.isEmpty, !link.contains(" "), !link.contains(")") else { return nil }
        return (title, link)
    }
}

/// A malformed notebook, or one that cannot be read: the message names the file and line.
public struct NotebookError: Error, CustomStringConvertible {
    public let description: String
    public init(_ path: String, line: Int? = nil, _ message: String) {
        description = line.map { "\(path):\($0): \(message)" } ?? "\(path): \(message)"
    }
}
