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
