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
        let T = ids.shape[1]
        let logits = try forward(ids).slice(axis: 1, start: 0, end: T - 1)
        let targets = try labels.slice(axis: 1, start: 1, end: T).contiguous()
        let tokens = targets.scalars.filter { $0 != -100 }.count
        return (try logits.crossEntropy(targets, ignoreIndex: -100, reduction: .sum), tokens)
    }
}
