import FinchLang
import Foundation

/// The interactive prompt: reads entries (several lines while brackets or
/// strings are open), runs them, prints values, and answers `:` commands.
public final class REPL {
    let interpreter: Interpreter
    let editor: LineEditor
    var record = SessionRecord()
    /// Globals that existed before the session (built-ins, prelude), hidden from :vars.
    let startupNames: Set<String>
    let colors: Bool
    /// The session so far as a notebook, rewritten after every entry: if Finch itself dies (a bug
    /// in a kernel, not an error in your code), the finished entries and their output are there.
    let autosavePath: String

    public init(interpreter: Interpreter, historyPath: String) {
        self.interpreter = interpreter
        autosavePath = URL(fileURLWithPath: historyPath).deletingLastPathComponent().appendingPathComponent(".finch_session.md").path
        let completer = Completer(interpreter: interpreter)
        editor = LineEditor(historyPath: historyPath) { line, cursor in completer.complete(line: line, cursor: cursor) }
        startupNames = Set(interpreter.globalNames)
        colors = isatty(1) != 0 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
    }

    /// The history file: FINCH_HISTORY, or ~/.finch_history.
    public static var defaultHistoryPath: String {
        if let p = ProcessInfo.processInfo.environment["FINCH_HISTORY"], !p.isEmpty { return p }
        return (ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()) + "/.finch_history"
    }

    /// Runs until Ctrl-D or :quit.
    public func run() {
        say("Finch — type :help for help, :quit or Ctrl-D to leave.")
        var buffer = ""
        while true {
            Interrupt.clear()
            let prompt = buffer.isEmpty ? "finch> " : "   ...> "
            let line = editor.readLine(prompt: prompt)
            if Interrupt.requested {
                // Ctrl-C at the prompt (libedit returns no line): drop the entry, prompt again.
                print("")
                buffer = ""
                continue
            }
            guard let line else {
                if buffer.isEmpty { print(""); return }
                buffer = ""  // Ctrl-D inside an unfinished entry drops it
                print("")
                continue
            }
            buffer += buffer.isEmpty ? line : "\n" + line
            if buffer.trimmingCharacters(in: .whitespaces).isEmpty { buffer = ""; continue }
            if buffer.hasPrefix(":") {
                editor.remember(buffer)
                let quit = command(buffer)
                buffer = ""
                if quit { return }
                continue
            }
            if let e = Interpreter.parses(buffer), e.incomplete { continue }
            editor.remember(buffer)
            evaluate(buffer)
            buffer = ""
        }
    }

    /// Runs one entry, printing its value and recording it for :save.
    func evaluate(_ code: String) {
        var captured = ""
        let previous = interpreter.output
        interpreter.output = { text in
            captured += text
            previous(text)
        }
        defer { interpreter.output = previous }
        Interrupt.clear()
        interpreter.resultShown = false
        var failed = false
        do {
            if let value = try interpreter.run(code, name: "<repl>") {
                if case .nil = value {} else if interpreter.resultShown {
                    interpreter.define("_", value)
                } else {
                    interpreter.define("_", value)
                    let text = value.repr
                    captured += text + "\n"
                    print(text)
                }
            }
        } catch {
            let text = String(describing: error)
            captured += text + "\n"
            failed = true
            printError(text)
        }
        record.append(code: code, output: captured, failed: failed)
        try? record.save(to: autosavePath)  // a convenience: a session whose home is read-only still runs
    }

    func say(_ text: String) { print(text) }

    func printError(_ text: String) {
        let out = colors ? "\u{1B}[31m" + text + "\u{1B}[0m" : text
        FileHandle.standardError.write((out + "\n").data(using: .utf8)!)
    }

    /// Handles a `:command`; returns true to quit.
    func command(_ line: String) -> Bool {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        let name = String(trimmed.prefix { !$0.isWhitespace })
        let argument = trimmed.dropFirst(name.count).trimmingCharacters(in: .whitespaces)
        switch name {
        case ":quit", ":q", ":exit":
            return true
        case ":help", ":h":
            if argument.isEmpty {
                print(REPL.helpText)
                print(interpreter.helpText(for: .nil))
            } else {
                let value = interpreter.global(argument) ?? .string(argument)
                print(interpreter.helpText(for: value))
            }
        case ":time":
            guard !argument.isEmpty else { printError(":time needs an expression, e.g. :time fib(25)"); break }
            let start = Date()
            evaluate(argument)
            print(String(format: "time: %.3f s", Date().timeIntervalSince(start)))
        case ":load":
            guard !argument.isEmpty else { printError(":load needs a file name"); break }
            guard let text = try? String(contentsOfFile: argument, encoding: .utf8) else { printError("cannot read \(argument)"); break }
            do { try interpreter.run(text, name: argument) } catch { printError(String(describing: error)) }
        case ":save":
            guard !argument.isEmpty else { printError(":save needs a file name, e.g. :save session.md"); break }
            do {
                try record.save(to: argument)
                print("saved \(record.cells.count) cell\(record.cells.count == 1 ? "" : "s") to \(argument)")
            } catch { printError(String(describing: error)) }
        case ":vars":
            let names = interpreter.globalNames.filter { !startupNames.contains($0) || $0 == "_" }.sorted()
            if names.isEmpty { print("(no variables yet)") }
            for n in names {
                let v = interpreter.global(n) ?? .nil
                var text = v.repr.replacingOccurrences(of: "\n", with: " ")
                if text.count > 60 { text = String(text.prefix(57)) + "..." }
                print("\(n): \(v.typeName) = \(text)")
            }
        default:
            var message = "unknown command \(name)"
            if let guess = closestMatch(name, in: REPL.commands) { message += "; did you mean \(guess)?" }
            printError(message + " (:help lists the commands)")
        }
        return false
    }

    static let commands = [":help", ":time", ":load", ":save", ":vars", ":quit"]

    static let helpText = """
    Commands:
      :help [name]    help on a function or type (also help(name))
      :time expr      run an expression and show how long it took
      :load file      run a .finch file in this session
      :save file.md   save this session as a Markdown notebook (code cells and their output)
      :vars           the variables you defined, with their types
      :quit           leave (or Ctrl-D)
    Keys: Tab completes names, members after '.', and argument names inside a call;
    Ctrl-C stops running code (or clears the line); up/down walk the history.
    The session so far is also kept, as :save writes it, in .finch_session.md beside the history.
    """
}
