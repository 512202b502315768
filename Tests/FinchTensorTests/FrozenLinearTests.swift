import CKernels
import FinchTensor
import Foundation
import Testing

/// Frozen weights kept in blocks (LoRA over a quantized base): the panels widen back to exactly
/// the blocks' values, and a layer over them computes what the float32 layer computes over those values.
@Suite struct FrozenLinearTests {
    /// Weights of many magnitudes, so blocks get small and large steps alike.
    static func weights(rows: Int, cols: Int, seed: UInt64) throws -> Tensor {
        var rng = RNG(seed: seed)
        let w = try Tensor.normal([rows, cols], rng: &rng)
        let p = w.scalars.enumerated().map { i, v in v * Float(pow(10, Double((i / 32) % 7) - 3)) }
        return try Tensor(p, shape: [rows, cols])
    }

    /// What widening must give: Q8_0 d · q, Q4_1 d · q + m, from the quantisers' own blocks.
    static func expected(_ w: [Float], _ format: QuantFormat) -> [Float] {
        stride(from: 0, to: w.count, by: 32).flatMap { b -> [Float] in
            let block = Array(w[b..<(b + 32)])
            switch format {
            case .q8_0:
                var q = [Int8](repeating: 0, count: 32)
                let d = block.withUnsafeBufferPointer { QuantizedMatrix.quantizeBlock($0.baseAddress!, into: &q) }
                return q.map { d * Float($0) }
            case .q4_1:
                var d: UInt16 = 0, m: UInt16 = 0, q = [UInt8](repeating: 0, count: 32)
                finch_q4_1_quantize(block, &d, &m, &q)
                let (df, mf) = (finch_half_to_float(d), finch_half_to_float(m))
                return q.map { let dq = df * Float($0); return dq + mf }
            }
        }
    }

    @Test(arguments: QuantFormat.allCases) func widenGivesTheBlocksValues(format: QuantFormat) throws {
        var ran = 0
        for (rows, cols) in [(1, 32), (16, 64), (37, 96), (64, 32)] {
            let w = try Self.weights(rows: rows, cols: cols, seed: UInt64(rows * cols))
            let m = try QuantizedMatrix(w, format: format), want = Self.expected(w.scalars, format)
            for kernel in Int32(0)...1 {
                var out = [Float](repeating: .nan, count: rows * cols + 1)
                guard out.withUnsafeMutableBufferPointer({ m.widen(into: $0.baseAddress!, ldo: cols, rows: 0..<rows, kernel: kernel) }) else { continue }
                ran += 1
                let same = zip(out, want).allSatisfy { $0.bitPattern == $1.bitPattern }
                #expect(same, "kernel \(kernel), \(rows)x\(cols) \(format)")
                #expect(out[rows * cols].isNaN, "kernel \(kernel) wrote past the last row")
                guard rows > 16 else { continue }
                // Rows 16..<rows alone, into a buffer that starts at row 16 and is wider than a row.
                let ldo = cols + 3
                var part = [Float](repeating: .nan, count: (rows - 16) * ldo)
                _ = part.withUnsafeMutableBufferPointer { m.widen(into: $0.baseAddress!, ldo: ldo, rows: 16..<rows, kernel: kernel) }
                for r in 16..<rows {
                    let row = part[((r - 16) * ldo)..<((r - 16) * ldo + cols)], pad = part[((r - 16) * ldo + cols)..<((r - 15) * ldo)]
                    #expect(zip(row, want[(r * cols)..<((r + 1) * cols)]).allSatisfy { $0.bitPattern == $1.bitPattern } && pad.allSatisfy(\.isNaN),
                            "kernel \(kernel), \(format) row \(r) of the range 16..<\(rows)")
                }
            }
        }
        #expect(ran >= 8, "the portable kernel and the AVX2 one ran")
        #expect(try QuantizedMatrix(Self.weights(rows: 37, cols: 96, seed: 1), format: format).widened().scalars
                == Self.expected(try Self.weights(rows: 37, cols: 96, seed: 1).scalars, format))
    }

    /// Forward and the gradient to the input have the bits of the float32 layer on the widened
    /// weights: one row (GEMV) and many (GEMM), in float32 and, where the CPU has it, bfloat16.
    @Test(arguments: QuantFormat.allCases) func layerMatchesTheFloat32LayerOnTheWidenedWeights(format: QuantFormat) throws {
        let m = try QuantizedMatrix(Self.weights(rows: 80, cols: 64, seed: 3), format: format)
        let dense = try m.widened()
        var precisions: [MatmulPrecision] = [.float32]
        if MatmulPrecision.bfloat16Supported { precisions.append(.bfloat16) }
        for precision in precisions {
            for shape in [[1, 64], [3, 5, 64], [2, 40, 64]] {
                var rng = RNG(seed: 9)
                let x = try Tensor.normal(shape, rng: &rng), c = try Tensor.normal(Array(shape.dropLast()) + [80], rng: &rng)
                func run(_ layer: (Tensor) throws -> Tensor) throws -> (y: [Float], dx: [Float]) {
                    let input = try x.copy()
                    input.requiresGrad = true
                    let y = try MatmulPrecision.with(precision) { try layer(input) }
                    try MatmulPrecision.with(precision) { try y.multiplying(c).sum().backward() }
                    return (y.scalars, input.grad!.scalars)
                }
                let frozen = try run { try $0.linear(frozen: m) }, float = try run { try $0.linear(dense) }
                #expect(frozen.y.map(\.bitPattern) == float.y.map(\.bitPattern), "\(format) \(precision) forward, x \(shape)")
                #expect(frozen.dx.map(\.bitPattern) == float.dx.map(\.bitPattern), "\(format) \(precision) dx, x \(shape)")
            }
        }
        #expect(throws: TensorError.self) { try Tensor.zeros([2, 32]).linear(frozen: m) }
    }
}
