import FinchTensor
import Testing

/// Creation, views, the random generator, printing and errors.
@Suite struct TensorBasicsTests {
    @Test func creation() throws {
        #expect(try Tensor.zeros([2, 3]).scalars == [0, 0, 0, 0, 0, 0])
        #expect(try Tensor.ones([2]).scalars == [1, 1])
        #expect(try Tensor.full([1, 2], 7).scalars == [7, 7])
        #expect(try Tensor.arange(0, 5).scalars == [0, 1, 2, 3, 4])
        #expect(try Tensor.arange(1, 2, step: 0.25).scalars == [1, 1.25, 1.5, 1.75])
        #expect(try Tensor.linspace(0, 1, count: 5).scalars == [0, 0.25, 0.5, 0.75, 1])
        #expect(try Tensor.eye(2).scalars == [1, 0, 0, 1])
        #expect(try Tensor([[1, 2], [3, 4]]).shape == [2, 2])
        #expect(Tensor.scalar(3).shape == [])
        #expect(throws: TensorError.self) { try Tensor([[1, 2], [3]]) }
    }

    @Test func sameSeedSameNumbers() throws {
        var a = RNG(seed: 42), b = RNG(seed: 42), c = RNG(seed: 43)
        let x = try Tensor.normal([100], rng: &a), y = try Tensor.normal([100], rng: &b), z = try Tensor.normal([100], rng: &c)
        #expect(x.scalars == y.scalars)
        #expect(x.scalars != z.scalars)
        // The algorithm is fixed (xoshiro256** seeded by SplitMix64): these values never change.
        var r = RNG(seed: 0)
        #expect(r.next() == 0x99EC_5F36_CB75_F2B4)
        let u = try Tensor.uniform([10_000], rng: &a).scalars
        #expect(u.allSatisfy { $0 >= 0 && $0 < 1 })
        let n = try Tensor.normal([20_000], rng: &a)
        #expect(abs(try n.mean().item()) < 0.03)
        #expect(abs(try n.variance().item() - 1) < 0.05)
        // Saving and restoring the state continues the same sequence.
        var saved = RNG(state: a.stateWords)
        #expect(saved.next() == a.next())
    }

    @Test func viewsShareStorage() throws {
        let x = try Tensor(Array(0..<12).map(Float.init), shape: [3, 4])
        let r = try x.reshape([4, -1])
        #expect(r.shape == [4, 3] && r.storage === x.storage)
        let t = try x.transpose()
        #expect(t.shape == [4, 3] && t.storage === x.storage && !t.isContiguous)
        #expect(try t.element([1, 2]) == 9)
        let s = try x.slice(axis: 1, start: -3, end: nil, step: 2)
        #expect(s.shape == [3, 2] && s.storage === x.storage)
        #expect(s.scalars == [1, 3, 5, 7, 9, 11])
        #expect(try x.slice(axis: 0, start: 5, end: 10).shape == [0, 4])
        #expect(try x.select(axis: 0, -1).scalars == [8, 9, 10, 11])
        let e = try Tensor([1, 2, 3], shape: [3, 1]).expand([2, 3, 4])
        #expect(e.strides == [0, 1, 0] && e.count == 24)
        #expect(try x.unsqueeze(0).shape == [1, 3, 4])
        #expect(try x.unsqueeze(0).squeeze().shape == [3, 4])
        // contiguous() copies only when it must.
        #expect(try x.contiguous() === x)
        let c = try t.contiguous()
        #expect(c.isContiguous && c.storage !== x.storage && c.scalars == [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11])
        // Reshaping a transposed view copies, and is still right.
        #expect(try t.reshape([12]).scalars == c.scalars)
    }

    @Test func printsLikeNumPy() throws {
        #expect(try Tensor([[1, 2.5], [3, -4]]).description == "tensor([[1, 2.5],\n        [3, -4]], shape: [2, 2])")
        #expect(Tensor.scalar(2).description == "2")
        let big = try Tensor.arange(0, 2000).description
        #expect(big.contains("...") && big.hasSuffix("shape: [2000])"))
    }

    @Test func errorsNameTheOpAndShapes() throws {
        let a = try Tensor.zeros([2, 3]), b = try Tensor.zeros([4])
        #expect(throws: TensorError.shapeMismatch(op: "add", "[2, 3]", "[4]")) { try a + b }
        #expect(throws: TensorError.shapeMismatch(op: "matmul", "[2, 3]", "[2, 3]")) { try a.matmul(a) }
        #expect(throws: TensorError.indexOutOfRange(op: "index", index: 5, size: 3)) { try a.element([0, 5]) }
        #expect(throws: TensorError.indexOutOfRange(op: "embedding", index: 7, size: 2)) { try a.embedding(Tensor([7])) }
        #expect(throws: TensorError.indexOutOfRange(op: "cross_entropy", index: 3, size: 3)) { try a.crossEntropy(Tensor([0, 3])) }
        #expect(throws: TensorError.axisOutOfRange(op: "sum", axis: 2, rank: 2)) { try a.sum(axis: 2) }
        #expect(throws: TensorError.self) { try a.reshape([4, 2]) }
        let message = String(describing: TensorError.shapeMismatch(op: "add", "[2, 3]", "[4]"))
        #expect(message == "add: shapes [2, 3] and [4] do not match")
    }

    @Test func hugeAllocationIsRefusedWithItsSize() throws {
        do {
            _ = try Tensor.zeros([1 << 20, 1 << 20])
            Issue.record("a 4 TB tensor was allocated")
        } catch let error as TensorError {
            guard case let .outOfMemory(requested, available) = error else { Issue.record("wrong error \(error)"); return }
            #expect(abs(requested - 4398.05) < 0.1)
            #expect(available > 0)
            #expect(String(describing: error).contains("4398.05 GB"))
        }
        #expect(throws: TensorError.self) { try Tensor.zeros([Int.max / 2, 4]) }
    }

    @Test func autogradBookkeeping() throws {
        let w = try Tensor([1, 2, 3], shape: [3])
        w.requiresGrad = true
        let y = try w.multiplying(w).sum()
        #expect(y.requiresGrad)
        try y.backward()
        #expect(w.grad?.scalars == [2, 4, 6])
        // Gradients accumulate until cleared.
        try w.multiplying(w).sum().backward()
        #expect(w.grad?.scalars == [4, 8, 12])
        w.zeroGrad()
        #expect(w.grad == nil)
        // Nothing is recorded under noGrad.
        let z = try GradMode.noGrad { try w.multiplying(w) }
        #expect(!z.requiresGrad)
        #expect(throws: TensorError.self) { try z.sum().backward() }
        // A non-scalar needs an explicit gradient.
        #expect(throws: TensorError.self) { try w.multiplying(w).backward() }
        try w.multiplying(w).backward(Tensor([1, 0, 1]))
    }
}
