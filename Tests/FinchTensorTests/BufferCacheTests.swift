import Testing
@testable import FinchTensor

/// The buffer cache gives freed buffers back for the next request of their size, and lets the
/// sizes that stopped recurring go instead of growing with every shape it has seen.
@Suite struct BufferCacheTests {
    let n = BufferCache.minimumCachedCount

    @Test func reusesAFreedBufferOfTheSameSize() throws {
        let cache = BufferCache()
        let a = try cache.allocate(n)
        a[0] = 42
        cache.release(a, n)
        let b = try cache.allocate(n)
        #expect(b == a)
        #expect(cache.usage.cached == 0)
        cache.release(b, n)
        #expect(cache.usage.cached == n * 4)
    }

    /// A training loop at one shape, then at another, many times over: what is in use plus what
    /// is cached never goes past the high-water mark of use (plus headroom), however many
    /// shapes have come and gone, and the steady loop at each shape allocates nothing new.
    @Test func varyingShapesStayWithinTheHighWaterMark() throws {
        let cache = BufferCache()
        func step(_ width: Int) throws -> Set<UInt> {
            // Three activations kept for backward, then freed newest first, as a step does.
            let sizes = [width * n, 2 * width * n, width * n]
            let buffers = try sizes.map { try cache.allocate($0) }
            for (p, c) in zip(buffers, sizes).reversed() { cache.release(p, c) }
            return Set(buffers.map { UInt(bitPattern: $0) })
        }
        var worst = 0
        for width in Array(1...40) + Array((1...40).reversed()) {
            let first = try step(width)
            #expect(try step(width) == first, "width \(width): the second step reuses the first's buffers")
            let u = cache.usage
            worst = max(worst, u.cached + u.live)
            #expect(u.live == 0)
        }
        let bound = Double(cache.usage.highWater) * (1 + BufferCache.headroom) + Double(BufferCache.slackBytes)
        #expect(Double(worst) <= bound)
        #expect(cache.usage.highWater == 4 * 40 * n * 4)
        // Without the bound the cache would hold every width's buffers: 80 times as much.
        #expect(worst < 2 * cache.usage.highWater + BufferCache.slackBytes)
    }

    /// After a model lets go of most of its memory for good, nothing freed stays cached, and the
    /// high-water mark (which bounds the cache) drops to what is in use now.
    @Test func releaseAllGivesEverythingBack() throws {
        let cache = BufferCache()
        let big = try (0..<4).map { _ in try cache.allocate(8 * n) }, kept = try cache.allocate(n)
        for p in big { cache.release(p, 8 * n) }
        #expect(cache.usage.cached == 32 * n * 4)
        cache.releaseAll()
        #expect(cache.usage.cached == 0)
        #expect(cache.usage.highWater == n * 4 && cache.usage.live == n * 4)
        cache.release(kept, n)
    }

    @Test func neverHoldsMoreThanItsCapacity() throws {
        let cache = BufferCache(capacityBytes: 3 * n * 4)
        let buffers = try (0..<5).map { _ in try cache.allocate(n) }
        for p in buffers { cache.release(p, n) }
        #expect(cache.usage.cached == 3 * n * 4)
    }
}
