import FinchData
import FinchText
import Foundation
import Testing

/// Dataset operations, kinds and templates.
@Suite struct DatasetTests {
    static func numbered(_ n: Int) -> Dataset {
        Dataset(rows: (0..<n).map { [.init("question", .string("Q\($0)")), .init("answer", .string("A\($0)"))] }, source: "numbered")
    }

    @Test func splitIsReproducibleAndComplete() throws {
        let ds = Self.numbered(100)
        let (train, test) = try ds.split(test: 0.1, seed: 123)
        #expect(train.count == 90 && test.count == 10)
        let again = try ds.split(test: 0.1, seed: 123)
        #expect(again.test.rows == test.rows && again.train.rows == train.rows)
        #expect(try ds.split(test: 0.1, seed: 124).test.rows != test.rows)
        let all = Set((train.rows + test.rows).map { $0[field: "question"]!.text })
        #expect(all.count == 100, "every row lands on exactly one side")
        #expect(try ds.split(test: 0, seed: 1).test.count == 0)
        #expect(throws: DataError.self) { try ds.split(test: 1.5, seed: 1) }
        // Pinned: the algorithm (Fisher–Yates over SplitMix64) is documented and must not drift.
        #expect(test.rows.map { $0[field: "question"]!.text } == Self.pinnedTest)
    }
    static let pinnedTest = ["Q30", "Q77", "Q93", "Q76", "Q21", "Q50", "Q2", "Q48", "Q15", "Q75"]

    @Test func takeSkipSliceConcatSelectRenameDedupe() throws {
        let ds = Self.numbered(5)
        #expect(ds.take(2).count == 2 && ds.skip(3).count == 2 && ds.slice(1, 3).rows == Array(ds.rows[1..<3]))
        #expect(ds.take(10).count == 5 && ds.skip(10).count == 0 && ds.slice(4, 2).count == 0 && ds.slice(-3, 1).count == 1)
        #expect(ds.concat(ds).count == 10 && ds.concat(ds).deduplicated().count == 5)
        #expect(ds.concat(ds.take(1)).deduplicated(by: ["answer"]).count == 5)
        #expect(try ds.select(["answer"]).columns == ["answer"])
        #expect(throws: DataError.self) { try ds.select(["nope"]) }
        let renamed = try ds.renamed(["question": "prompt"])
        #expect(renamed.columns == ["prompt", "answer"] && renamed.kind == .unknown)
        #expect(throws: DataError.self) { try ds.renamed(["nope": "x"]) }
        #expect(try ds.column("answer").count == 5)
        #expect(throws: DataError.self) { try ds.column("nope") }
    }

    @Test func writesJSONLThatReadsBack() throws {
        let ds = Dataset(rows: [[.init("text", .string("line \"one\"\nand\ttab")), .init("n", .number(2.5)), .init("ok", .bool(true))]], source: "x")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("finch-\(UUID().uuidString).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try ds.writeJSONL(path)
        #expect(try Dataset.load(path).rows == ds.rows)
    }

    @Test func templatesByKind() throws {
        let qa: Row = [.init("question", .string("What is Finch?")), .init("answer", .string("A lab."))]
        let (p, c) = try PromptTemplate.questionAnswer.render(qa, index: 0, source: "qa.jsonl")
        #expect(p == "### Question:\nWhat is Finch?\n\n### Answer:" && c == " A lab.")
        let withInput: Row = [.init("instruction", .string("Add")), .init("input", .string("2 and 3")), .init("output", .string("5"))]
        let without: Row = [.init("instruction", .string("Say hi")), .init("input", .string("")), .init("output", .string("hi"))]
        #expect(try PromptTemplate.alpaca.render(withInput, index: 0, source: "a").prompt.contains("### Input:\n2 and 3\n\n### Response:\n"))
        #expect(!(try PromptTemplate.alpaca.render(without, index: 1, source: "a").prompt.contains("### Input:")))
        let braces = PromptTemplate.format(prompt: "{{literal}} {question}", completion: "{answer}")
        #expect(try braces.render(qa, index: 0, source: "qa").prompt == "{literal} What is Finch?")
        do {
            _ = try PromptTemplate.questionAnswer.render([.init("question", .string("Q"))], index: 7, source: "qa.jsonl")
            Issue.record("a missing field was accepted")
        } catch { #expect("\(error)" == "qa.jsonl row 7: the template names {answer}, but the row has only question") }
        #expect(PromptTemplate.standard(for: .unknown) == nil)
        // A mistyped field: a list or null where the template wants text.
        for bad in [DataValue.array([.string("x")]), .null, .object([])] {
            do {
                _ = try PromptTemplate.questionAnswer.render([.init("question", .string("Q")), .init("answer", bad)], index: 2, source: "qa.jsonl")
                Issue.record("\(bad) was accepted as text")
            } catch { #expect("\(error)".hasPrefix("qa.jsonl row 2: {answer} is \(bad.typeName), but the template needs text there")) }
        }
        #expect(try PromptTemplate.questionAnswer.render([.init("question", .number(7)), .init("answer", .bool(true))], index: 0, source: "qa").prompt.contains("7"))
    }

    @Test func chatRowsUseTheModelsTemplate() throws {
        let template = try ChatTemplate(template: "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")
        let messages = DataValue.array([.object([.init("role", .string("user")), .init("content", .string("Hi"))]),
                                        .object([.init("role", .string("assistant")), .init("content", .string("Hello!"))])])
        let (p, c) = try PromptTemplate.chat(template).render([.init("messages", messages)], index: 0, source: "chat.jsonl")
        #expect(p.hasSuffix("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n") && c == "Hello!")
    }
}
