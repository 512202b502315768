import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A seeded random number generator: xoshiro256** with its state filled by
/// SplitMix64 from the seed. Same seed, same numbers, on every machine —
/// the algorithm is ours, not the platform's. Normals use Box–Muller on two
/// uniforms, both results used in turn.
public struct RNG: RandomNumberGenerator, Sendable, Equatable {
    public private(set) var state: (UInt64, UInt64, UInt64, UInt64)
    private var spareNormal: Float?

    /// A generator whose whole sequence is fixed by `seed`.
    public init(seed: UInt64) {
        var x = seed
        func splitmix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (splitmix(), splitmix(), splitmix(), splitmix())
    }

    /// Restores a generator from a saved state (checkpoints).
    public init(state: [UInt64]) {
        precondition(state.count == 4, "RNG state has four words")
        self.state = (state[0], state[1], state[2], state[3])
    }

    /// The state as four words, for saving.
    public var stateWords: [UInt64] { [state.0, state.1, state.2, state.3] }

    public mutating func next() -> UInt64 {
        let result = rotl(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotl(state.3, 45)
        return result
    }

    @inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform in [0, 1) with 24 random bits.
    public mutating func uniform() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

    /// Standard normal.
    public mutating func normal() -> Float {
        if let s = spareNormal { spareNormal = nil; return s }
        // u1 in (0, 1] so log never sees zero.
        let u1 = (Double(next() >> 11) + 1) * (1.0 / 9_007_199_254_740_992.0)
        let u2 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        let r = (-2 * log(u1)).squareRoot()
        spareNormal = Float(r * sin(2 * Double.pi * u2))
        return Float(r * cos(2 * Double.pi * u2))
    }

    public static func == (a: RNG, b: RNG) -> Bool { a.stateWords == b.stateWords && a.spareNormal == b.spareNormal }
}

/// The generator that creation functions use when none is passed; `manualSeed` resets it.
public enum DefaultRNG {
    static let generator = Mutex(RNG(seed: 0))

    /// Reseeds the default generator.
    public static func manualSeed(_ seed: UInt64) { generator.withLock { $0 = RNG(seed: seed) } }

    /// Runs body with exclusive use of the default generator.
    public static func use<T>(_ body: (inout RNG) throws -> T) rethrows -> T {
        try generator.withLock { try body(&$0) }
    }
}
