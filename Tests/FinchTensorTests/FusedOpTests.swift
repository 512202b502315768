@testable import FinchTensor
import Testing

/// The fused training ops (linear, the output head with its cross-entropy) against the plain
/// ops they replace, their gradients against finite differences, and in-place accumulation.
@Suite struct FusedOpTests {
    @Test func linearMatchesMatmulPlusBias() throws {
        let x = try randomTensor([2, 3, 5], seed: 1), w = try randomTensor([4, 5], seed: 2), b = try randomTensor([4], seed: 3)
        let expected = try x.matmul(w.transpose()).adding(b)
        expectClose(try x.linear(w, bias: b), expected.scalars, atol: 1e-5, "linear")
        expectClose(try x.linear(w), try x.matmul(w.transpose()).scalars, atol: 1e-5, "linear without bias")
    }

    @Test func linearGradient() throws {
        try checkGradients("linear", [try randomTensor([2, 3, 5], seed: 4), try randomTensor([4, 5], seed: 5), try randomTensor([4], seed: 6)]) {
            try $0[0].linear($0[1], bias: $0[2])
        }
        // A weight that is not a leaf gets its gradient returned, not accumulated in place.
        try checkGradients("linear of a computed weight", [try randomTensor([3, 5], seed: 7), try randomTensor([4, 5], seed: 8)]) {
            try $0[0].linear($0[1].multiplying(.scalar(2)))
        }
    }

    @Test func linearCrossEntropyMatchesLogitsAndCrossEntropy() throws {
        // 300 rows: two chunks of the fused head; some rows ignored.
        let h = try randomTensor([3, 100, 6], seed: 9), w = try randomTensor([11, 6], seed: 10)
        var rng = RNG(seed: 11)
        let targets = (0..<300).map { i in i % 7 == 3 ? -100 : Int(rng.next() % 11) }
        let (loss, count) = try h.linearCrossEntropy(w, targets: targets)
        let expected = try h.reshape([300, 6]).matmul(w.transpose())
            .crossEntropy(Tensor(targets.map(Float.init), shape: [300]), ignoreIndex: -100, reduction: .sum)
        #expect(count == targets.filter { $0 != -100 }.count)
        let (got, want) = (try loss.item(), try expected.item())
        #expect(abs(got - want) <= 1e-4 * abs(want), "\(got) vs \(want)")
    }

    @Test func linearCrossEntropyGradient() throws {
        let targets = [2, -100, 0, 4, 1, 3, -100, 2]
        try checkGradients("linear_cross_entropy", [try randomTensor([2, 4, 3], seed: 12), try randomTensor([5, 3], seed: 13)]) {
            try $0[0].linearCrossEntropy($0[1], targets: targets).loss
        }
        // Only the weight frozen: h still gets its gradient.
        let h = try randomTensor([8, 3], seed: 14), w = try randomTensor([5, 3], seed: 15)
        h.requiresGrad = true
        try h.linearCrossEntropy(w, targets: targets).loss.backward()
        let plain = try randomTensor([8, 3], seed: 14)
        plain.requiresGrad = true
        try plain.matmul(w.transpose()).crossEntropy(Tensor(targets.map(Float.init), shape: [8]), reduction: .sum).backward()
        expectClose(try #require(h.grad), try #require(plain.grad).scalars, atol: 1e-5, "dh with a frozen head")
        #expect(w.grad == nil)
    }

    @Test func allTargetsIgnoredIsZeroLoss() throws {
        let h = try randomTensor([2, 3], seed: 16), w = try randomTensor([4, 3], seed: 17)
        h.requiresGrad = true
        let (loss, count) = try h.linearCrossEntropy(w, targets: [-100, -100])
        let value = try loss.item()
        #expect(value == 0 && count == 0)
        #expect(throws: TensorError.self) { try h.linearCrossEntropy(w, targets: [9, 0]) }
    }

    @Test func gradientsAccumulateInPlaceWithoutAliasing() throws {
        // add's backward hands one tensor to both inputs; accumulating into one must not change the other.
        let a = try randomTensor([4], seed: 18), b = try randomTensor([4], seed: 19)
        a.requiresGrad = true; b.requiresGrad = true
        try a.adding(b).sum().backward()
        let bBefore = try #require(b.grad).scalars
        try a.multiplying(.scalar(3)).sum().backward()
        #expect(try #require(b.grad).scalars == bBefore)
        #expect(try #require(a.grad).scalars == [Float](repeating: 4, count: 4))
        // Two backward passes through linear add up.
        let x = try randomTensor([3, 5], seed: 20), w = try randomTensor([2, 5], seed: 21)
        w.requiresGrad = true
        try x.linear(w).sum().backward()
        let once = try #require(w.grad).scalars
        try x.linear(w).sum().backward()
        expectClose(try #require(w.grad), once.map { 2 * $0 }, atol: 1e-5, "accumulated twice")
        w.zeroGradKeepingBuffer()
        #expect(try #require(w.grad).scalars.allSatisfy { $0 == 0 })
    }
}

/// The tape frees what no backward needs: graphs are not kept alive by cycles, and a node holds
/// its inputs' producers rather than the inputs.
@Suite struct GraphMemoryTests {
    @Test func attentionOutputIsFreedWithItsGraph() throws {
        let q = try randomTensor([1, 4, 2, 8], seed: 30), k = try randomTensor([1, 4, 2, 8], seed: 31)
        q.requiresGrad = true; k.requiresGrad = true
        weak var weakOut: Tensor?
        do {
            let out = try Tensor.causalAttention(q, k, k)
            weakOut = out
            #expect(weakOut != nil)
        }
        #expect(weakOut == nil, "attention's backward closure must not hold its own output")
    }

    @Test func intermediatesNoBackwardNeedsAreFreed() throws {
        let x = try randomTensor([16], seed: 32)
        x.requiresGrad = true
        weak var weakMiddle: Tensor?
        let loss: Tensor
        do {
            let middle = try x.multiplying(.scalar(2))  // sum's backward needs only its shape
            weakMiddle = middle
            loss = try middle.sum()
        }
        #expect(weakMiddle == nil, "the graph keeps the producer of an input, not the input")
        try loss.backward()
        #expect(try #require(x.grad).scalars == [Float](repeating: 2, count: 16))
    }

    /// A layer over a frozen weight (LoRA's base) needs only W for x's gradient: keeping x for a
    /// weight gradient never taken held every un-adapted projection's input through a LoRA step.
    @Test func linearKeepsItsInputOnlyForTheWeightsGradient() throws {
        let x = try randomTensor([3, 5], seed: 33), bias = try randomTensor([4], seed: 35)
        x.requiresGrad = true
        for trains in [false, true] {
            for b in [nil, bias] {
                let w = try randomTensor([4, 5], seed: 34)
                w.requiresGrad = trains
                weak var weakInput: Tensor?
                let y: Tensor
                do {
                    let input = try x.multiplying(.scalar(2))
                    weakInput = input
                    y = try input.linear(w, bias: b)
                }
                #expect((weakInput == nil) == !trains, "trains: \(trains), bias: \(b != nil)")
                try y.sum().backward()
                let dx = try #require(x.grad)
                x.grad = nil
                // dx = 2 · Σ_out W[out, :] for every row.
                let ws = w.scalars
                let expected = (0..<5).map { j in 2 * (0..<4).reduce(Float(0)) { $0 + ws[$1 * 5 + j] } }
                expectClose(dx, (0..<3).flatMap { _ in expected }, atol: 1e-5, "dx")
                if trains { #expect(w.grad != nil) }
            }
        }
    }
}

/// The 16-lane exponential that softmax and cross-entropy use gives exp's bits lane by lane.
@Suite struct VectorExpTests {
    @Test func sameBitsAsTheScalarExp() {
        var rng = RNG(seed: 21)
        var xs: [Float] = [0, -0.0, 1, -1, 88.72, 88.73, -86.5, -86.51, 100, -100, .infinity, -.infinity, .nan,
                           Float.leastNonzeroMagnitude, -Float.greatestFiniteMagnitude]
        for _ in 0..<100_000 { xs.append(Float(Int(rng.next() % 400_001) - 200_000) / 1000) }
        for _ in 0..<10_000 { xs.append(Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))) }
        for shift: Float in [0, 3.25, -7] {
            var got = xs
            got.withUnsafeMutableBufferPointer { FastMath.expShifted($0.baseAddress!, $0.count, minus: shift) }
            for (x, g) in zip(xs, got) {
                let want = FastMath.exp(x - shift)
                #expect(g.bitPattern == want.bitPattern || (g.isNaN && want.isNaN), "e^(\(x) − \(shift)): \(g) against \(want)")
            }
        }
    }
}
