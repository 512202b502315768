import CKernels
import FinchTensor
import Foundation
import Testing

/// Q8_0 matrix-vector products (x quantised per block too, as llama.cpp does) against float32 products.
@Suite struct QuantizedMatrixTests {
    @Test func productMatchesTheDequantisedMatrix() throws {
        for (rows, cols) in [(7, 64), (300, 96), (1000, 32)] {
            var rng = RNG(seed: UInt64(rows))
            let w = try Tensor.normal([rows, cols], rng: &rng), x = try Tensor.normal([2, cols], rng: &rng)
            let q = try QuantizedMatrix(w)
            let y = try q.apply(x)
            #expect(y.shape == [2, rows])
            let exact = try x.matmul(w.transpose()).scalars
            // Weights and x (quantised per block too) each move by at most half a step, max / 254:
            // per row, |Δy| ≤ Σ|x|·max|w|/254 + Σ|w_row|·max|x|/254 (+ the error of the error term).
            let ws = w.scalars, xs = x.scalars
            let wmax = ws.map(abs).max()!, xmax = xs.map(abs).max()!
            for i in 0..<2 {
                let xsum = xs[(i * cols)..<((i + 1) * cols)].map(abs).reduce(0, +)
                for r in 0..<rows {
                    let wsum = ws[(r * cols)..<((r + 1) * cols)].map(abs).reduce(0, +)
                    let bound = (xsum * wmax + wsum * xmax) / 254 * 1.01 + 1e-4
                    let (a, b) = (y.scalars[i * rows + r], exact[i * rows + r])
                    if abs(a - b) > bound { Issue.record("\(rows)x\(cols) row \(r): \(a) vs \(b) (bound \(bound))"); return }
                }
            }
        }
    }

    @Test func severalMatricesInOneJob() throws {
        var rng = RNG(seed: 9)
        let a = try QuantizedMatrix(try Tensor.normal([576, 64], rng: &rng)), b = try QuantizedMatrix(try Tensor.normal([40, 64], rng: &rng))
        let x = try Tensor.normal([1, 64], rng: &rng)
        let both = try QuantizedMatrix.apply([a, b], x)
        let alone = (try a.apply(x).scalars, try b.apply(x).scalars)
        #expect(both[0].scalars == alone.0 && both[1].scalars == alone.1)
        #expect(throws: TensorError.self) { try QuantizedMatrix.apply([a, try QuantizedMatrix(try Tensor.zeros([4, 32]))], x) }
    }

    @Test func zeroRowsAndBadShapes() throws {
        let q = try QuantizedMatrix(try Tensor.zeros([128, 32]))
        #expect(try q.apply(try Tensor.ones([1, 32])).scalars.allSatisfy { $0 == 0 })
        #expect(throws: TensorError.self) { try QuantizedMatrix(try Tensor.zeros([4, 30])) }
        #expect(throws: TensorError.self) { try q.apply(try Tensor.ones([1, 31])) }
    }

    @Test func writesBumpTheStorageVersion() throws {
        let w = try Tensor.zeros([4, 32])
        let v0 = w.storage.version
        try w.fill(1)
        try w.assign(try Tensor.ones([32]))
        try w.setElement([0, 0], 3)
        #expect(w.storage.version == v0 + 3)
        #expect(try QuantizedMatrix(w).sourceVersion == w.storage.version)
    }
}

/// The byte dot-product kernels (AVX-512 VNNI, AVX2, portable C) against the formula they all
/// follow, bit for bit: decoding must give the same tokens on every CPU and with every kernel.
@Suite struct Q8KernelTests {
    /// The formula: exact block dots, even blocks into acc0, odd into acc1, y = acc0 + acc1.
    static func reference(_ q: [Int8], _ d: [Float], cols: Int, _ xq: [Int8], _ xd: [Float], row r: Int, input i: Int) -> Float {
        let nb = cols / 32
        var acc0: Float = 0, acc1: Float = 0
        for b in 0..<nb {
            var dot: Int32 = 0
            for j in 0..<32 { dot += Int32(q[r * cols + b * 32 + j]) * Int32(xq[i * cols + b * 32 + j]) }
            let term = Float(dot) * (d[r * nb + b] * xd[i * nb + b])
            if b % 2 == 0 { acc0 += term } else { acc1 += term }
        }
        return acc0 + acc1
    }

    @Test func everyKernelGivesTheFormulasBits() throws {
        var rng = RNG(seed: 11)
        var ran = 0
        // Row counts around the panel of 16 (a partial last panel, several whole ones), odd and even block counts.
        for (rows, cols, inputs) in [(37, 576, 1), (20, 96, 3), (9, 1536, 2), (5, 32, 1), (48, 64, 2), (16, 160, 1)] {
            let nb = cols / 32
            // Weights whose blocks use Q8_0's whole range (each block's largest value becomes ±127; zeros
            // too), with scales across several magnitudes; the formula reads the quantised rows.
            let w: [Float] = (0..<rows * cols).map { i in
                let value = Float(Int(rng.next() % 2001) - 1000), scale = Float(1 + (i / 32) % 7)
                return value * scale * 1e-4
            }
            var q = [Int8](repeating: 0, count: rows * cols), d = [Float](repeating: 0, count: rows * nb)
            finch_q8_quantize(w, rows * nb, &q, &d, nil)
            let xq = (0..<inputs * cols).map { _ in Int8(Int(rng.next() % 255) - 127) }
            let xd = (0..<inputs * nb).map { _ in Float(rng.next() % 1000 + 1) * 1e-4 }
            let xsum = (0..<inputs * nb).map { b in (0..<32).reduce(Int32(0)) { $0 + Int32(xq[b * 32 + $1]) } }
            let panels = (rows + 15) / 16
            var packed = [UInt8](repeating: 0, count: panels * 16 * cols), packedScales = [Float](repeating: .nan, count: panels * 16 * nb)
            finch_q8_pack(w, rows, cols, &packed, &packedScales, 0, panels)
            ran += checkPanelKernels(rows: rows, inputs: inputs, "\(rows)x\(cols)") { kernel, y, r0 in
                finch_q8_rows_with(kernel, packed, packedScales, cols, xq, xd, xsum, inputs, y, rows, r0, rows)
            } want: { r, i in Self.reference(q, d, cols: cols, xq, xd, row: r, input: i) }
        }
        #expect(ran >= 8, "the portable kernel and at least the AVX2 one ran")
        #expect(["avx512vnni", "avx2", "portable"].contains(String(cString: finch_q8_kernel())))
    }
}

/// Checks a panel kernel the way both formats need it: for each kernel this CPU has (0 portable,
/// 1 AVX2, 2 AVX-512 VNNI) every output has the formula's bits, nothing past the last row is
/// written, and rows 16..<rows alone (where the threads' pieces start) give the same bits and
/// touch nothing else. `product(kernel, y, r0)` computes rows r0..<rows into y (rows apart per
/// input) and returns 0 when this CPU lacks the kernel. Returns how many kernels ran.
func checkPanelKernels(rows: Int, inputs: Int, _ label: String, product: (Int32, UnsafeMutablePointer<Float>, Int) -> Int32,
                       want: (_ row: Int, _ input: Int) -> Float) -> Int {
    var ran = 0
    for kernel in Int32(0)...2 {
        var y = [Float](repeating: .nan, count: inputs * rows + 1)
        guard y.withUnsafeMutableBufferPointer({ product(kernel, $0.baseAddress!, 0) }) == 1 else { continue }
        ran += 1
        for i in 0..<inputs {
            for r in 0..<rows {
                let expected = want(r, i)
                #expect(y[i * rows + r].bitPattern == expected.bitPattern, "kernel \(kernel), \(label) row \(r) input \(i): \(y[i * rows + r]) against \(expected)")
            }
        }
        #expect(y[inputs * rows].isNaN, "kernel \(kernel) wrote past the last row")
        guard rows > 16 else { continue }
        var part = [Float](repeating: .nan, count: inputs * rows)
        _ = part.withUnsafeMutableBufferPointer { product(kernel, $0.baseAddress!, 16) }
        for i in 0..<inputs {
            let before = part[(i * rows)..<(i * rows + 16)].allSatisfy { $0.isNaN }
            let same = zip(part[(i * rows + 16)..<((i + 1) * rows)], y[(i * rows + 16)..<((i + 1) * rows)]).allSatisfy { $0.bitPattern == $1.bitPattern }
            #expect(before && same, "kernel \(kernel), \(label) input \(i): rows 16..<\(rows) alone")
        }
    }
    return ran
}

/// Q8_0's quantisation (CKernels, vectorised where the CPU allows) against its formula written out.
@Suite struct Q8QuantizeTests {
    /// d = max|x| / 127, q = round(x · (1/d)) with halves away from zero.
    static func reference(_ x: [Float]) -> (q: [Int8], d: Float) {
        var amax: Float = 0
        for v in x { amax = Swift.max(amax, Swift.abs(v)) }
        let d = amax / 127, inv: Float = d == 0 ? 0 : 1 / d
        return (x.map { Int8(($0 * inv).rounded()) }, d)
    }

    @Test func givesTheFormulasBits() {
        var rng = RNG(seed: 5)
        var blocks: [[Float]] = (0..<2000).map { i in
            let scale = Float(pow(10, Double(i % 13) - 6))
            return (0..<32).map { _ in Float(Int(rng.next() % 2_000_001) - 1_000_000) / 1e6 * scale }
        }
        // Exact halves (d = 1 when max|x| = 127), zeros, a block of zeros, tiny values.
        blocks.append([127, 2.5, -2.5, 0.5, -0.5, 126.5, -126.5, 1.5, -1.5, 0, -0] + [Float](repeating: 3.5, count: 21))
        blocks.append([Float](repeating: 0, count: 32))
        blocks.append((0..<32).map { Float($0) * 1e-30 })
        blocks.append((0..<32).map { Float($0 - 16) * 1.3e37 })
        let flat = blocks.flatMap { $0 }
        var q = [Int8](repeating: 0, count: flat.count), d = [Float](repeating: .nan, count: blocks.count)
        var sums = [Int32](repeating: 0, count: blocks.count)
        finch_q8_quantize(flat, blocks.count, &q, &d, &sums)
        for (b, block) in blocks.enumerated() {
            let want = Self.reference(block)
            let got = Array(q[(b * 32)..<(b * 32 + 32)])
            #expect(got == want.q && d[b].bitPattern == want.d.bitPattern, "block \(b): \(got) d \(d[b]) against \(want.q) d \(want.d)")
            #expect(sums[b] == got.reduce(Int32(0)) { $0 + Int32($1) })
            // The one-block form that the GGUF writer uses.
            var one = [Int8](repeating: 0, count: 32)
            let d1 = block.withUnsafeBufferPointer { QuantizedMatrix.quantizeBlock($0.baseAddress!, into: &one) }
            #expect(one == got && d1.bitPattern == d[b].bitPattern)
        }
    }

    /// Where the formula has no int8 answer (NaN, infinities, a scale whose reciprocal overflows),
    /// every value still lands in [-127, 127] instead of trapping.
    @Test func nonFiniteInputsStayInRange() {
        let blocks: [[Float]] = [
            [.nan] + [Float](repeating: 1, count: 31),
            [.infinity, -.infinity] + [Float](repeating: 2, count: 30),
            [Float.leastNonzeroMagnitude, 0] + [Float](repeating: -Float.leastNonzeroMagnitude, count: 30),
            [Float](repeating: .nan, count: 32),
        ]
        let flat = blocks.flatMap { $0 }
        var q = [Int8](repeating: 99, count: flat.count), d = [Float](repeating: 0, count: blocks.count)
        finch_q8_quantize(flat, blocks.count, &q, &d, nil)
        #expect(q.allSatisfy { $0 >= -127 && $0 <= 127 })
        #expect(q[1] == 127 && q[0] == 0, "NaN gives 0 and the finite values their steps")
    }
}

/// Q4_1 products: the kernels against their formula bit for bit, and the product against float32's.
@Suite struct Q4MatrixTests {
    /// The formula on row-major blocks: exact block dots, then dot · (d · xd) + m · (xd · xsum), even
    /// blocks into acc0, odd into acc1, y = acc0 + acc1.
    static func reference(_ w: [Float], cols: Int, _ xq: [Int8], _ xd: [Float], row r: Int, input i: Int) -> Float {
        let nb = cols / 32
        var acc0: Float = 0, acc1: Float = 0
        for b in 0..<nb {
            var d: UInt16 = 0, m: UInt16 = 0
            var q = [UInt8](repeating: 0, count: 32)
            w.withUnsafeBufferPointer { finch_q4_1_quantize($0.baseAddress! + r * cols + b * 32, &d, &m, &q) }
            var dot: Int32 = 0, xsum: Int32 = 0
            for j in 0..<32 {
                dot += Int32(q[j]) * Int32(xq[i * cols + b * 32 + j])
                xsum += Int32(xq[i * cols + b * 32 + j])
            }
            let xb = xd[i * nb + b]
            let term = Float(dot) * (finch_half_to_float(d) * xb) + finch_half_to_float(m) * (xb * Float(xsum))
            if b % 2 == 0 { acc0 += term } else { acc1 += term }
        }
        return acc0 + acc1
    }

    @Test func everyKernelGivesTheFormulasBits() throws {
        var rng = RNG(seed: 12)
        var ran = 0
        for (rows, cols, inputs) in [(37, 576, 1), (20, 96, 3), (9, 1536, 2), (5, 32, 1), (48, 64, 2)] {
            let nb = cols / 32
            let w = (0..<rows * cols).map { _ in Float(Int(rng.next() % 20001) - 10000) * 1e-4 }
            let xq = (0..<inputs * cols).map { _ in Int8(Int(rng.next() % 255) - 127) }
            let xd = (0..<inputs * nb).map { _ in Float(rng.next() % 1000 + 1) * 1e-4 }
            let xsum = (0..<inputs * nb).map { b in (0..<32).reduce(Int32(0)) { $0 + Int32(xq[b * 32 + $1]) } }
            let panels = (rows + 15) / 16
            var packed = [UInt8](repeating: 0, count: panels * 8 * cols), scales = [UInt16](repeating: 0, count: panels * 32 * nb)
            finch_q4_pack(w, rows, cols, &packed, &scales, 0, panels)
            ran += checkPanelKernels(rows: rows, inputs: inputs, "\(rows)x\(cols)") { kernel, y, r0 in
                finch_q4_rows_with(kernel, packed, scales, cols, xq, xd, xsum, inputs, y, rows, r0, rows)
            } want: { r, i in Self.reference(w, cols: cols, xq, xd, row: r, input: i) }
        }
        #expect(ran >= 10, "the portable kernel and at least the AVX2 one ran")
    }

    @Test func productMatchesTheFloat32One() throws {
        var rng = RNG(seed: 13)
        let (rows, cols) = (300, 96)
        let w = try Tensor.normal([rows, cols], rng: &rng), x = try Tensor.normal([2, cols], rng: &rng)
        let y = try QuantizedMatrix(w, format: .q4_1).apply(x).scalars
        let exact = try x.matmul(w.transpose()).scalars
        // Each weight moves by at most half a step (its block's (max − min) / 30, plus float16's rounding of
        // the step and minimum), x by at most max|x| / 254 per value.
        let ws = w.scalars, xs = x.scalars
        for i in 0..<2 {
            let xrow = xs[(i * cols)..<((i + 1) * cols)], xmax = xrow.map(abs).max()!
            for r in 0..<rows {
                var bound: Float = 0
                for b in 0..<(cols / 32) {
                    let block = ws[(r * cols + b * 32)..<(r * cols + b * 32 + 32)]
                    let step = (block.max()! - block.min()!) / 15
                    let xs = xrow[(i * cols + b * 32)..<(i * cols + b * 32 + 32)].map(abs).reduce(0, +)
                    bound += xs * (step / 2 + (abs(block.min()!) + step * 15) / 1024) + block.map(abs).reduce(0, +) * xmax / 254
                }
                let (a, e) = (y[i * rows + r], exact[i * rows + r])
                #expect(abs(a - e) <= bound * 1.01 + 1e-4, "row \(r): \(a) vs \(e) (bound \(bound))")
            }
        }
        #expect(throws: TensorError.self) { try QuantizedMatrix.apply([try QuantizedMatrix(w), try QuantizedMatrix(w, format: .q4_1)], x) }
    }

    /// float16 conversions against Swift's Float16 (round to nearest even) on every float16 and on
    /// floats around every rounding boundary.
    @Test func halfConversionsMatchFloat16() {
        for bits in 0...UInt16.max {
            let h = Float16(bitPattern: bits)
            let f = finch_half_to_float(bits)
            #expect(h.isNaN ? f.isNaN : f.bitPattern == Float(h).bitPattern, "half \(bits)")
            if !h.isNaN {
                #expect(finch_float_to_half(Float(h)) == bits, "back from half \(bits)")
            }
        }
        var rng = RNG(seed: 14)
        for _ in 0..<200_000 {
            let f = Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))
            guard !f.isNaN else { continue }
            #expect(finch_float_to_half(f) == Float16(f).bitPattern, "float \(f)")
        }
    }
}
