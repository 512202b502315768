import FinchTensor
import Foundation

/// Llama 3's rope scaling in GGUF. llama.cpp keeps it as a tensor, rope_freqs.weight: for each
/// rotary frequency the factor it is divided by (1 for short wavelengths, `factor` for long
/// ones, a blend between). Finch writes that tensor for llama.cpp and the four numbers it came
/// from under finch.rope.llama3; it reads the numbers back, or recovers them from the tensor of
/// a file converted by llama.cpp, and checks that they reproduce the tensor.
extension RopeScaling {
    static let ggufKey = "finch.rope.llama3"
    static let ggufTensor = "rope_freqs.weight"

    /// The metadata and the tensor that describe this scaling for a model of configuration `c`.
    func gguf(_ c: ModelConfig) throws -> (metadata: (String, GGUFValue), tensor: (String, Tensor)) {
        let base = c.baseFrequencies()
        let factors = zip(base, scale(base)).map { Float($0 / $1) }
        return ((Self.ggufKey, .array([factor, lowFrequencyFactor, highFrequencyFactor, Double(originalContext)].map { .float($0) })),
                (Self.ggufTensor, try Tensor(factors, shape: [factors.count])))
    }

    /// The scaling a GGUF file describes for `config`, or nil when it has none.
    static func read(gguf file: GGUFFile, config c: ModelConfig) throws -> RopeScaling? {
        var scaling: RopeScaling?
        if let v = file.metadata[ggufKey]?.array?.compactMap(\.double) {
            guard v.count == 4 else { throw ModelError("\(file.path): \(ggufKey) must hold 4 numbers, holds \(v.count)") }
            guard let original = wholeCount(v[3]) else { throw ModelError("\(file.path): \(ggufKey)'s original context \(v[3]) is not a whole number") }
            scaling = RopeScaling(factor: v[0], lowFrequencyFactor: v[1], highFrequencyFactor: v[2], originalContext: original)
        }
        guard let info = file.tensors.first(where: { $0.name == ggufTensor }) else { return scaling }
        let factors = try file.tensor(info).scalars.map(Double.init)
        let base = c.baseFrequencies()
        guard factors.count == base.count else {
            throw ModelError("\(file.path): \(ggufTensor) has \(factors.count) values; a rotary size of \(c.rotaryDim) needs \(base.count)")
        }
        if scaling == nil, factors.allSatisfy({ Swift.abs($0 - 1) < 1e-6 }) { return nil }
        let fitted = try scaling ?? fitted(factors: factors, frequencies: base, source: file.path)
        for (f, (b, s)) in zip(factors, zip(base, fitted.scale(base))) where Swift.abs(b / s - f) > 1e-4 * Swift.max(1, f) {
            throw ModelError("\(file.path): \(ggufTensor) is not Llama 3's rope scaling (factor \(f) where \(b / s) was expected)")
        }
        return fitted
    }

    /// Llama 3's numbers from the factors alone. Between the bounds the blend s = (original /
    /// wavelength − low) / (high − low) is linear in 1/wavelength, so two blended frequencies fix
    /// it; scaling original, low and high together changes nothing, so low is taken as 1.
    static func fitted(factors: [Double], frequencies: [Double], source: String) throws -> RopeScaling {
        let factor = factors.max()!
        let blended = zip(factors, frequencies).filter { $0.0 > 1 + 1e-6 && $0.0 < factor * (1 - 1e-6) }
        guard blended.count >= 2, let first = blended.first, let last = blended.last else {
            throw ModelError("\(source): \(ggufTensor) has fewer than two blended frequencies, too few to recover Llama 3's rope scaling")
        }
        // s = a·x + b with x = 1/wavelength; s from 1/f = (1 − s)/factor + s.
        func point(_ p: (Double, Double)) -> (x: Double, s: Double) { (p.1 / (2 * .pi), (1 / p.0 - 1 / factor) / (1 - 1 / factor)) }
        let (p, q) = (point(first), point(last))
        let a = (q.s - p.s) / (q.x - p.x), b = p.s - a * p.x
        let high = 1 - 1 / b
        guard high > 1, high.isFinite, let original = wholeCount((a * (high - 1)).rounded()), original > 0 else {
            throw ModelError("\(source): \(ggufTensor)'s blended frequencies do not follow Llama 3's rope scaling")
        }
        return RopeScaling(factor: factor, lowFrequencyFactor: 1, highFrequencyFactor: high, originalContext: original)
    }
}
