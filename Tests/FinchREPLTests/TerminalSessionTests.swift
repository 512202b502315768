import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The real `finch` REPL driven through a pseudo-terminal, as a person would
/// use it: multi-line entries, Tab completion, Ctrl-C, history across sessions.
@Suite(.serialized) struct TerminalSessionTests {
    static let finch = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/release/finch").path

    /// finch running on a pseudo-terminal.
    final class Terminal {
        let master: Int32
        let pid: pid_t
        var screen = ""
        /// Matches are looked for after the previous match, so each wait sees new output only.
        var mark: String.Index

        /// `finch` with `arguments` (none: the REPL).
        init(history: String, arguments: [String] = []) throws {
            guard FileManager.default.isExecutableFile(atPath: TerminalSessionTests.finch) else {
                throw TestFailure("no finch binary at \(TerminalSessionTests.finch): build with `make build` first")
            }
            let argv: [UnsafeMutablePointer<CChar>?] = ([TerminalSessionTests.finch] + arguments).map { strdup($0) } + [nil]
            var env = ProcessInfo.processInfo.environment
            env["FINCH_HISTORY"] = history
            env["TERM"] = "xterm"
            env["NO_COLOR"] = "1"
            let envp: [UnsafeMutablePointer<CChar>?] = env.map { strdup("\($0)=\($1)") } + [nil]
            // openpty + posix_spawn rather than forkpty: fork runs OpenBLAS's atfork
            // handler, which can deadlock joining its worker threads.
            var m: Int32 = 0, slave: Int32 = 0
            var name = [CChar](repeating: 0, count: 128)
            var size = winsize(ws_row: 40, ws_col: 120, ws_xpixel: 0, ws_ypixel: 0)
            guard openpty(&m, &slave, &name, nil, &size) == 0 else {
                throw TestFailure("openpty failed: \(String(cString: strerror(errno)))")
            }
            close(slave)
            var attributes = posix_spawnattr_t()
            posix_spawnattr_init(&attributes)
            defer { posix_spawnattr_destroy(&attributes) }
            // A new session whose leader opens the terminal by name: it becomes the controlling
            // terminal, so ^C typed at it sends SIGINT.
            posix_spawnattr_setflags(&attributes, 0x80)  // POSIX_SPAWN_SETSID (glibc), not exported to Swift
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addclose(&actions, m)
            posix_spawn_file_actions_addopen(&actions, 0, name, O_RDWR, 0)
            posix_spawn_file_actions_adddup2(&actions, 0, 1)
            posix_spawn_file_actions_adddup2(&actions, 0, 2)
            var child: pid_t = 0
            let rc = posix_spawn(&child, argv[0]!, &actions, &attributes, argv, envp)
            guard rc == 0 else { throw TestFailure("posix_spawn failed: \(String(cString: strerror(rc)))") }
            master = m
            pid = child
            mark = screen.startIndex
        }

        func send(_ text: String) { _ = text.withCString { write(master, $0, strlen($0)) } }

        /// Reads until `text` appears in new output (or the timeout passes); returns whether it did.
        @discardableResult
        func wait(for text: String, timeout: Double = 10) -> Bool {
            let deadline = Date().addingTimeInterval(timeout)
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                if let r = screen.range(of: text, range: mark..<screen.endIndex) {
                    mark = r.upperBound
                    return true
                }
                let left = deadline.timeIntervalSinceNow
                if left <= 0 { return false }
                var fds = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
                if poll(&fds, 1, Int32(min(left, 0.2) * 1000)) > 0 {
                    let n = read(master, &buffer, buffer.count)
                    if n <= 0 { return false }
                    let offset = screen.distance(from: screen.startIndex, to: mark)
                    screen += String(decoding: buffer[0..<n], as: UTF8.self)
                    mark = screen.index(screen.startIndex, offsetBy: offset)
                }
            }
        }

        /// Reads until `count` characters of new output have arrived (or the timeout passes), not
        /// counting `except` (an entry the terminal echoes a second time when it was typed ahead).
        @discardableResult
        func waitForOutput(count: Int, except: String = "", timeout: Double = 60) -> Bool {
            let deadline = Date().addingTimeInterval(timeout)
            func new() -> Int {
                let text = String(screen[mark...])
                return (except.isEmpty ? text : text.replacingOccurrences(of: except, with: "")).count
            }
            while new() < count {
                if Date() >= deadline { return false }
                wait(for: "\u{0}", timeout: 0.2)
            }
            mark = screen.endIndex
            return true
        }

        /// Types a line once the prompt is showing.
        func enter(_ line: String) {
            wait(for: "> ")
            send(line + "\r")
        }

        /// Waits for the process to exit; returns its status.
        func exitStatus(timeout: Double = 10) -> Int32? {
            let deadline = Date().addingTimeInterval(timeout)
            var status: Int32 = 0
            while Date() < deadline {
                wait(for: "\u{0}", timeout: 0.1)  // drain output so the child never blocks on a full terminal
                if waitpid(pid, &status, WNOHANG) == pid { return (status >> 8) & 0xFF }
            }
            kill(pid, SIGKILL)
            return nil
        }

        deinit {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            close(master)
        }
    }

    struct TestFailure: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }

    /// A fresh history file in a directory the test process removes when it exits.
    func historyFile() -> String {
        Scratch.root.appendingPathComponent(UUID().uuidString).path
    }

    @Test func multiLineEntryValuesAndUnderscore() throws {
        let t = try Terminal(history: historyFile())
        t.enter("xs = [1, 2,")
        #expect(t.wait(for: "...> "), "an open bracket continues the entry")
        t.send("3]\r")
        t.enter("xs.map(fn(v) { v * 10 })")
        #expect(t.wait(for: "[10, 20, 30]"))
        t.enter("len(_)")
        #expect(t.wait(for: "\n3\r"), "_ holds the last value")
        t.wait(for: "finch> ")
        Thread.sleep(forTimeInterval: 0.3)  // let libedit put the terminal in raw mode, or ^D is lost
        t.send("\u{4}")
        #expect(t.exitStatus() == 0)
    }

    @Test func tabCompletesMembersAndNames() throws {
        let t = try Terminal(history: historyFile())
        t.enter("values = [3, 1]")
        t.wait(for: "finch> ")
        t.send("values.so\t")
        Thread.sleep(forTimeInterval: 0.3)
        t.send("()\r")
        #expect(t.wait(for: "[1, 3]"), "member completion after '.' (so -> sort)")
        t.wait(for: "finch> ")
        t.send("lins\t")
        Thread.sleep(forTimeInterval: 0.3)
        t.send("(0, 1, 3)\r")
        #expect(t.wait(for: "tensor([0, 0.5, 1]"), "global completion (lins -> linspace)")
        t.wait(for: "finch> ")
        t.send("round(2.567, dig\t")
        Thread.sleep(forTimeInterval: 0.3)
        t.send("1)\r")
        #expect(t.wait(for: "2.6"), "keyword argument completion (dig -> digits: )")
        t.enter(":quit")
        #expect(t.exitStatus() == 0)
    }

    @Test func ctrlCStopsRunningCodeAndKeepsState() throws {
        let t = try Terminal(history: historyFile())
        t.enter("n = 0")
        t.enter("while true { n += 1 }")
        Thread.sleep(forTimeInterval: 0.8)
        t.send("\u{3}")
        #expect(t.wait(for: "stopped by Ctrl-C"))
        t.enter("n > 0")
        #expect(t.wait(for: "true"), "state survives the interrupt")
        t.wait(for: "finch> ")
        t.send("partial = (")
        Thread.sleep(forTimeInterval: 0.3)
        t.send("\u{3}")
        t.enter("\"still here\"")
        #expect(t.wait(for: "\"still here\"\r\n\"still here\""), "Ctrl-C at the prompt clears the line")
        t.wait(for: "finch> ")
        Thread.sleep(forTimeInterval: 0.3)  // let libedit put the terminal in raw mode, or ^D is lost
        t.send("\u{4}")
        #expect(t.exitStatus() == 0)
    }

    @Test func ctrlCStopsGenerationAndKeepsTheText() throws {
        let t = try Terminal(history: historyFile())
        t.enter("m = load_model()")
        let entry = "story = m.chat(\"Write a very long story about a bird.\", max_tokens: 2000)"
        t.enter(entry)
        #expect(t.wait(for: "2000)\r\n"), "the entry is echoed")
        // Stop it once it has streamed some text, however slowly a loaded machine decodes (an entry
        // typed while load_model ran is echoed twice, and the second echo is not the story).
        #expect(t.waitForOutput(count: 60, except: entry), "the story streams as it is produced")
        t.send("\u{3}")
        #expect(t.wait(for: "[stopped by Ctrl-C after "), "generation stops and says how far it got")
        // libedit flushes typed-ahead input when it puts the terminal back in raw mode for the next
        // prompt, and a loaded machine widens that window: type once the prompt has settled, and
        // again if the line was swallowed.
        t.wait(for: "finch> ")
        Thread.sleep(forTimeInterval: 0.5)
        t.send("len(story) > 20\r")
        var kept = t.wait(for: "true", timeout: 20)
        if !kept {
            t.send("len(story) > 20\r")
            kept = t.wait(for: "true", timeout: 40)
        }
        #expect(kept, "the text produced until then is kept; the screen: \(t.screen.suffix(600))")
        t.enter(":quit")
        #expect(t.exitStatus() == 0)
    }

    @Test func ctrlCStopsTrainingWithACheckpointAndAUsableRun() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("finch-repl-train-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let t = try Terminal(history: historyFile())
        t.enter("tok = bpe_train([\"the cat sat on the mat\"] * 20, vocab: 270, special: [\"<|end|>\"])")
        t.enter("m = model(vocab: tok.vocab_size, dim: 32, layers: 2, heads: 4, context: 64, tokenizer: tok)")
        t.enter("run = train(m, dataset([{\"question\": \"the cat\", \"answer\": \"sat\"}] * 8), steps: 1000000, save_dir: \"\(dir)\")")
        #expect(t.wait(for: "/1000000 "), "the live progress line")
        Thread.sleep(forTimeInterval: 0.5)
        t.send("\u{3}")
        #expect(t.wait(for: "stopped by Ctrl-C after step "), "training stops after the current step")
        #expect(t.wait(for: "checkpoint saved in \(dir)/checkpoint-"))
        t.enter("print(run.stop_reason, run.steps > 0, run.steps == len(run.history))")
        #expect(t.wait(for: "interrupted true true"), "the run so far is returned")
        t.enter(":quit")
        #expect(t.exitStatus() == 0)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        #expect(names.contains { $0.hasPrefix("checkpoint-") }, "\(names)")
    }

    @Test func ctrlCInANotebookStopsTheReplayAfterTheTrainingCell() throws {
        let path = Scratch.root.appendingPathComponent("\(UUID().uuidString).md").path
        try """
        ```finch
        tok = bpe_train(["the cat sat on the mat"] * 20, vocab: 270, special: ["<|end|>"])
        m = model(vocab: tok.vocab_size, dim: 32, layers: 2, heads: 4, context: 64, tokenizer: tok)
        run = train(m, dataset([{"question": "the cat", "answer": "sat"}] * 8), steps: 1000000)
        ```

        ```finch
        print("next cell ran", run.stop_reason)
        ```

        """.write(toFile: path, atomically: true, encoding: .utf8)
        let t = try Terminal(history: historyFile(), arguments: ["run", path])
        #expect(t.wait(for: "/1000000 "), "the live progress line")
        Thread.sleep(forTimeInterval: 0.5)
        t.send("\u{3}")
        #expect(t.wait(for: "stopped by Ctrl-C after step "), "training returns its run")
        #expect(t.wait(for: "1 of 2 cells run"), "the replay stops after the interrupted cell")
        #expect(t.wait(for: "cell 1 failed: stopped by Ctrl-C in cell 1"))
        #expect(t.exitStatus() == 1)
        #expect(!t.screen.contains("next cell ran"))
    }

    /// A session that dies (here: SIGKILL, as a trap would end it) leaves every line in the
    /// history and every finished entry, with its output, in .finch_session.md beside it.
    @Test func aKilledSessionLeavesItsHistoryAndNotebook() throws {
        let dir = Scratch.root.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let history = dir.appendingPathComponent("history").path
        do {
            let t = try Terminal(history: history)
            t.enter("kept = 40 + 2")
            t.enter("t = tensor([1, 2, 3]); t[1e19]")
            #expect(t.wait(for: "a tensor index must be an integer, got 1e+19"), "an error, not a trap")
            t.enter("kept")
            #expect(t.wait(for: "42"))
            t.enter("while true { }")
            Thread.sleep(forTimeInterval: 0.3)
            kill(t.pid, SIGKILL)
        }
        // libedit writes a space in its history file as \040.
        let lines = ((try? String(contentsOfFile: history, encoding: .utf8)) ?? "").replacingOccurrences(of: "\\040", with: " ")
        #expect(lines.contains("kept = 40 + 2") && lines.contains("while true { }"), "history: \(lines)")
        let notebook = (try? String(contentsOfFile: dir.appendingPathComponent(".finch_session.md").path, encoding: .utf8)) ?? ""
        #expect(notebook.contains("```finch\nkept = 40 + 2\n```"), "\(notebook)")
        #expect(notebook.contains("got 1e+19"), "\(notebook)")
        #expect(notebook.contains("```finch\nkept\n```\n<!-- output -->\n```\n42\n```"), "\(notebook)")
    }

    @Test func historyPersistsAcrossSessions() throws {
        let path = historyFile()
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let t = try Terminal(history: path)
            t.enter("remembered = 4242")
            t.enter(":quit")
            #expect(t.exitStatus() == 0)
        }
        #expect(((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").contains("remembered"))
        let t = try Terminal(history: path)
        t.wait(for: "finch> ")
        t.send("\u{1B}[A")  // Up arrow: ":quit", the last entry
        Thread.sleep(forTimeInterval: 0.2)
        t.send("\u{1B}[A")  // and the one before it
        Thread.sleep(forTimeInterval: 0.3)
        t.send("\r")  // runs the recalled `remembered = 4242`
        t.enter("remembered + 1")
        #expect(t.wait(for: "4243"), "the recalled entry ran")
        t.enter(":quit")
        #expect(t.exitStatus() == 0)
    }

    @Test func scriptFromAPipeHasNoPromptsAndFailsWithStatus() throws {
        func run(_ script: String) throws -> (String, String, Int32) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: Self.finch)
            let input = Pipe(), output = Pipe(), errors = Pipe()
            p.standardInput = input
            p.standardOutput = output
            p.standardError = errors
            try p.run()
            input.fileHandleForWriting.write(script.data(using: .utf8)!)
            try input.fileHandleForWriting.close()
            let out = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let err = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            return (out, err, p.terminationStatus)
        }
        let ok = try run("x = 2\nprint(x * 21)\n")
        #expect(ok.0 == "42\n" && ok.2 == 0)
        let bad = try run("print(1)\nprint(nope)\n")
        #expect(bad.0 == "1\n")
        #expect(bad.1.contains("<stdin>:2:7: error: undefined variable 'nope'"))
        #expect(bad.2 == 1)
    }
}

/// One directory for this test process's history files and notebooks, removed when it exits.
enum Scratch {
    static let root: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("finch-repl-tests-\(getpid())")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(at: Scratch.root) }
        return url
    }()
}
