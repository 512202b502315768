import FinchTensor
import Foundation

/// Training progress for people: a live bar in a terminal, a plain line otherwise.
public enum TrainProgress {
    /// "1:05" or "1:02:03".
    public static func clock(_ seconds: Double) -> String {
        let s = Int(max(0, seconds).rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }

    /// One line: step/total (with a bar when `bar`), loss, the latest validation loss, lr, gradient
    /// norm before clipping, tokens/s, elapsed, ETA and peak memory.
    public static func line(_ r: StepRecord, total: Int, lastValLoss: Float?, recentSecondsPerStep: Double, peakMB: Double, bar: Bool) -> String {
        let width = String(total).count
        var parts = ["step " + String(repeating: " ", count: max(0, width - String(r.step).count)) + "\(r.step)/\(total)"]
        if bar {
            let cells = 20, filled = min(cells, r.step * cells / max(total, 1))
            parts[0] += " " + String(repeating: "█", count: filled) + String(repeating: "░", count: cells - filled)
        }
        parts.append(r.skipped ? "loss \(r.loss) (skipped)" : String(format: "loss %.4f", r.loss))
        if let v = lastValLoss { parts.append(String(format: "val %.4f", v)) }
        parts.append(String(format: "lr %.2e", r.lr))
        parts.append(String(format: "grad %.3g", r.gradNorm))
        parts.append(String(format: "%.0f tok/s", r.tokensPerSecond))
        let eta = Double(total - r.step) * recentSecondsPerStep
        parts.append("\(clock(r.elapsed)) elapsed" + (r.step < total ? ", ETA \(clock(eta))" : ""))
        parts.append(peakMB >= 1024 ? String(format: "%.1f GB", peakMB / 1024) : String(format: "%.0f MB", peakMB))
        return parts.joined(separator: "  ")
    }
}

/// The process's memory, as the kernel counts it.
public enum ProcessMemory {
    /// Peak resident memory in MB (VmHWM: starts afresh at exec, unlike getrusage's ru_maxrss,
    /// which a spawned process inherits from its parent).
    public static var peakMegabytes: Double {
        Double(MachineMemory.kilobytes(in: "/proc/self/status", "VmHWM:") ?? 0) / 1024
    }
}
