import Foundation
import Synchronization

/// The "still running" line of a long notebook cell in a terminal: after a few quiet seconds
/// it shows the cell and its time on the line below the output, and any new output clears it
/// first, so the cell's own text is never overwritten.
final class CellProgress: @unchecked Sendable {
    private let lock = Mutex(State())
    private var timer: DispatchSourceTimer?

    private struct State {
        var label = ""
        var start = Date()
        var lastOutput = Date()
        var showing = false
        /// The cell's output so far ends a line: only then may a status line go below it.
        var atLineStart = true
    }

    /// Starts the clock for a cell.
    func begin(_ label: String) {
        lock.withLock { s in s = State(label: label, start: Date(), lastOutput: Date()) }
        let t = DispatchSource.makeTimerSource(queue: .global())
        t.schedule(deadline: .now() + 1, repeating: 1)
        t.setEventHandler { [weak self] in self?.tick() }
        t.resume()
        timer = t
    }

    /// Writes a cell's output, clearing the status line first.
    func write(_ text: String) {
        lock.withLock { s in
            var out = s.showing ? "\r\u{1B}[2K" : ""
            s.showing = false
            out += text
            FileHandle.standardOutput.write(out.data(using: .utf8)!)
            s.lastOutput = Date()
            if let last = text.last { s.atLineStart = last == "\n" }
        }
    }

    /// Stops the clock and clears the status line.
    func end() {
        timer?.cancel()
        timer = nil
        lock.withLock { s in
            if s.showing { FileHandle.standardOutput.write("\r\u{1B}[2K".data(using: .utf8)!) }
            s.showing = false
        }
    }

    private func tick() {
        lock.withLock { s in
            let now = Date()
            guard s.atLineStart, now.timeIntervalSince(s.lastOutput) >= 3 else { return }
            let line = "\r\u{1B}[2K\u{1B}[2m… \(s.label) running, \(Int(now.timeIntervalSince(s.start))) s\u{1B}[0m"
            FileHandle.standardOutput.write(line.data(using: .utf8)!)
            s.showing = true
        }
    }
}
