import FinchLang
import FinchLib
import Foundation

/// Runs cells for the kernel in one interpreter session and answers the questions Jupyter asks
/// about code (is it complete, what completes it, what is this name), with the REPL's own
/// parser, completer and help.
final class CellExecutor {
    let interpreter: Interpreter
    private(set) var executionCount = 0
    private(set) var history: [(count: Int, code: String)] = []
    /// Where the cells' figures are written before they are sent as image/png.
    let figures: String

    enum Event {
        case stream(String)
        case display(JSONObject)
        /// A display shown under an id: new (display_data) or replacing itself (update_display_data).
        case live(id: String, data: JSONObject, update: Bool)
    }

    /// The interpreter's live display during a cell: training's progress and curve, by id.
    final class Live: LiveDisplay {
        let emit: (Event) -> Void
        private var shown = Set<String>()
        init(_ emit: @escaping (Event) -> Void) { self.emit = emit }

        func show(_ id: String, text: String) { send(id, ["text/plain": text]) }

        func show(_ id: String, imageAt path: String, title: String) {
            guard let png = FileManager.default.contents(atPath: path) else { return }
            send(id, ["image/png": png.base64EncodedString(), "text/plain": "<figure: \(title)>"])
        }

        private func send(_ id: String, _ data: JSONObject) {
            emit(.live(id: id, data: data, update: !shown.insert(id).inserted))
        }
    }

    enum Outcome {
        /// The cell's value as a MIME bundle (nil when there is none to show).
        case value(JSONObject?)
        case error(name: String, value: String, traceback: [String])
    }

    init(interpreter: Interpreter) {
        self.interpreter = interpreter
        figures = NSTemporaryDirectory() + "finch-kernel-\(getpid())"
        try? FileManager.default.createDirectory(atPath: figures, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: figures) }

    /// The execution count this request gets: a new one when it is stored in the history.
    func nextCount(storing: Bool) -> Int {
        if storing { executionCount += 1 }
        return executionCount
    }

    /// Runs `code`, telling `emit` what it prints and draws as it happens.
    func run(_ code: String, count: Int, store: Bool, emit: @escaping (Event) -> Void) -> Outcome {
        if store { history.append((count, code)) }
        let previous = interpreter.output
        interpreter.output = { [figures] text in
            // A figure's image link (plot writes it as one output of its own) becomes the picture.
            if text.hasPrefix("!["), let figure = Self.figure(text.trimmingCharacters(in: .newlines), in: figures) {
                emit(.display(figure))
            } else {
                emit(.stream(text))
            }
        }
        interpreter.liveDisplay = Live(emit)
        defer {
            interpreter.output = previous
            interpreter.liveDisplay = nil
        }
        interpreter.figureDestination = .files(directory: figures, linkDirectory: figures, prefix: "out-\(count)")
        interpreter.figuresWritten = 0
        interpreter.resultShown = false
        Interrupt.reset()
        do {
            guard let value = try interpreter.run(code, name: "<cell \(count)>") else { return .value(nil) }
            if case .nil = value { return .value(nil) }
            interpreter.define("_", value)
            return .value(interpreter.resultShown ? nil : RichOutput.bundle(value))
        } catch let e as FinchError {
            let name = e.kind == .syntax ? "SyntaxError" : (e.kind == .interrupted ? "Interrupted" : "Error")
            return .error(name: name, value: e.message, traceback: e.description.components(separatedBy: "\n"))
        } catch {
            return .error(name: "Error", value: String(describing: error), traceback: [String(describing: error)])
        }
    }

    /// `![title](path.png)` of a figure written under `directory`: its PNG and title as a bundle.
    static func figure(_ line: String, in directory: String) -> JSONObject? {
        guard let split = line.range(of: "]("), line.hasSuffix(")") else { return nil }
        let title = String(line[line.index(line.startIndex, offsetBy: 2)..<split.lowerBound])
        let path = String(line[split.upperBound..<line.index(before: line.endIndex)])
        guard path.hasPrefix(directory + "/"), let png = FileManager.default.contents(atPath: path) else { return nil }
        return ["image/png": png.base64EncodedString(), "text/plain": "<figure: \(title)>"]
    }

    /// is_complete_request: "incomplete" while a bracket, string or block is open (the REPL's rule).
    func isComplete(_ code: String) -> JSONObject {
        guard let error = Interpreter.parses(code) else { return ["status": "complete"] }
        return error.incomplete ? ["status": "incomplete", "indent": "    "] : ["status": "invalid"]
    }

    /// complete_request: the REPL's Tab candidates for the word before the cursor (code points).
    func complete(_ code: String, cursor: Int) -> JSONObject {
        let scalars = Array(code.unicodeScalars)
        let cursor = max(0, min(cursor, scalars.count))
        var start = cursor
        while start > 0, Self.isNameScalar(scalars[start - 1]) { start -= 1 }
        let prefix = String(String.UnicodeScalarView(scalars[..<cursor]))
        let matches = Completer(interpreter: interpreter).complete(line: prefix, cursor: prefix.count)
        return ["status": "ok", "matches": matches, "cursor_start": start, "cursor_end": cursor, "metadata": JSONObject()]
    }

    /// inspect_request: help() on the name (or `value.member`) at the cursor.
    func inspect(_ code: String, cursor: Int) -> JSONObject {
        let scalars = Array(code.unicodeScalars)
        let cursor = max(0, min(cursor, scalars.count))
        var start = cursor, end = cursor
        while start > 0, Self.isNameScalar(scalars[start - 1]) || scalars[start - 1] == "." { start -= 1 }
        while end < scalars.count, Self.isNameScalar(scalars[end]) { end += 1 }
        let path = String(String.UnicodeScalarView(scalars[start..<end])).split(separator: ".").map(String.init)
        guard let first = path.first, var value = interpreter.global(first) else {
            return ["status": "ok", "found": false, "data": JSONObject(), "metadata": JSONObject()]
        }
        for name in path.dropFirst() {
            guard let next = interpreter.method(of: value, named: name) else { break }
            value = next
        }
        return ["status": "ok", "found": true, "data": ["text/plain": interpreter.helpText(for: value)], "metadata": JSONObject()]
    }

    static func isNameScalar(_ s: Unicode.Scalar) -> Bool {
        s == "_" || s.properties.isAlphabetic || ("0"..."9").contains(s)
    }
}
