import Foundation

/// Starting a program and waiting for it, with posix_spawn: never fork, whose
/// atfork handlers (OpenBLAS's) can deadlock, and no Foundation Process, which
/// adds tens of milliseconds of its own.
public enum Spawn {
    /// Runs `path` with `arguments`, standard output to /dev/null when `quiet`, or standard output
    /// and error to the file `output`; returns its exit status (128 + signal when killed).
    @discardableResult
    public static func run(_ path: String, _ arguments: [String] = [], quiet: Bool = false, output: String? = nil) throws -> Int32 {
        wait(try start(path, arguments, quiet: quiet, output: output))
    }

    /// Runs `path` to completion; its exit status and what it wrote (standard output and error together).
    public static func output(_ path: String, _ arguments: [String] = []) throws -> (status: Int32, text: String) {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("finch-output-\(UUID().uuidString).txt").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        let status = try run(path, arguments, output: file)
        return (status, (try? String(contentsOfFile: file, encoding: .utf8)) ?? "")
    }

    /// Starts `path` as `run` does, without waiting; `wait` collects it. `pipe` is a pipe's write
    /// end that gets standard output and error; `ownGroup` starts it in a process group of its own,
    /// so a terminal's Ctrl-C reaches only us, and we decide what it gets.
    public static func start(_ path: String, _ arguments: [String] = [], quiet: Bool = false, output: String? = nil,
                             pipe: Int32? = nil, ownGroup: Bool = false) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if quiet { posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0) }
        if let output {
            posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        if let pipe {
            posix_spawn_file_actions_adddup2(&actions, pipe, 1)
            posix_spawn_file_actions_adddup2(&actions, pipe, 2)
            posix_spawn_file_actions_addclose(&actions, pipe)
        }
        // The child starts with no signal blocked and the usual actions for the signals a program
        // is stopped with, whatever the parent (a test runner, a server) had set for itself.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), stops = sigset_t()
        sigemptyset(&none)
        sigemptyset(&stops)
        for sig in [SIGINT, SIGTERM, SIGPIPE, SIGHUP] { sigaddset(&stops, sig) }
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &stops)
        var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        if ownGroup {
            posix_spawnattr_setpgroup(&attributes, 0)
            flags |= POSIX_SPAWN_SETPGROUP
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
        guard rc == 0 else { throw FileWriteError(path: path, reason: "cannot start it: \(String(cString: strerror(rc)))") }
        return pid
    }

    /// Waits for a started program; its exit status (128 + signal when killed).
    @discardableResult
    public static func wait(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return exitStatus(status)
    }

    /// A started program's exit status if it has ended (collecting it), nil while it runs.
    public static func poll(_ pid: pid_t) -> Int32? {
        var status: Int32 = 0
        let r = waitpid(pid, &status, WNOHANG)
        if r == pid { return exitStatus(status) }
        // Not our child (already collected): nothing will ever end.
        if r < 0 && errno == ECHILD { return -1 }
        return nil
    }

    /// waitpid's status as a shell reports it: the exit code, or 128 + the signal that killed it.
    static func exitStatus(_ status: Int32) -> Int32 {
        (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    }
}
