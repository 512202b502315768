@preconcurrency import COpenBLAS
import Foundation
import FinchTensor
import Testing

/// Forward values against straightforward Double-precision references.
@Suite struct ForwardTests {
    @Test func unaryFunctionsMatchLibm() throws {
        let xs = stride(from: -20.0, through: 20.0, by: 0.37).map { Float($0) }
        let x = Tensor(xs)
        expectClose(try x.exp(), xs.map { Float(Foundation.exp(Double($0))) }, atol: 0, rtol: 3e-7, "exp")
        expectClose(try x.tanh(), xs.map { Float(Foundation.tanh(Double($0))) }, atol: 2e-7, rtol: 1e-6, "tanh")
        expectClose(try x.sigmoid(), xs.map { Float(1 / (1 + Foundation.exp(-Double($0)))) }, atol: 1e-7, rtol: 1e-6, "sigmoid")
        expectClose(try x.silu(), xs.map { Float(Double($0) / (1 + Foundation.exp(-Double($0)))) }, atol: 1e-6, rtol: 1e-6, "silu")
        expectClose(try x.gelu(), xs.map { Float(0.5 * Double($0) * (1 + Foundation.erf(Double($0) / 2.0.squareRoot()))) },
                    atol: 1e-6, rtol: 1e-6, "gelu")
        expectClose(try x.geluTanh(), xs.map { v -> Float in
            let d = Double(v)
            return Float(0.5 * d * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (d + 0.044715 * d * d * d))))
        }, atol: 1e-6, rtol: 1e-6, "gelu (tanh)")
        expectClose(try x.relu(), xs.map { max($0, 0) }, "relu")
        let positive = Tensor(xs.map { abs($0) + 0.01 })
        expectClose(try positive.log(), positive.scalars.map { Float(Foundation.log(Double($0))) }, rtol: 1e-6, "log")
        expectClose(try positive.sqrt(), positive.scalars.map { $0.squareRoot() }, "sqrt")
    }

    @Test func expEdgeCases() throws {
        let x = Tensor([-.infinity, -1000, -87, 0, 88, 88.7, 89, 1000, .infinity, .nan])
        let y = try x.exp().scalars
        #expect(y[0] == 0 && y[1] == 0)
        #expect(y[3] == 1)
        #expect(abs(y[4] / Float(Foundation.exp(88.0)) - 1) < 1e-6)
        #expect(abs(y[5] / Float(Foundation.exp(Double(Float(88.7)))) - 1) < 1e-6)
        #expect(y[6] == .infinity && y[7] == .infinity && y[8] == .infinity)
        #expect(y[9].isNaN)
    }

    @Test func broadcastingArithmetic() throws {
        let a = try Tensor([[1, 2, 3], [4, 5, 6]]), b = Tensor([10, 20, 30])
        expectClose(try a + b, [11, 22, 33, 14, 25, 36], "row broadcast")
        let col = try Tensor([1, 2], shape: [2, 1])
        expectClose(try a * col, [1, 2, 3, 8, 10, 12], "column broadcast")
        expectClose(try col - b, [-9, -19, -29, -8, -18, -28], "outer broadcast")
        expectClose(try 1 / a, [1, 0.5, 1 / 3, 0.25, 0.2, 1 / 6], "scalar on the left")
        expectClose(try a.transpose() + Tensor([100, 200], shape: [2]), [101, 204, 102, 205, 103, 206], "strided operand")
        expectClose(try a.pow(2), [1, 4, 9, 16, 25, 36], "pow")
    }

    @Test func comparisonsAndWhere() throws {
        let a = Tensor([1, 2, 3, 4]), b = Tensor([4, 2, 2, 5])
        expectClose(try a.lt(b), [1, 0, 0, 1], "lt")
        expectClose(try a.eq(b), [0, 1, 0, 0], "eq")
        expectClose(try a.ge(b), [0, 1, 1, 0], "ge")
        expectClose(try a.gt(.scalar(2)).where_(a, Tensor.scalar(-.infinity)), [-.infinity, -.infinity, 3, 4], "where keeps -inf")
        expectClose(try a.maximum(b), [4, 2, 3, 5], "maximum")
        expectClose(try a.minimum(b), [1, 2, 2, 4], "minimum")
    }

    @Test func reductionsAlongAxes() throws {
        let x = try Tensor(Array(0..<24).map(Float.init), shape: [2, 3, 4])
        expectClose(try x.sum(), [276], "sum all")
        expectClose(try x.sum(axis: 1), [12, 15, 18, 21, 48, 51, 54, 57], "sum axis 1")
        #expect(try x.sum(axis: 1, keepdims: true).shape == [2, 1, 4])
        expectClose(try x.sum(axes: [0, 2]), [60, 92, 124], "sum axes 0 and 2")
        expectClose(try x.mean(axis: -1), [1.5, 5.5, 9.5, 13.5, 17.5, 21.5], "mean")
        expectClose(try x.max(axis: 2), [3, 7, 11, 15, 19, 23], "max")
        expectClose(try x.min(axis: 0), Array(0..<12).map(Float.init), "min")
        expectClose(try Tensor([3, 9, 9, 1]).argmax(), [1], "argmax takes the first")
        expectClose(try Tensor([1, 2, 3, 4]).variance(), [5.0 / 3], "var unbiased")
        expectClose(try Tensor([1, 2, 3, 4]).variance(correction: 0), [1.25], "var population")
    }

    /// Along a contiguous last axis, max, min and argmax take vector passes; they must find what a
    /// scan keeping strictly better values finds: the first extreme, or the first NaN.
    @Test func rowExtremesMatchTheScan() throws {
        var rng = RNG(seed: 3)
        for n in [1, 15, 16, 17, 100, 49152] {
            for trial in 0..<6 {
                // Few distinct values, so ties are common; zeros of both signs; NaN in two trials.
                var row = (0..<n).map { _ in Float(Int(rng.next() % 7) - 3) }
                if trial == 1 { for i in 0..<n where row[i] == 0 && rng.next() % 2 == 0 { row[i] = -0.0 } }
                if trial >= 4, n > 2 { row[Int(rng.next() % UInt64(n))] = .nan }
                if trial == 5 { row[n - 1] = .nan }
                let x = try Tensor(row + row.reversed(), shape: [2, n])
                for (maxFirst, name) in [(true, "max"), (false, "min")] {
                    let values = try (maxFirst ? x.max(axis: 1) : x.min(axis: 1)).scalars
                    for (r, data) in [row, Array(row.reversed())].enumerated() {
                        var best = data[0], at = 0
                        if !best.isNaN {
                            for j in 1..<n {
                                if data[j].isNaN { best = data[j]; at = j; break }
                                if maxFirst ? data[j] > best : data[j] < best { best = data[j]; at = j }
                            }
                        }
                        #expect(values[r].bitPattern == best.bitPattern, "\(name) of row \(r), n \(n), trial \(trial)")
                        if maxFirst { #expect(try x.argmax(axis: 1).scalars[r] == Float(at), "argmax of row \(r), n \(n), trial \(trial)") }
                    }
                }
            }
        }
    }

    @Test func longSumsKeepPrecision() throws {
        let n = 1 << 20
        let x = try Tensor.full([n], 0.1)
        let total = try x.sum().item()
        #expect(abs(total - Float(Double(n) * Double(Float(0.1)))) < 0.5)
    }

    @Test func matmulMatchesNaiveProduct() throws {
        var rng = RNG(seed: 3)
        let a = try Tensor.normal([2, 5, 7], rng: &rng), b = try Tensor.normal([7, 3], rng: &rng)
        let c = try a.matmul(b)
        #expect(c.shape == [2, 5, 3])
        var expected: [Float] = []
        for batch in 0..<2 { for i in 0..<5 { for j in 0..<3 {
            var s = 0.0
            for k in 0..<7 { s += Double(try a.element([batch, i, k])) * Double(try b.element([k, j])) }
            expected.append(Float(s))
        } } }
        expectClose(c, expected, atol: 1e-4, rtol: 1e-4, "batched x shared")
        // The same product through transposed views (no copies) and a batched right side.
        let bt = try b.transpose().contiguous().transpose()
        expectClose(try a.matmul(bt), expected, atol: 1e-4, rtol: 1e-4, "transposed view")
        expectClose(try a.matmul(b.expand([2, 7, 3])), expected, atol: 1e-4, rtol: 1e-4, "batched right side")
        expectClose(try Tensor([1, 2]).matmul(Tensor([3, 4])), [11], "dot product")
        // Single rows go through GEMV: plain, against a transposed view, and from a strided (column) view.
        for batch in 0..<2 {
            for i in 0..<5 {
                let row = try a.select(axis: 0, batch).slice(axis: 0, start: i, end: i + 1)
                let want = Array(expected[(batch * 5 + i) * 3 ..< (batch * 5 + i + 1) * 3])
                expectClose(try row.matmul(b), want, atol: 1e-4, rtol: 1e-4, "one row")
                expectClose(try row.matmul(bt), want, atol: 1e-4, rtol: 1e-4, "one row, transposed view")
                let column = try row.contiguous().transpose().contiguous().transpose()
                expectClose(try column.matmul(b), want, atol: 1e-4, rtol: 1e-4, "one row from a column")
            }
        }
    }

    @Test func softmaxAndCrossEntropy() throws {
        let logits = try Tensor([[1, 2, 3], [1000, 0, -1000]])
        let p = try logits.softmax().scalars
        let e = [1.0, 2, 3].map { Foundation.exp($0) }, z = e.reduce(0, +)
        for i in 0..<3 { #expect(abs(p[i] - Float(e[i] / z)) < 1e-6) }
        #expect(p[3] == 1 && p[4] == 0 && p[5] == 0)
        let logp = try logits.logSoftmax().scalars
        #expect(abs(logp[0] - Float(1 - Foundation.log(z))) < 1e-5)
        #expect(logp[5] == -2000)
        let loss = try logits.crossEntropy(Tensor([2, 1])).item()
        let expected = (-(3 - Foundation.log(z)) + 1000) / 2
        #expect(abs(Double(loss) - expected) < 1e-3)
        let ignored = try logits.crossEntropy(Tensor([2, -100])).item()
        #expect(abs(Double(ignored) + (3 - Foundation.log(z))) < 1e-5)
    }

    @Test func normsMatchDefinitions() throws {
        let x = try Tensor([[1, 2, 3, 4]]), w = Tensor([1, 0.5, 2, 1]), b = Tensor([0, 1, 0, -1])
        let ms = (1 + 4 + 9 + 16) / 4.0
        let r = 1 / (ms + 1e-5).squareRoot()
        // x·r·w = [1·1, 2·0.5, 3·2, 4·1]·r
        expectClose(try x.rmsNorm(weight: w), [1, 1, 6, 4].map { Float($0 * r) }, rtol: 1e-5, "rmsnorm")
        let mean = 2.5, variance = 1.25, rs = 1 / (variance + 1e-5).squareRoot()
        let expected = [1.0, 2, 3, 4].enumerated().map { Float(($0.element - mean) * rs) * w.scalars[$0.offset] + b.scalars[$0.offset] }
        expectClose(try x.layerNorm(weight: w, bias: b), expected, rtol: 1e-5, "layernorm")
    }

    @Test func embeddingConcatStackSplitGather() throws {
        let table = try Tensor([[0, 1], [10, 11], [20, 21]])
        let e = try table.embedding(Tensor([2, 0, 2], shape: [3]))
        expectClose(e, [20, 21, 0, 1, 20, 21], "embedding")
        let a = try Tensor([[1, 2], [3, 4]]), b = try Tensor([[5], [6]])
        expectClose(try Tensor.concat([a, b], axis: 1), [1, 2, 5, 3, 4, 6], "concat")
        let s = try Tensor.stack([a, a], axis: 0)
        #expect(s.shape == [2, 2, 2])
        let parts = try Tensor.concat([a, b], axis: 1).split([2, 1], axis: -1)
        expectClose(parts[0], [1, 2, 3, 4], "split first")
        expectClose(parts[1], [5, 6], "split second")
        expectClose(try a.gather(axis: 1, Tensor([1, 1, 0, -1], shape: [2, 2])), [2, 2, 3, 4], "gather")
        expectClose(try a.chunk(2, axis: 0)[1], [3, 4], "chunk")
    }

    /// body's result with Finch on one thread, then on two.
    func onOneThreadAndTwo<T>(_ body: () throws -> T) rethrows -> (T, T) {
        let before = Threads.count
        defer { Threads.set(before) }
        Threads.set(1)
        let one = try body()
        Threads.set(2)
        return (one, try body())
    }

    @Test func resultsDoNotDependOnThreadCount() throws {
        var rng = RNG(seed: 5)
        let x = try Tensor.normal([300, 700], rng: &rng)
        let w = try Tensor.normal([700, 50], rng: &rng)
        func run() throws -> [Float] {
            try x.silu().softmax().matmul(w).sum(axis: 0).scalars + [x.sum().item()]
        }
        let (one, two) = try onOneThreadAndTwo(run)
        for (p, q) in zip(one, two) { #expect(abs(p - q) <= 1e-4 * max(1, abs(p))) }
    }

    /// Large products are split across the worker threads in blocks of rows or columns; a block too
    /// small would take OpenBLAS's small-matrix kernel and round differently, so every shape must
    /// give the same bits on one thread and on two — including the last block's remainder.
    @Test func splitProductsEqualTheWholeProductBitForBit() throws {
        var rng = RNG(seed: 11)
        // (rows, inner, columns): even splits, a one-row and a four-row remainder, a wide head, one row.
        let shapes = [(1024, 576, 192), (33, 576, 576), (20, 576, 192), (257, 576, 1536), (8, 576, 49152), (1, 576, 49152), (1, 576, 576), (1, 576, 192), (1, 1536, 576), (1, 48, 64)]
        for (m, k, n) in shapes {
            let x = try Tensor.normal([m, k], rng: &rng), w = try Tensor.normal([n, k], rng: &rng)
            func products() throws -> [[Float]] {
                [try x.matmul(w.transpose()).scalars,           // x · Wᵀ (a linear layer)
                 try x.transpose().matmul(x).scalars,           // Aᵀ · B (a weight gradient)
                 try x.linear(w).scalars]
            }
            let (one, two) = try onOneThreadAndTwo(products)
            for (p, q) in zip(one, two) {
                let differing = zip(p, q).filter { $0 != $1 }.count
                #expect(differing == 0, "\(m)x\(k)x\(n): \(differing) of \(p.count) elements differ")
            }
        }
    }

    /// Lessons replay to the same words only if every machine of an instruction level runs the same
    /// OpenBLAS kernels: Finch must have asked for them, and OpenBLAS must be running them.
    @Test func openBLASRunsTheKernelsFinchPinned() throws {
        _ = Threads.count
        let level = finch_cpu_vector_level()
        guard level > 0 else { return }  // no x86 vector level Finch pins: OpenBLAS's own choice stands
        let wanted = try #require(BLASKernels.pinned ?? getenv("OPENBLAS_CORETYPE").map { String(cString: $0) })
        if BLASKernels.pinned != nil { #expect(wanted == (level == 2 ? "SkylakeX" : "Haswell")) }
        #expect(String(cString: openblas_get_corename()).lowercased() == wanted.lowercased())
    }
}
