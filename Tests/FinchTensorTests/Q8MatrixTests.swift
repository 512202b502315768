import CKernels
import FinchTensor
import Testing

/// Q8_0 matrix-vector products (x quantised per block too, as llama.cpp does) against float32 products.
@Suite struct Q8MatrixTests {
    @Test func productMatchesTheDequantisedMatrix() throws {
        for (rows, cols) in [(7, 64), (300, 96), (1000, 32)] {
            var rng = RNG(seed: UInt64(rows))
            let w = try Tensor.normal([rows, cols], rng: &rng), x = try Tensor.normal([2, cols], rng: &rng)
            let q = try Q8Matrix(w)
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
        let a = try Q8Matrix(try Tensor.normal([576, 64], rng: &rng)), b = try Q8Matrix(try Tensor.normal([40, 64], rng: &rng))
        let x = try Tensor.normal([1, 64], rng: &rng)
        let both = try Q8Matrix.apply([a, b], x)
        let alone = (try a.apply(x).scalars, try b.apply(x).scalars)
        #expect(both[0].scalars == alone.0 && both[1].scalars == alone.1)
        #expect(throws: TensorError.self) { try Q8Matrix.apply([a, try Q8Matrix(try Tensor.zeros([4, 32]))], x) }
    }

    @Test func zeroRowsAndBadShapes() throws {
        let q = try Q8Matrix(try Tensor.zeros([128, 32]))
        #expect(try q.apply(try Tensor.ones([1, 32])).scalars.allSatisfy { $0 == 0 })
        #expect(throws: TensorError.self) { try Q8Matrix(try Tensor.zeros([4, 30])) }
        #expect(throws: TensorError.self) { try q.apply(try Tensor.ones([1, 31])) }
    }

    @Test func writesBumpTheStorageVersion() throws {
        let w = try Tensor.zeros([4, 32])
        let v0 = w.storage.version
        try w.fill(1)
        try w.assign(try Tensor.ones([32]))
        try w.setElement([0, 0], 3)
        #expect(w.storage.version == v0 + 3)
        #expect(try Q8Matrix(w).sourceVersion == w.storage.version)
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
        for (rows, cols, inputs) in [(37, 576, 1), (20, 96, 3), (9, 1536, 2), (5, 32, 1)] {
            let nb = cols / 32
            // The whole range Q8_0 uses, -127...127, including its ends and zero.
            let q = (0..<rows * cols).map { _ in Int8(Int(rng.next() % 255) - 127) }
            let xq = (0..<inputs * cols).map { _ in Int8(Int(rng.next() % 255) - 127) }
            let d = (0..<rows * nb).map { _ in Float(rng.next() % 1000 + 1) * 1e-5 }
            let xd = (0..<inputs * nb).map { _ in Float(rng.next() % 1000 + 1) * 1e-4 }
            for kernel in 0...2 {
                var y = [Float](repeating: .nan, count: inputs * rows)
                let supported = y.withUnsafeMutableBufferPointer { yp in
                    finch_q8_rows_with(Int32(kernel), q, d, cols, xq, xd, inputs, yp.baseAddress, rows, 0, rows)
                }
                guard supported == 1 else { continue }
                ran += 1
                for i in 0..<inputs {
                    for r in 0..<rows {
                        let want = Self.reference(q, d, cols: cols, xq, xd, row: r, input: i)
                        #expect(y[i * rows + r].bitPattern == want.bitPattern, "kernel \(kernel), \(rows)x\(cols) row \(r) input \(i): \(y[i * rows + r]) against \(want)")
                    }
                }
            }
        }
        #expect(ran >= 8, "the portable kernel and at least the AVX2 one ran")
        #expect(["avx512vnni", "avx2", "portable"].contains(String(cString: finch_q8_kernel())))
    }
}
