/// Matrix products, every one through RawGemm. Operands whose last two axes
/// are row-major or transposed row-major are passed as they are (with
/// CblasTrans for the latter); only other layouts are copied.
enum Gemm {
    /// How a 2-D operand is handed to BLAS: its transpose flag and leading dimension.
    struct Operand {
        let tensor: Tensor
        let transposed: Bool
        let ld: Int
    }

    /// Describes the last two axes of `t` for BLAS, copying only when neither layout fits.
    static func operand(_ t: Tensor) throws -> Operand {
        let r = t.shape[t.rank - 2], c = t.shape[t.rank - 1]
        let sr = t.strides[t.rank - 2], sc = t.strides[t.rank - 1]
        if sc == 1 || c == 1, sr >= Swift.max(c, 1) || r == 1 { return Operand(tensor: t, transposed: false, ld: Swift.max(r == 1 ? c : sr, 1, c)) }
        if sr == 1 || r == 1, sc >= Swift.max(r, 1) || c == 1 { return Operand(tensor: t, transposed: true, ld: Swift.max(c == 1 ? r : sc, 1, r)) }
        let copy = try t.contiguousNoGrad()
        return Operand(tensor: copy, transposed: false, ld: Swift.max(c, 1))
    }

    /// C[M,N] = A[M,K] · B[K,N] for one batch entry, at element offsets into each operand.
    @inline(__always)
    static func sgemm(_ a: Operand, _ aOffset: Int, _ b: Operand, _ bOffset: Int,
                      _ c: UnsafeMutablePointer<Float>, m: Int, n: Int, k: Int) {
        if m == 0 || n == 0 { return }
        if k == 0 { c.update(repeating: 0, count: m * n); return }
        if m == 1 {
            // One row (a decoding step): GEMV reads B once; a GEMM would first pack all of it.
            RawGemm.rowTimes(transB: b.transposed, n: n, k: k, a.tensor.pointer + aOffset, incX: a.transposed ? a.ld : 1,
                             b.tensor.pointer + bOffset, ldb: b.ld, c)
            return
        }
        RawGemm.run(transA: a.transposed, transB: b.transposed, m: m, n: n, k: k,
                    a.tensor.pointer + aOffset, lda: a.ld, b.tensor.pointer + bOffset, ldb: b.ld, c, ldc: n)
    }
}

extension Tensor {
    /// Matrix product with NumPy semantics: 1-D operands are promoted and the
    /// added axis removed; leading (batch) axes broadcast.
    public func matmul(_ other: Tensor) throws -> Tensor {
        guard rank >= 1, other.rank >= 1 else {
            throw TensorError.invalidShape(op: "matmul", "needs at least 1-D operands, got \(shape.shapeText) and \(other.shape.shapeText)")
        }
        if rank == 1 || other.rank == 1 {
            let a = rank == 1 ? try unsqueeze(0) : self
            let b = other.rank == 1 ? try other.unsqueeze(1) : other
            var out = try a.matmul2(b, shapes: (shape, other.shape))
            if rank == 1 { out = try out.squeeze(-2) }
            if other.rank == 1 { out = try out.squeeze(-1) }
            return out
        }
        return try matmul2(other, shapes: (shape, other.shape))
    }

    /// Matrix product of operands with at least two axes.
    private func matmul2(_ other: Tensor, shapes: ([Int], [Int])) throws -> Tensor {
        let m = shape[rank - 2], k = shape[rank - 1]
        let k2 = other.shape[other.rank - 2], n = other.shape[other.rank - 1]
        guard k == k2 else { throw TensorError.shapeMismatch(op: "matmul", shapes.0.shapeText, shapes.1.shapeText) }
        let batchA = Array(shape.dropLast(2)), batchB = Array(other.shape.dropLast(2))
        let batch: [Int]
        do { batch = try Shape.broadcast(batchA, batchB, op: "matmul") } catch {
            throw TensorError.shapeMismatch(op: "matmul", shapes.0.shapeText, shapes.1.shapeText)
        }
        let out = try Tensor.empty(batch + [m, n], op: "matmul")

        if batchB.allSatisfy({ $0 == 1 }), isContiguous, batchA.count == batch.count || batchB.isEmpty {
            // A stack of rows times one matrix (a linear layer): one GEMM over all rows.
            let rows = Shape.product(batch) * m
            let a = Gemm.Operand(tensor: self, transposed: false, ld: Swift.max(k, 1))
            Gemm.sgemm(a, 0, try Gemm.operand(other), 0, out.pointer, m: rows, n: n, k: k)
        } else {
            let a = try Gemm.operand(self), b = try Gemm.operand(other)
            let sa = Strided.broadcastStrides(Tensor(storage: a.tensor.storage, shape: batchA, strides: Array(a.tensor.strides.dropLast(2))), to: batch)
            let sb = Strided.broadcastStrides(Tensor(storage: b.tensor.storage, shape: batchB, strides: Array(b.tensor.strides.dropLast(2))), to: batch)
            let count = Shape.product(batch)
            var index = [Int](repeating: 0, count: batch.count)
            for i in 0..<count {
                var oa = 0, ob = 0
                for d in 0..<batch.count { oa += index[d] * sa[d]; ob += index[d] * sb[d] }
                Gemm.sgemm(a, oa, b, ob, out.pointer + i * m * n, m: m, n: n, k: k)
                var d = batch.count - 1
                while d >= 0 { index[d] += 1; if index[d] < batch[d] { break }; index[d] = 0; d -= 1 }
            }
        }

        let (a, b) = (detached(), other.detached())
        return out.recorded("matmul", [self, other]) { g, needs in
            // dA = dC · Bᵀ, dB = Aᵀ · dC, summed over broadcast batch axes.
            [needs[0] ? try g.matmul(b.transpose()).sumToShape(a.shape) : nil,
             needs[1] ? try Tensor.weightGradient(a, g, b.shape) : nil]
        }
    }
}

extension Tensor {
    /// Aᵀ · dC summed to B's shape. When B is one matrix shared by a batch of A
    /// (a linear layer), the batch folds into a single GEMM over all rows.
    fileprivate static func weightGradient(_ a: Tensor, _ g: Tensor, _ bShape: [Int]) throws -> Tensor {
        if bShape.count == 2, a.rank > 2, a.isContiguous {
            let k = a.shape[a.rank - 1], n = g.shape[g.rank - 1]
            return try a.reshape([-1, k]).transpose().matmul(g.contiguousNoGrad().reshape([-1, n]))
        }
        return try a.transpose().matmul(g).sumToShape(bShape)
    }
}
