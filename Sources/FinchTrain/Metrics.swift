/// The answer-matching metrics of question/answer evaluation. Each compares a prediction with a
/// target and gives 1 (or a fraction, for F1) when they agree.
public enum AnswerMetric: String, CaseIterable, Sendable {
    /// Equal after stripping whitespace at both ends (the course's exact match).
    case exactMatch = "exact_match"
    /// The stripped target occurs in the prediction.
    case contains
    /// Equal after normalising: lower case, punctuation and articles removed, whitespace collapsed (SQuAD's normalisation).
    case normalized = "normalized_match"
    /// Harmonic mean of precision and recall of the normalised words (SQuAD's token F1).
    case tokenF1 = "token_f1"

    public func score(_ prediction: String, _ target: String) -> Double {
        switch self {
        case .exactMatch: return Self.strip(prediction) == Self.strip(target) ? 1 : 0
        case .contains:
            let t = Self.strip(target)
            return t.isEmpty || prediction.contains(t) ? 1 : 0
        case .normalized: return Self.normalize(prediction) == Self.normalize(target) ? 1 : 0
        case .tokenF1: return Self.f1(prediction, target)
        }
    }

    static func strip(_ s: String) -> String {
        String(s.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }

    /// Lower case, punctuation dropped, the articles a/an/the dropped, words separated by single spaces.
    public static func normalize(_ s: String) -> String {
        let kept = s.lowercased().map { $0.isPunctuation || $0.isSymbol ? " " : $0 }
        return String(kept).split(whereSeparator: \.isWhitespace).filter { !["a", "an", "the"].contains($0) }.joined(separator: " ")
    }

    static func f1(_ prediction: String, _ target: String) -> Double {
        let p = normalize(prediction).split(separator: " "), t = normalize(target).split(separator: " ")
        if p.isEmpty || t.isEmpty { return p.isEmpty && t.isEmpty ? 1 : 0 }
        var counts: [Substring: Int] = [:]
        for w in t { counts[w, default: 0] += 1 }
        var common = 0
        for w in p where counts[w, default: 0] > 0 { counts[w]! -= 1; common += 1 }
        guard common > 0 else { return 0 }
        let precision = Double(common) / Double(p.count), recall = Double(common) / Double(t.count)
        return 2 * precision * recall / (precision + recall)
    }
}

/// The mean of per-example scores with its standard error, as lm-evaluation-harness reports
/// them: the sample standard deviation (n - 1) over √n.
public struct MeanScore: Sendable, Equatable {
    public let mean: Double
    public let stderr: Double
    public let count: Int

    public init(_ scores: [Double]) {
        count = scores.count
        mean = scores.isEmpty ? 0 : scores.reduce(0, +) / Double(scores.count)
        guard scores.count > 1 else { stderr = 0; return }
        let m = mean
        let variance = scores.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(scores.count - 1)
        stderr = (variance / Double(scores.count)).squareRoot()
    }
}
