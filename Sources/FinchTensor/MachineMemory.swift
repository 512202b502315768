import Foundation

/// The machine's memory as the kernel reports it: what allocation sizes are checked against.
public enum MachineMemory {
    /// Physical memory in bytes (Int.max where the system does not say).
    public static let physicalBytes: Int = {
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), size = sysconf(Int32(_SC_PAGESIZE))
        return pages > 0 && size > 0 ? pages * size : Int.max
    }()

    /// MemAvailable: what can be allocated now without swapping, or nil where unknown.
    public static func availableBytes() -> Int? { kilobytes(in: "/proc/meminfo", "MemAvailable:").map { $0 * 1024 } }

    /// The number of a `Key:   N kB` line of a /proc file, in kB.
    public static func kilobytes(in file: String, _ key: String) -> Int? {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix(key) }) else { return nil }
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
    }
}
