import Foundation

extension Notebook {
    /// Reads a notebook file.
    public init(contentsOf path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw NotebookError(path, "cannot read the file") }
        guard let text = String(data: data, encoding: .utf8) else { throw NotebookError(path, "the file is not UTF-8 text") }
        try self.init(parsing: text, path: path)
    }

    /// Parses Markdown: finch cells, their options and recorded outputs; anything malformed is
    /// an error with its line (an unclosed fence, an output with no cell before it, an unknown option).
    public init(parsing text: String, path: String) throws {
        let lines = text.components(separatedBy: "\n")
        var cells: [Cell] = []
        var settings = TestSettings()
        var pendingOptions: (options: CellOptions, line: Int)? = nil
        // The cell whose closing fence came last, with only blank lines since: an output may follow it.
        var openCell: Int? = nil

        func fail(_ index: Int, _ message: String) -> NotebookError { NotebookError(path, line: index + 1, message) }
        func noCellAfterOptions() -> NotebookError {
            NotebookError(path, line: pendingOptions!.line, "these cell options are not followed by a finch cell")
        }
        /// The index of the fence closing the block opened at `i` with `width` backticks.
        func closing(_ i: Int, width: Int) throws -> Int {
            var j = i + 1
            while j < lines.count {
                let t = lines[j].trimmingCharacters(in: .whitespaces)
                if t.count >= width && t.allSatisfy({ $0 == "`" }) { return j }
                j += 1
            }
            throw fail(i, "the \(String(repeating: "`", count: width)) fence opened here is never closed")
        }

        var i = 0
        while i < lines.count {
            let line = lines[i]
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if let fence = Self.openingFence(line) {
                let j = try closing(i, width: fence.width)
                if fence.info.split(separator: " ").first == "finch" {
                    let options = pendingOptions?.options ?? CellOptions()
                    let optionsIndex = pendingOptions.map { $0.line - 1 }
                    pendingOptions = nil
                    cells.append(Cell(number: cells.count + 1, code: lines[(i + 1)..<j].joined(separator: "\n"), codeLine: i + 2,
                                      fenceLine: i + 1, closingIndex: j, optionsIndex: optionsIndex, options: options, recorded: nil, recordedRange: nil))
                    openCell = cells.count - 1
                } else {
                    if pendingOptions != nil { throw noCellAfterOptions() }
                    openCell = nil
                }
                i = j + 1
                continue
            }
            if trimmed == "<!-- output -->" {
                if pendingOptions != nil { throw noCellAfterOptions() }
                guard let c = openCell else { throw fail(i, "an output block with no finch cell before it") }
                var parts: [Output.Part] = [], k = i + 1
                while k < lines.count {
                    if let f = Self.openingFence(lines[k]) {
                        let close = try closing(k, width: f.width)
                        parts.append(.text(Array(lines[(k + 1)..<close])))
                        k = close + 1
                    } else if let image = Output.imageLink(lines[k]) {
                        parts.append(.image(title: image.title, link: image.link))
                        k += 1
                    } else { break }
                }
                guard k > i + 1 else { throw fail(i, "<!-- output --> must be followed by a fenced block (or image links)") }
                cells[c].recorded = Output(parts: parts)
                cells[c].recordedRange = i..<k
                openCell = nil
                i = k
                continue
            }
            if trimmed.hasPrefix("<!-- cell:") {
                guard trimmed.hasSuffix("-->") else { throw fail(i, "a cell options comment must end with --> on the same line") }
                if pendingOptions != nil { throw fail(i, "two cell options comments in a row; put all the options in one") }
                pendingOptions = (try Self.options(String(trimmed.dropFirst(10).dropLast(3)), { fail(i, $0) }), i + 1)
                openCell = nil
                i += 1
                continue
            }
            if trimmed.hasPrefix("<!-- finch-test:") {
                guard trimmed.hasSuffix("-->") else { throw fail(i, "a finch-test comment must end with --> on the same line") }
                try Self.setting(String(trimmed.dropFirst(16).dropLast(3)).trimmingCharacters(in: .whitespaces), into: &settings, { fail(i, $0) })
                i += 1
                continue
            }
            if !trimmed.isEmpty {
                if pendingOptions != nil { throw noCellAfterOptions() }
                openCell = nil
            }
            i += 1
        }
        if pendingOptions != nil { throw noCellAfterOptions() }
        self.path = path
        self.lines = lines
        self.cells = cells
        self.testSettings = settings
    }

    /// A line opening a fenced block: three or more backticks, then the info string.
    static func openingFence(_ line: String) -> (width: Int, info: String)? {
        guard line.hasPrefix("```") else { return nil }
        let width = line.prefix { $0 == "`" }.count
        let info = line.dropFirst(width).trimmingCharacters(in: .whitespaces)
        guard !info.contains("`") else { return nil }
        return (width, info)
    }

    static func options(_ text: String, _ fail: (String) -> NotebookError) throws -> CellOptions {
        var o = CellOptions()
        for word in text.split(whereSeparator: { $0 == " " || $0 == "," }) {
            switch word {
            case "skip": o.skip = true
            case "ignore-output": o.ignoreOutput = true
            case "raises": o.raises = true
            default:
                if word.hasPrefix("timeout=") {
                    guard let t = Double(word.dropFirst(8)), t > 0 else { throw fail("timeout must be a positive number of seconds, got \"\(word.dropFirst(8))\"") }
                    o.timeout = t
                } else {
                    throw fail("unknown cell option \"\(word)\" (the options: skip, ignore-output, raises, timeout=SECONDS)")
                }
            }
        }
        return o
    }

    static func setting(_ text: String, into s: inout TestSettings, _ fail: (String) -> NotebookError) throws {
        if text.hasPrefix("rtol=") {
            guard let r = Double(text.dropFirst(5)), r >= 0 else { throw fail("rtol must be a non-negative number, got \"\(text.dropFirst(5))\"") }
            s.rtol = r
        } else if text.hasPrefix("kernels=") {
            let name = String(text.dropFirst(8))
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber }) else { throw fail("kernels= needs an OpenBLAS kernel set's name (such as SkylakeX), got \"\(name)\"") }
            s.kernels = name
        } else if text.hasPrefix("sanitize ") {
            let pattern = text.dropFirst(9).trimmingCharacters(in: .whitespaces)
            do { _ = try NSRegularExpression(pattern: pattern) } catch { throw fail("the sanitize pattern \(pattern) is not a regular expression") }
            s.sanitizers.append(pattern)
        } else {
            throw fail("unknown finch-test setting \"\(text)\" (the settings: rtol=NUMBER, sanitize REGEX, kernels=NAME)")
        }
    }
}
