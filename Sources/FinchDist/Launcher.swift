import FinchIO
import Foundation

/// Starts Finch as N processes on this machine through Open MPI's mpirun, with the options a
/// person would otherwise have to know: running as root, more processes than cores, no
/// binding to one core (each rank runs cores ÷ N threads of its own), no standard input.
public enum Launcher {
    /// Where mpirun is, or an error that says which package brings it.
    public static func mpirun() throws -> String {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(dir)/mpirun"
            if access(path, X_OK) == 0 { return path }
        }
        throw DistributedError("mpirun is not installed: running several processes needs Open MPI (Debian: apt-get install openmpi-bin libopenmpi-dev, which make setup does)")
    }

    /// mpirun's arguments to run `program arguments` as `processes` ranks here.
    public static func arguments(processes: Int, program: String, arguments: [String]) -> [String] {
        var out = ["-np", String(processes)]
        if getuid() == 0 { out.append("--allow-run-as-root") }
        if processes > sysconf(Int32(_SC_NPROCESSORS_ONLN)) { out.append("--oversubscribe") }
        out += ["--bind-to", "none", "--stdin", "none", program] + arguments
        return out
    }

    /// The launcher's terminal, as `run` tells the ranks (FINCH_TERMINAL=columns×rows) when its
    /// output is one: mpirun gives ranks a pseudo-terminal of its own whatever its output is,
    /// so a rank cannot tell for itself whether a person is watching, nor how wide the window is.
    public static var terminalSize: (columns: Int, rows: Int)? {
        guard let text = ProcessInfo.processInfo.environment["FINCH_TERMINAL"] else { return nil }
        let parts = text.split(separator: "x").compactMap { Int($0) }
        return parts.count == 2 && parts[0] > 0 && parts[1] > 0 ? (parts[0], parts[1]) : nil
    }

    /// This executable's path, for starting more of it.
    public static var finchExecutable: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// Runs `finch arguments` as `processes` ranks and waits. mpirun gets a process group of its
    /// own: a Ctrl-C (seen by `shouldStop`) is passed on as SIGUSR1, which mpirun forwards to
    /// every rank and which stops training after its current step, as Ctrl-C does alone; a
    /// second one (`shouldStop` true again after `stopped` was called) ends the ranks at once.
    /// `output` receives what the ranks print (rank 0's), or nil to let it through as it is.
    /// Returns mpirun's exit status.
    public static func run(processes: Int, arguments finchArguments: [String], output: ((String) -> Void)? = nil,
                           shouldStop: () -> Bool = { false }, stopped: () -> Void = {}) throws -> Int32 {
        let mpirun = try mpirun()
        var args = arguments(processes: processes, program: finchExecutable, arguments: finchArguments)
        var w = winsize()
        if output == nil, isatty(1) != 0, ioctl(1, UInt(TIOCGWINSZ), &w) == 0, w.ws_col > 0 {
            setenv("FINCH_TERMINAL", "\(w.ws_col)x\(w.ws_row)", 1)
            args.insert(contentsOf: ["-x", "FINCH_TERMINAL"], at: 0)
        } else {
            unsetenv("FINCH_TERMINAL")
        }
        var fds: [Int32] = [-1, -1]
        if output != nil { guard pipe(&fds) == 0 else { throw DistributedError("cannot make a pipe: \(String(cString: strerror(errno)))") } }
        let pid = try Spawn.start(mpirun, args, pipe: output != nil ? fds[1] : nil, ownGroup: true)
        if output != nil {
            close(fds[1])
            _ = fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK)
        }
        defer { if output != nil { close(fds[0]) } }
        var signalled = 0
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var pending: [UInt8] = []
        func drain() {
            guard let output else { return }
            while true {
                let n = read(fds[0], &buffer, buffer.count)
                if n <= 0 { break }
                pending += buffer[0..<n]
            }
            // Whole UTF-8 characters only: one cut by a read waits for its rest.
            let cut = UTF8Text.wholeCharacters(pending, upTo: pending.count)
            if cut > 0 {
                output(String(decoding: pending[0..<cut], as: UTF8.self))
                pending.removeFirst(cut)
            }
        }
        var status: Int32?
        while true {
            status = Spawn.poll(pid)
            if status != nil { break }
            if shouldStop() {
                signalled += 1
                stopped()
                kill(pid, signalled == 1 ? SIGUSR1 : SIGINT)
            }
            if output != nil {
                var p = pollfd(fd: fds[0], events: Int16(POLLIN), revents: 0)
                _ = poll(&p, 1, 50)
                drain()
            } else {
                usleep(50_000)
            }
        }
        drain()
        if let output, !pending.isEmpty { output(String(decoding: pending, as: UTF8.self)) }
        return status ?? -1
    }
}
