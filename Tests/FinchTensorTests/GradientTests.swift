import FinchTensor
import Testing

/// Every differentiable op's gradient against finite differences.
@Suite struct GradientTests {
    @Test func arithmeticWithBroadcasting() throws {
        let a = try randomTensor([2, 3], seed: 1), b = try randomTensor([3], seed: 2, awayFromZero: true)
        try checkGradients("add", [a, b]) { try $0[0].adding($0[1]) }
        try checkGradients("sub", [a, b]) { try $0[0].subtracting($0[1]) }
        try checkGradients("mul", [a, b]) { try $0[0].multiplying($0[1]) }
        try checkGradients("div", [a, b]) { try $0[0].dividing($0[1]) }
        let c = try randomTensor([2, 1], seed: 3)
        try checkGradients("mul [2,1]x[3]", [c, b]) { try $0[0].multiplying($0[1]) }
        try checkGradients("neg", [a]) { try $0[0].negated() }
    }

    @Test func pow() throws {
        let a = try randomTensor([2, 3], seed: 4, low: 0.5, high: 2), b = try randomTensor([2, 3], seed: 5, low: -1.5, high: 1.5)
        try checkGradients("pow", [a, b]) { try $0[0].pow($0[1]) }
        try checkGradients("pow scalar", [a]) { try $0[0].pow(3) }
    }

    @Test func unaryFunctions() throws {
        let x = try randomTensor([3, 4], seed: 6, awayFromZero: true)
        let positive = try randomTensor([3, 4], seed: 7, low: 0.3, high: 3)
        try checkGradients("exp", [x]) { try $0[0].exp() }
        try checkGradients("log", [positive]) { try $0[0].log() }
        try checkGradients("sqrt", [positive]) { try $0[0].sqrt() }
        try checkGradients("tanh", [x]) { try $0[0].tanh() }
        try checkGradients("sigmoid", [x]) { try $0[0].sigmoid() }
        try checkGradients("relu", [x]) { try $0[0].relu() }
        try checkGradients("abs", [x]) { try $0[0].abs() }
        try checkGradients("gelu", [x]) { try $0[0].gelu() }
        try checkGradients("gelu (tanh)", [x]) { try $0[0].geluTanh() }
        try checkGradients("silu", [x]) { try $0[0].silu() }
    }

    @Test func minimumMaximumWhere() throws {
        let a = try randomTensor([2, 3], seed: 8), b = try Tensor([0.5, -0.5, 1.5], shape: [3])
        try checkGradients("maximum", [a, b]) { try $0[0].maximum($0[1]) }
        try checkGradients("minimum", [a, b]) { try $0[0].minimum($0[1]) }
        let cond = try Tensor([1, 0, 1, 0, 0, 1], shape: [2, 3])
        try checkGradients("where", [a, b]) { try cond.where_($0[0], $0[1]) }
    }

    @Test func reductions() throws {
        let x = try randomTensor([2, 3, 4], seed: 9)
        try checkGradients("sum all", [x]) { try $0[0].sum() }
        try checkGradients("sum axis 1", [x]) { try $0[0].sum(axis: 1) }
        try checkGradients("sum axes keepdims", [x]) { try $0[0].sum(axes: [0, 2], keepdims: true) }
        try checkGradients("mean", [x]) { try $0[0].mean(axis: -1) }
        try checkGradients("var", [x]) { try $0[0].variance(axes: [2]) }
        try checkGradients("max axis", [x]) { try $0[0].max(axis: 1) }
        try checkGradients("min all", [x]) { try $0[0].min() }
    }

    @Test func matmulAllLayouts() throws {
        let a = try randomTensor([3, 4], seed: 10), b = try randomTensor([4, 5], seed: 11)
        try checkGradients("matmul", [a, b]) { try $0[0].matmul($0[1]) }
        let bt = try randomTensor([5, 4], seed: 12)
        try checkGradients("matmul with transposed view", [a, bt]) { try $0[0].matmul($0[1].transpose()) }
        let batched = try randomTensor([2, 3, 4], seed: 13)
        try checkGradients("batched x shared", [batched, b]) { try $0[0].matmul($0[1]) }
        let other = try randomTensor([2, 4, 2], seed: 14)
        try checkGradients("batched x batched", [batched, other]) { try $0[0].matmul($0[1]) }
        let v = try randomTensor([4], seed: 15)
        try checkGradients("matrix x vector", [a, v]) { try $0[0].matmul($0[1]) }
        try checkGradients("vector x matrix", [v, b]) { try $0[0].matmul($0[1]) }
        let broadcastBatch = try randomTensor([1, 4, 3], seed: 16)
        try checkGradients("batch broadcast", [batched, broadcastBatch]) { try $0[0].matmul($0[1]) }
    }

    @Test func softmaxFamily() throws {
        let x = try randomTensor([3, 5], seed: 17)
        try checkGradients("softmax", [x]) { try $0[0].softmax() }
        try checkGradients("log_softmax", [x]) { try $0[0].logSoftmax() }
        try checkGradients("softmax axis 0", [x]) { try $0[0].softmax(axis: 0) }
    }

    @Test func crossEntropyWithIgnoreIndex() throws {
        let logits = try randomTensor([4, 6], seed: 18)
        let targets = try Tensor([2, -100, 5, 0], shape: [4])
        try checkGradients("cross_entropy mean", [logits]) { try $0[0].crossEntropy(targets) }
        try checkGradients("cross_entropy sum", [logits]) { try $0[0].crossEntropy(targets, reduction: .sum) }
        let batched = try randomTensor([2, 3, 4], seed: 19)
        let ids = try Tensor([1, 3, 0, 2, -100, 1], shape: [2, 3])
        try checkGradients("cross_entropy batched", [batched]) { try $0[0].crossEntropy(ids) }
    }

    @Test func embeddingScattersRepeatedIds() throws {
        let table = try randomTensor([5, 3], seed: 20)
        let ids = try Tensor([1, 4, 1, 0], shape: [2, 2])
        try checkGradients("embedding", [table]) { try $0[0].embedding(ids) }
    }

    @Test func norms() throws {
        let x = try randomTensor([3, 6], seed: 21), w = try randomTensor([6], seed: 22), b = try randomTensor([6], seed: 23)
        try checkGradients("rmsnorm", [x, w]) { try $0[0].rmsNorm(weight: $0[1]) }
        try checkGradients("rmsnorm no weight", [x]) { try $0[0].rmsNorm(weight: nil) }
        try checkGradients("layernorm", [x, w, b]) { try $0[0].layerNorm(weight: $0[1], bias: $0[2]) }
    }

    @Test func joiningAndViews() throws {
        let a = try randomTensor([2, 3], seed: 24), b = try randomTensor([2, 2], seed: 25)
        try checkGradients("concat", [a, b]) { try Tensor.concat([$0[0], $0[1]], axis: 1) }
        let c = try randomTensor([2, 3], seed: 26)
        try checkGradients("stack", [a, c]) { try Tensor.stack([$0[0], $0[1]], axis: 1) }
        try checkGradients("split", [a]) { x in
            let parts = try x[0].split([1, 2], axis: 1)
            return try parts[0].multiplying(.scalar(3)).sum().adding(parts[1].exp().sum())
        }
        try checkGradients("gather", [a]) { try $0[0].gather(axis: 1, Tensor([2, 0, 2, 1, 1, 0], shape: [2, 3])) }
        try checkGradients("reshape", [a]) { try $0[0].reshape([3, 2]).exp() }
        try checkGradients("permute", [try randomTensor([2, 3, 4], seed: 27)]) { try $0[0].permute([2, 0, 1]).tanh() }
        try checkGradients("slice step", [try randomTensor([7, 2], seed: 28)]) { try $0[0].slice(axis: 0, start: -6, end: 6, step: 2) }
        try checkGradients("select", [a]) { try $0[0].select(axis: 1, -1) }
        try checkGradients("expand", [try randomTensor([3, 1], seed: 29)]) { try $0[0].expand([2, 3, 4]) }
        try checkGradients("transpose then contiguous", [a]) { try $0[0].transpose().contiguous().sigmoid() }
    }

    @Test func composedNetworkAccumulatesAcrossUses() throws {
        // x is used twice; its gradient must be the sum of both paths.
        let x = try randomTensor([2, 4], seed: 30), w = try randomTensor([4, 4], seed: 31)
        try checkGradients("two paths", [x, w]) { p in
            let h = try p[0].matmul(p[1]).silu()
            return try h.adding(p[0]).rmsNorm(weight: nil).softmax()
        }
    }
}
