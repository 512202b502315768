@preconcurrency import CEditLine
import Foundation

/// libedit behind a small Swift interface: read a line with a prompt,
/// history kept in a file, Tab completion through a Swift function.
public final class LineEditor {
    let historyPath: String

    /// Sets up libedit; `complete(line, cursor)` returns the candidates for Tab.
    public init(historyPath: String, complete: @escaping (String, Int) -> [String]) {
        self.historyPath = historyPath
        CompletionBridge.complete = complete
        rl_readline_name = UnsafePointer(strdup("finch"))
        _ = rl_initialize()
        using_history()
        stifle_history(5000)
        _ = read_history(historyPath)
        // Words end at punctuation too, so `x.sh<Tab>` completes `sh` and `f(lr<Tab>` completes `lr`.
        let breaks = strdup(" \t\n\"'`@$><=;|&{}()[],.:+-*/%")
        rl_completer_word_break_characters = breaks
        rl_basic_word_break_characters = UnsafePointer(breaks)  // the one libedit's completion reads
        rl_attempted_completion_function = completionHook
        rl_completion_append_character = 0
    }

    /// The next line, or nil at end of input (Ctrl-D).
    public func readLine(prompt: String) -> String? {
        guard let raw = readline(prompt) else { return nil }
        defer { free(raw) }
        return String(cString: raw)
    }

    /// Adds an entry to the history and saves the history file (atomically).
    public func remember(_ entry: String) {
        _ = add_history(entry)
        let temp = historyPath + ".tmp-\(getpid())"
        if write_history(temp) == 0 { rename(temp, historyPath) } else { unlink(temp) }
    }
}

/// Globals the C callbacks reach (libedit has no user-data pointer for completion).
enum CompletionBridge {
    nonisolated(unsafe) static var complete: ((String, Int) -> [String])?
    nonisolated(unsafe) static var matches: [String] = []
    nonisolated(unsafe) static var next = 0
}

private func completionHook(_ text: UnsafePointer<CChar>?, _ start: Int32, _ end: Int32)
    -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? {
    guard let buffer = rl_line_buffer, let complete = CompletionBridge.complete else { return nil }
    // rl_point counts bytes; the completer counts characters.
    let bytes = Array(String(cString: buffer).utf8.prefix(Int(rl_point)))
    let before = String(decoding: bytes, as: UTF8.self)
    CompletionBridge.matches = complete(String(cString: buffer), before.count)
    CompletionBridge.next = 0
    guard !CompletionBridge.matches.isEmpty else { return nil }
    guard let text else { return nil }
    return rl_completion_matches(text, completionGenerator)
}

private func completionGenerator(_ text: UnsafePointer<CChar>?, _ state: Int32) -> UnsafeMutablePointer<CChar>? {
    if state == 0 { CompletionBridge.next = 0 }
    guard CompletionBridge.next < CompletionBridge.matches.count else { return nil }
    defer { CompletionBridge.next += 1 }
    return strdup(CompletionBridge.matches[CompletionBridge.next])
}
