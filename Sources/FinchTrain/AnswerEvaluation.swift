import FinchData
import FinchModel
import FinchTensor

/// Question/answer evaluation by generation: each prompt is continued greedily (the lesson's
/// settings) and the continuation compared with the target by a metric.
public enum AnswerEvaluation {
    public struct Example: Sendable {
        /// The row of the data set it came from.
        public let row: Int
        public let prompt: String
        public let predicted: String
        public let target: String
        public let score: Double
    }

    /// The dataset's rows through `template`, generated and scored. A row the template cannot
    /// render is an error, or with `skipBad` left out and its message added to `skipped`.
    /// `shouldStop` is asked between examples (Ctrl-C); `onExample` hears each as it is done.
    public static func run(_ model: LanguageModel, _ data: Dataset, template: PromptTemplate, metric: AnswerMetric,
                           maxTokens: Int, skipBad: Bool = false, skipped: inout [String], shouldStop: () -> Bool = { false },
                           onExample: ((Int) -> Void)? = nil) throws -> [Example] {
        var out: [Example] = []
        var g = GenerationOptions()
        g.maxTokens = maxTokens
        g.temperature = 0
        for (i, row) in data.rows.enumerated() {
            if shouldStop() { break }
            let prompt: String, target: String
            do { (prompt, target) = try template.render(row, index: i, source: data.source) } catch let e as DataError where skipBad {
                skipped.append(e.description)
                continue
            }
            let predicted = try GradMode.noGrad { try model.generate(prompt, options: g).text }
            out.append(Example(row: i, prompt: prompt, predicted: predicted, target: target, score: metric.score(predicted, target)))
            onExample?(i + 1)
        }
        return out
    }

    /// As above, stopping at the first row the template cannot render.
    public static func run(_ model: LanguageModel, _ data: Dataset, template: PromptTemplate, metric: AnswerMetric,
                           maxTokens: Int, shouldStop: () -> Bool = { false }, onExample: ((Int) -> Void)? = nil) throws -> [Example] {
        var skipped: [String] = []
        return try run(model, data, template: template, metric: metric, maxTokens: maxTokens, skipped: &skipped,
                       shouldStop: shouldStop, onExample: onExample)
    }
}
