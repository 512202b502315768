import FinchData
import FinchDist
import FinchModel
import FinchTensor

/// Question/answer evaluation by generation: each prompt is continued greedily (the lesson's
/// settings) and the continuation compared with the target by a metric.
public enum AnswerEvaluation {
    public struct Example: Sendable, Codable {
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
    /// With several ranks each answers a block of the rows and every rank gets all the examples.
    public static func run(_ model: LanguageModel, _ data: Dataset, template: PromptTemplate, metric: AnswerMetric,
                           maxTokens: Int, skipBad: Bool = false, skipped: inout [String], shouldStop: () -> Bool = { false },
                           world: World = .current, onExample: ((Int) -> Void)? = nil) throws -> [Example] {
        var out: [Example] = []
        var g = GenerationOptions()
        g.maxTokens = maxTokens
        g.temperature = 0
        var mySkipped: [String] = []
        defer { skipped += mySkipped }
        let share = world.share(of: data.count)
        for i in share {
            let row = data.rows[i]
            if shouldStop() { break }
            let prompt: String, target: String
            do { (prompt, target) = try template.render(row, index: i, source: data.source) } catch let e as DataError where skipBad {
                mySkipped.append(e.description)
                continue
            }
            let predicted = try GradMode.noGrad { try model.generate(prompt, options: g).text }
            out.append(Example(row: i, prompt: prompt, predicted: predicted, target: target, score: metric.score(predicted, target)))
            onExample?(i - share.lowerBound + 1)
        }
        guard world.isDistributed else { return out }
        mySkipped = try world.gather(mySkipped).flatMap { $0 }
        return try world.gather(out).flatMap { $0 }
    }

    /// As above, stopping at the first row the template cannot render.
    public static func run(_ model: LanguageModel, _ data: Dataset, template: PromptTemplate, metric: AnswerMetric,
                           maxTokens: Int, shouldStop: () -> Bool = { false }, world: World = .current, onExample: ((Int) -> Void)? = nil) throws -> [Example] {
        var skipped: [String] = []
        return try run(model, data, template: template, metric: metric, maxTokens: maxTokens, skipped: &skipped,
                       shouldStop: shouldStop, world: world, onExample: onExample)
    }
}
