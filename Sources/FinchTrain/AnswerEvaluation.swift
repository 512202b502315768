import FinchData
import FinchModel
import FinchTensor

/// Question/answer evaluation by generation: each prompt is continued greedily (the lesson's
/// settings) and the continuation compared with the target by a metric.
public enum AnswerEvaluation {
    public struct Example: Sendable {
        public let prompt: String
        public let predicted: String
        public let target: String
        public let score: Double
    }

    /// The dataset's rows through `template`, generated and scored. `shouldStop` is asked
    /// between examples (Ctrl-C); `onExample` hears each as it is done.
    public static func run(_ model: LanguageModel, _ data: Dataset, template: PromptTemplate, metric: AnswerMetric,
                           maxTokens: Int, shouldStop: () -> Bool = { false }, onExample: ((Int) -> Void)? = nil) throws -> [Example] {
        var out: [Example] = []
        var g = GenerationOptions()
        g.maxTokens = maxTokens
        g.temperature = 0
        for (i, row) in data.rows.enumerated() {
            if shouldStop() { break }
            let (prompt, target) = try template.render(row, index: i, source: data.source)
            let predicted = try GradMode.noGrad { try model.generate(prompt, options: g).text }
            out.append(Example(prompt: prompt, predicted: predicted, target: target, score: metric.score(predicted, target)))
            onExample?(i + 1)
        }
        return out
    }
}
