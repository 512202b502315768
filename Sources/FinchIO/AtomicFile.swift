import Foundation

/// A file that could not be written, with the path and the reason.
public struct FileWriteError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "cannot write \(path): \(reason)" }
}

/// Writes files so that a crash or Ctrl-C never leaves a half-written one:
/// temp file in the same directory, fsync, rename. Every module that writes
/// files uses this one.
public enum AtomicFile {
    /// The key of a thread's confinement: when the thread's dictionary holds a directory under it,
    /// every write from that thread outside the directory is refused (the fuzzer runs arbitrary
    /// programs as whoever started it, and they must not replace files elsewhere).
    public static let confinementKey = "finch.atomic-file.confined-to"

    static func checkConfinement(_ path: String) throws {
        guard let root = Thread.current.threadDictionary[confinementKey] as? String else { return }
        let full = URL(fileURLWithPath: path).standardizedFileURL.path
        guard full == root || full.hasPrefix(root + "/") else { throw FileWriteError(path: path, reason: "outside \(root), where writing is confined") }
    }

    /// Makes a directory and any missing parents for files about to be written there, under the
    /// same confinement as the writes (a refused write must not leave its folders behind).
    public static func makeDirectory(_ path: String) throws {
        try checkConfinement(path)
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw FileWriteError(path: path, reason: "cannot make the directory (\((error as NSError).localizedDescription))")
        }
    }

    public static func write(_ text: String, to path: String) throws {
        try write(Data(text.utf8), to: path)
    }

    public static func write(_ data: Data, to path: String) throws {
        try checkConfinement(path)
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        let temp = dir + "/." + url.lastPathComponent + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: temp, contents: data) else {
            throw FileWriteError(path: path, reason: "cannot create a file in \(dir)")
        }
        try commit(temp, to: path)
    }

    /// Writes a file piece by piece (for files too big to build in memory first, the model
    /// files): `body` appends to a temporary file that replaces `path` only when it is complete.
    /// A missing directory is made, as saving a model in a folder layout makes its folder.
    public static func write(to path: String, _ body: (FileHandle) throws -> Void) throws {
        try checkConfinement(path)
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        try? makeDirectory(dir)
        let temp = dir + "/." + url.lastPathComponent + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: temp, contents: nil), let handle = FileHandle(forWritingAtPath: temp) else {
            throw FileWriteError(path: path, reason: "cannot create a file in \(dir)")
        }
        do {
            try body(handle)
            try handle.synchronize()
            try handle.close()
        } catch {
            try? handle.close()
            unlink(temp)
            throw error
        }
        try commit(temp, to: path, sync: false)
    }

    /// Has `body` make the file at a temporary path in the same directory (for files another
    /// program writes, such as gnuplot's figures), then moves it into place; on failure the
    /// temporary file is removed and `path` is untouched.
    public static func produce(at path: String, _ body: (String) throws -> Void) throws {
        try checkConfinement(path)
        let url = URL(fileURLWithPath: path)
        let temp = url.deletingLastPathComponent().path + "/." + url.lastPathComponent + ".tmp-\(getpid())"
        do {
            try body(temp)
        } catch {
            unlink(temp)
            throw error
        }
        guard access(temp, F_OK) == 0 else { throw FileWriteError(path: path, reason: "nothing was written") }
        try commit(temp, to: path)
    }

    /// Flushes the finished temporary file to disk and renames it over `path` (rename is atomic
    /// within a directory); on failure the temporary file is removed.
    private static func commit(_ temp: String, to path: String, sync: Bool = true) throws {
        if sync {
            let fd = open(temp, O_RDONLY)
            if fd >= 0 { fsync(fd); close(fd) }
        }
        guard rename(temp, path) == 0 else {
            let why = String(cString: strerror(errno))
            unlink(temp)
            throw FileWriteError(path: path, reason: why)
        }
    }
}
