import CKernels
import COpenBLAS
@testable import FinchTensor
import Foundation
import Testing

/// Mixed-precision products: Finch's AVX512_BF16 kernel against float32 and against exact sums of
/// the rounded inputs, on every transpose, edge and scaling; and what `MatmulPrecision.with` does
/// on a CPU without the instructions.
@Suite struct BFloat16GemmTests {
    /// x rounded to bfloat16, to nearest even (what vcvtne2ps2bf16 does to finite values).
    static func rounded(_ x: Float) -> Float {
        var u = x.bitPattern
        u = u &+ 0x7FFF &+ ((u >> 16) & 1)
        return Float(bitPattern: u & 0xFFFF_0000)
    }

    struct Case {
        let ta: Bool, tb: Bool, m: Int, n: Int, k: Int
        // Leading dimensions wider than the matrices, so strides are honoured.
        var lda: Int { (ta ? m : k) + 3 }
        var ldb: Int { (tb ? k : n) + 5 }
        var ldc: Int { n + 7 }
        func a(_ buf: [Float], _ i: Int, _ p: Int) -> Float { ta ? buf[p * lda + i] : buf[i * lda + p] }
        func b(_ buf: [Float], _ p: Int, _ j: Int) -> Float { tb ? buf[j * ldb + p] : buf[p * ldb + j] }
    }

    /// Shapes around the kernel's 12 × 32 tile and its K blocks (at most 320, split evenly), odd K included.
    static let cases: [Case] = [(1, 1, 1), (13, 33, 3), (12, 32, 2), (25, 70, 641), (100, 40, 17), (7, 100, 700), (250, 65, 321)]
        .flatMap { s in [(false, false), (false, true), (true, false), (true, true)].map { Case(ta: $0.0, tb: $0.1, m: s.0, n: s.1, k: s.2) } }

    static func random(_ count: Int, _ rng: inout RNG) -> [Float] {
        (0..<count).map { _ in Float(Int(rng.next() % 2001) - 1000) / 997 }
    }

    /// Runs the kernel, or nil on a CPU without it.
    static func product(_ c: Case, alpha: Float, _ a: [Float], _ b: [Float], beta: Float, _ c0: [Float]) -> [Float]? {
        var out = c0
        let ok = out.withUnsafeMutableBufferPointer { cp in
            finch_bf16_gemm(c.ta ? 1 : 0, c.tb ? 1 : 0, c.m, c.n, c.k, alpha, a, c.lda, b, c.ldb, beta, cp.baseAddress, c.ldc)
        }
        return ok == 1 ? out : nil
    }

    /// OpenBLAS's float32 product of the same operands.
    static func float32Product(_ c: Case, _ a: [Float], _ b: [Float], into out: inout [Float]) {
        cblas_sgemm(CblasRowMajor, c.ta ? CblasTrans : CblasNoTrans, c.tb ? CblasTrans : CblasNoTrans, Int32(c.m), Int32(c.n), Int32(c.k),
                    1, a, Int32(c.lda), b, Int32(c.ldb), 0, &out, Int32(c.ldc))
    }

    @Test func sumsTheRoundedInputsInFloat32() throws {
        var rng = RNG(seed: 3)
        for c in Self.cases {
            let a = Self.random((c.ta ? c.k : c.m) * c.lda, &rng), b = Self.random((c.tb ? c.n : c.k) * c.ldb, &rng)
            let c0 = Self.random(c.m * c.ldc, &rng)
            guard let out = Self.product(c, alpha: 0.5, a, b, beta: 2, c0) else {
                #expect(!MatmulPrecision.bfloat16Supported); return
            }
            for i in 0..<c.m {
                for j in 0..<c.n {
                    var exact = 0.0, size = 0.0
                    for p in 0..<c.k {
                        let t = Double(Self.rounded(c.a(a, i, p))) * Double(Self.rounded(c.b(b, p, j)))
                        exact += t; size += abs(t)
                    }
                    // Products of bfloat16 values are exact in float32; what remains is k float32
                    // additions, alpha's product and beta's sum, each within 2^-24 of its result.
                    let want = 0.5 * exact + 2 * Double(c0[i * c.ldc + j])
                    let bound = Double(c.k + 3) * 0x1p-24 * (0.5 * size + abs(2 * Double(c0[i * c.ldc + j])))
                    let got = Double(out[i * c.ldc + j])
                    #expect(abs(got - want) <= bound, "\(c) [\(i), \(j)]: \(got) against \(want)")
                }
                // Columns past n are the caller's: untouched.
                for j in c.n..<c.ldc { #expect(out[i * c.ldc + j].bitPattern == c0[i * c.ldc + j].bitPattern) }
            }
        }
    }

    @Test func staysWithinBFloat16RoundingOfTheFloat32Product() throws {
        var rng = RNG(seed: 5)
        for c in Self.cases where c.k >= 17 {
            let a = Self.random((c.ta ? c.k : c.m) * c.lda, &rng), b = Self.random((c.tb ? c.n : c.k) * c.ldb, &rng)
            let zeros = [Float](repeating: 0, count: c.m * c.ldc)
            guard let out = Self.product(c, alpha: 1, a, b, beta: 0, zeros) else { return }
            var reference = zeros
            Self.float32Product(c, a, b, into: &reference)
            var errorSquares = 0.0, squares = 0.0
            for i in 0..<c.m {
                for j in 0..<c.n {
                    var size = 0.0
                    for p in 0..<c.k { size += abs(Double(c.a(a, i, p)) * Double(c.b(b, p, j))) }
                    // Each input within 2^-8 of itself (bfloat16 keeps 8 significant bits), so each
                    // product within 2^-7 + 2^-16; both sides' float32 sums add (k + 1) · 2^-24 each.
                    let bound = (0x1p-7 + 0x1p-16 + Double(2 * c.k + 2) * 0x1p-24) * size
                    let d = Double(out[i * c.ldc + j]) - Double(reference[i * c.ldc + j])
                    #expect(abs(d) <= bound, "\(c) [\(i), \(j)]")
                    errorSquares += d * d; squares += Double(reference[i * c.ldc + j]) * Double(reference[i * c.ldc + j])
                }
            }
            // Rounding errors of random inputs cancel: the whole product is far closer than the worst case.
            #expect((errorSquares / squares).squareRoot() < 0x1p-7, "\(c): relative error \((errorSquares / squares).squareRoot())")
        }
    }

    @Test func valuesBFloat16HoldsExactlyGiveSgemmsBits() throws {
        var rng = RNG(seed: 7)
        // Small integers: exact in bfloat16, and every partial sum exact in float32.
        for c in Self.cases {
            let a = (0..<(c.ta ? c.k : c.m) * c.lda).map { _ in Float(Int(rng.next() % 17) - 8) }
            let b = (0..<(c.tb ? c.n : c.k) * c.ldb).map { _ in Float(Int(rng.next() % 17) - 8) }
            let c0 = [Float](repeating: .nan, count: c.m * c.ldc)  // beta 0 must not read C
            guard let out = Self.product(c, alpha: 1, a, b, beta: 0, c0) else { return }
            var reference = c0
            Self.float32Product(c, a, b, into: &reference)
            for i in 0..<c.m {
                for j in 0..<c.n { #expect(out[i * c.ldc + j] == reference[i * c.ldc + j], "\(c) [\(i), \(j)]") }
            }
        }
    }

    @Test func blocksOfRowsOrColumnsEqualTheWholeProduct() throws {
        var rng = RNG(seed: 9)
        let c = Case(ta: false, tb: true, m: 100, n: 200, k: 700)
        let a = Self.random(c.m * c.lda, &rng), b = Self.random(c.n * c.ldb, &rng)
        let zeros = [Float](repeating: 0, count: c.m * c.ldc)
        guard let whole = Self.product(c, alpha: 1, a, b, beta: 0, zeros) else { return }
        var rows = zeros, columns = zeros
        // Rows 0..<37 and 37..<100; columns 0..<45 and 45..<200: cuts through the kernel's tiles.
        rows.withUnsafeMutableBufferPointer { cp in
            _ = finch_bf16_gemm(0, 1, 37, c.n, c.k, 1, a, c.lda, b, c.ldb, 0, cp.baseAddress, c.ldc)
            _ = finch_bf16_gemm(0, 1, 63, c.n, c.k, 1, a.withUnsafeBufferPointer { $0.baseAddress! + 37 * c.lda }, c.lda, b, c.ldb, 0,
                                cp.baseAddress! + 37 * c.ldc, c.ldc)
        }
        columns.withUnsafeMutableBufferPointer { cp in
            _ = finch_bf16_gemm(0, 1, c.m, 45, c.k, 1, a, c.lda, b, c.ldb, 0, cp.baseAddress, c.ldc)
            _ = finch_bf16_gemm(0, 1, c.m, 155, c.k, 1, a, c.lda, b.withUnsafeBufferPointer { $0.baseAddress! + 45 * c.ldb }, c.ldb, 0,
                                cp.baseAddress! + 45, c.ldc)
        }
        #expect(rows.map(\.bitPattern) == whole.map(\.bitPattern))
        #expect(columns.map(\.bitPattern) == whole.map(\.bitPattern))
    }

    /// matmul and its backward pass under `with(.bfloat16)` run the kernel (however the product is
    /// shared among threads), and float32 again after it; without AVX512_BF16, float32 throughout.
    @Test func precisionScopesTensorProductsAndTheirGradients() throws {
        let x = try randomTensor([300, 576], seed: 1), w = try randomTensor([576, 1536], seed: 2)
        x.requiresGrad = true; w.requiresGrad = true
        let before = try x.matmul(w).scalars
        let (y16, gx16, gw16) = try MatmulPrecision.with(.bfloat16) { () throws -> ([Float], [Float], [Float]) in
            #expect(MatmulPrecision.current == (MatmulPrecision.bfloat16Supported ? .bfloat16 : .float32))
            let y = try x.matmul(w)
            try y.sum().backward()
            return (y.scalars, x.grad!.scalars, w.grad!.scalars)
        }
        #expect(MatmulPrecision.current == .float32)
        #expect(try x.matmul(w).scalars.map(\.bitPattern) == before.map(\.bitPattern))
        guard MatmulPrecision.bfloat16Supported else {
            #expect(y16.map(\.bitPattern) == before.map(\.bitPattern)); return
        }
        // The forward product is the kernel's, bit for bit.
        var direct = [Float](repeating: 0, count: 300 * 1536)
        let xs = x.scalars, ws = w.scalars
        _ = direct.withUnsafeMutableBufferPointer { finch_bf16_gemm(0, 0, 300, 1536, 576, 1, xs, 576, ws, 1536, 0, $0.baseAddress, 1536) }
        #expect(y16.map(\.bitPattern) == direct.map(\.bitPattern))
        #expect(y16 != before, "the inputs are not bfloat16 values, so rounding them shows")
        // Gradients of sum(x·w): dx = 1·wᵀ (row sums of w), dw = xᵀ·1 (column sums of x), each
        // within bfloat16's rounding of the exact sums.
        for i in 0..<576 {
            var exact = 0.0, size = 0.0
            for j in 0..<1536 { exact += Double(ws[i * 1536 + j]); size += abs(Double(ws[i * 1536 + j])) }
            #expect(abs(Double(gx16[i]) - exact) <= (0x1p-8 + 1540 * 0x1p-24) * size, "dx[0, \(i)]")
        }
        for i in 0..<576 {
            var exact = 0.0, size = 0.0
            for r in 0..<300 { exact += Double(xs[r * 576 + i]); size += abs(Double(xs[r * 576 + i])) }
            #expect(abs(Double(gw16[i * 1536]) - exact) <= (0x1p-8 + 304 * 0x1p-24) * size, "dw[\(i), 0]")
        }
    }

    /// The precision belongs to the thread that set it (and the jobs it starts): a product made on
    /// another thread meanwhile — a model served while another trains — stays float32.
    @Test func precisionIsTheSettingThreadsOnly() throws {
        let x = try randomTensor([256, 576], seed: 3), w = try randomTensor([576, 576], seed: 4)
        let float32 = try x.matmul(w).scalars
        let (mine, other) = try MatmulPrecision.with(.bfloat16) { () throws -> ([Float], [Float]) in
            let done = DispatchSemaphore(value: 0)
            nonisolated(unsafe) var elsewhere: [Float] = []
            nonisolated(unsafe) let (xs, ws) = (x, w)
            Thread {
                elsewhere = (try? xs.matmul(ws).scalars) ?? []
                done.signal()
            }.start()
            done.wait()
            return (try x.matmul(w).scalars, elsewhere)
        }
        #expect(other.map(\.bitPattern) == float32.map(\.bitPattern))
        #expect((mine != float32) == MatmulPrecision.bfloat16Supported)
    }
}

