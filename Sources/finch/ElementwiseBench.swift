import FinchTensor

/// elementwise: Finch's add and silu over 16M floats against a plain parallel
/// copy of the same size, all on every core. GB/s counts bytes read plus written.
enum ElementwiseBench {
    static let count = 16 * 1024 * 1024

    static func run(_ out: BenchReporter, _ options: BenchOptions) throws {
        let seconds = options.seconds
        var rng = RNG(seed: 2)
        let a = try Tensor.normal([count], rng: &rng), b = try Tensor.normal([count], rng: &rng)
        let dst = UnsafeMutablePointer<Float>.allocate(capacity: count)
        dst.initialize(repeating: 0, count: count)
        defer { dst.deallocate() }
        let src = a.storage.base
        let times = try BenchTiming.interleaved([
            { Parallel.copy(from: src, to: dst, count: count) },
            { Parallel.memcpy(from: src, to: dst, count: count) },
            { _ = try a.adding(b) },
            { _ = try a.silu() },
        ], seconds: seconds)
        let bytes = Double(count) * 4
        let copy = 2 * bytes / times[0] / 1e9, memcpy = 2 * bytes / times[1] / 1e9
        let add = 3 * bytes / times[2] / 1e9, silu = 2 * bytes / times[3] / 1e9
        out.report("elementwise.threads", Double(Threads.count), digits: 0)
        out.report("elementwise.copy_gbps", copy)
        out.report("elementwise.memcpy_gbps", memcpy)
        out.report("elementwise.add_gbps", add)
        out.report("elementwise.silu_gbps", silu)
        out.report("elementwise.add_ratio", add / copy, digits: 3)
        out.report("elementwise.silu_ratio", silu / copy, digits: 3)
    }
}
