import Foundation

/// Timing for benchmarks: the sides of a comparison run interleaved
/// (A, B, A, B, ...) and are compared by their medians, because this
/// machine's speed drifts within a run.
enum BenchTiming {
    /// Seconds since an arbitrary start, monotonic.
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// Runs each side once per round, for at least `minRounds` rounds and `seconds`
    /// in all; returns the median seconds of each side. `pauses` gives untimed seconds to wait
    /// after a side (by index) before the next one starts.
    static func interleaved(_ sides: [() throws -> Void], seconds: Double, minRounds: Int = 5, pauses: [Int: Double] = [:]) throws -> [Double] {
        for (i, side) in sides.enumerated() {  // warm up: caches, page faults, thread pools
            try side()
            if let p = pauses[i] { usleep(UInt32(p * 1e6)) }
        }
        var times = [[Double]](repeating: [], count: sides.count)
        let start = now()
        var round = 0
        var paused = 0.0
        while round < minRounds || now() - start - paused < seconds {
            for (i, side) in sides.enumerated() {
                let t0 = now()
                try side()
                times[i].append(now() - t0)
                if let p = pauses[i] { usleep(UInt32(p * 1e6)); paused += p }
            }
            round += 1
        }
        return times.map(median)
    }

    static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}

func formatted(_ value: Double, digits: Int) -> String { String(format: "%.\(digits)f", value) }
