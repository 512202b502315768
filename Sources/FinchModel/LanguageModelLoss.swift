import FinchTensor

extension LanguageModel {
    /// Next-token prediction loss: position t's logits are scored against labels[t + 1]
    /// (labels line up with the ids, as Hugging Face's do; −100 takes no loss).
    /// Returns the summed loss and the number of positions it counts, so gradient
    /// accumulation can divide by the trained tokens of the whole step.
    public func loss(ids: Tensor, labels: Tensor) throws -> (sum: Tensor, tokens: Int) {
        guard ids.rank == 2, labels.shape == ids.shape, ids.shape[1] >= 2 else {
            throw ModelError("loss needs ids and labels of one shape [batch, tokens ≥ 2], got \(ids.shape) and \(labels.shape)")
        }
        let (B, T) = (ids.shape[0], ids.shape[1])
        let h = try hiddenStates(ids)
        // Row (b, t) predicts labels[b, t + 1]; the last position of each row predicts nothing.
        let l = try labels.contiguous().scalars
        var targets = [Int](repeating: -100, count: B * T)
        for b in 0..<B { for t in 0..<(T - 1) { targets[b * T + t] = Int(l[b * T + t + 1]) } }
        let head = outputHead
        guard head.bias == nil, head.lora == nil, config.finalSoftcap == nil else {
            // A head with a bias or an adapter, or capped logits: the plain path through whole logits.
            let logits = try self.logits(h).slice(axis: 1, start: 0, end: T - 1)
            let shifted = try labels.slice(axis: 1, start: 1, end: T).contiguous()
            return (try logits.crossEntropy(shifted, ignoreIndex: -100, reduction: .sum), shifted.scalars.filter { $0 != -100 }.count)
        }
        let (sum, count) = try h.linearCrossEntropy(head.weight, targets: targets, ignoreIndex: -100)
        return (sum, count)
    }
}
