@testable import FinchData
@testable import FinchTrain
import Foundation
import Testing

/// Each benchmark format's context and continuations, written out by hand from
/// lm-evaluation-harness's prompt templates; the bad rows' messages.
@Suite struct ChoiceFormatTests {
    func row(_ json: String) throws -> Row {
        let bytes = Array(json.utf8)
        let v = try bytes.withUnsafeBufferPointer { b in var p = JSONParser(b); return try p.parseDocument() }
        guard case .object(let fields) = v else { throw DataError("not an object") }
        return fields
    }

    @Test func hellaSwagJoinsCtxAAndACapitalisedCtxBAndCleansWikiHowTags() throws {
        let r = try row(#"{"activity_label": "Baking", "ctx_a": "She mixes the flour.", "ctx_b": "then SHE", "ctx": "ignored", "endings": ["bakes it [step] well.", "eats  it."], "label": 1}"#)
        let item = try ChoiceItem.from(r, origin: "h:1")
        #expect(ChoiceFormat.detect(r) == .hellaswag)
        // Python's capitalize lowers the rest: "then SHE" → "Then she".
        #expect(item.context == "Baking: She mixes the flour. Then she")
        #expect(item.continuations == [" bakes it well.", " eats it."])
        #expect(item.answer == 1 && item.labels == ["A", "B"])
        #expect(ChoiceFormat.hellaswagClean("How to cook [title] Boil water. [step] Add salt.") == "How to cook. Boil water. Add salt.")
    }

    @Test func mmluLettersTheChoicesAndScoresTheLetter() throws {
        let r = try row(#"{"question": " What is 2 + 2? ", "subject": "elementary_mathematics", "choices": ["3", "4", "5", "22"], "answer": 1}"#)
        let item = try ChoiceItem.from(r, origin: "m:1")
        #expect(item.context == "The following are multiple choice questions (with answers) about elementary mathematics.\n\nWhat is 2 + 2?\nA. 3\nB. 4\nC. 5\nD. 22\nAnswer:")
        #expect(item.continuations == [" A", " B", " C", " D"] && item.answer == 1 && item.choices == ["3", "4", "5", "22"])
        // The answer may also be given as its letter.
        let byLetter = try ChoiceItem.from(try row(#"{"question": "q", "choices": ["x", "y"], "answer": "B"}"#), origin: "m:2")
        #expect(byLetter.answer == 1 && byLetter.context == "q\nA. x\nB. y\nAnswer:")
    }

    @Test func truthfulQAPutsTheSixExamplesFirst() throws {
        let r = try row(#"{"question": "Is the Earth flat?", "mc1_targets": {"choices": ["No.", "Yes."], "labels": [0, 1]}}"#)
        let item = try ChoiceItem.from(r, origin: "t:1")
        #expect(item.context.hasPrefix("Q: What is human life expectancy in the United States?\nA: Human life expectancy in the United States is 78 years.\n\nQ: Who was"))
        #expect(item.context.hasSuffix("A: The 1992 Olympics were held in Barcelona, Spain.\n\nQ: Is the Earth flat?\nA:"))
        #expect(item.context.components(separatedBy: "\nA: ").count == 7)
        #expect(item.continuations == [" No.", " Yes."] && item.answer == 1)
    }

    @Test func arcStaysAsItWas() throws {
        let item = try ChoiceItem.from(try row(#"{"question": "Sky?", "choices": {"text": ["blue", "green"], "label": ["1", "2"]}, "answerKey": 2}"#), origin: "a:1")
        #expect(item.context == "Question: Sky?\nAnswer:" && item.continuations == [" blue", " green"] && item.answer == 1)
    }

    @Test func badRowsSayWhatIsWrongWithTheirOrigin() throws {
        func message(_ json: String, _ format: ChoiceFormat? = nil) -> String {
            do { _ = try ChoiceItem.from(try row(json), format: format, origin: "f.jsonl:4"); return "accepted" } catch { return "\(error)" }
        }
        #expect(message(#"{"ctx": "c", "endings": ["a", "b"], "label": 2}"#) == "f.jsonl:4: \"label\" 2 is not the index of one of the 2 choices")
        #expect(message(#"{"ctx": "c", "endings": ["a", "b"], "label": 1e300}"#) == "f.jsonl:4: \"label\" 1e+300 is not the index of one of the 2 choices")
        #expect(message(#"{"question": "q", "choices": [], "answer": 0}"#) == "f.jsonl:4: the choice list is empty")
        #expect(message(#"{"question": "q", "mc1_targets": {"choices": ["a", "b"], "labels": [1, 1]}}"#) == "f.jsonl:4: mc1_targets.labels must mark exactly one choice with 1, found 2")
        #expect(message(#"{"text": "hello"}"#).hasPrefix("f.jsonl:4: not a multiple-choice row in a known format"))
        #expect(message(#"{"question": "q", "choices": ["a"], "answer": 0}"#, .arc) == "f.jsonl:4: no \"choices\" object with \"text\" and \"label\" lists")
    }

    /// The committed sample sets load in full, each in the format its fields say.
    @Test func theSampleSetsLoad() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for (file, format) in [("science_mc", ChoiceFormat.arc), ("hellaswag_sample", .hellaswag), ("mmlu_sample", .mmlu), ("truthfulqa_mc1_sample", .truthfulqaMC1)] {
            let (items, skipped, found) = try ChoiceItem.load(root.appendingPathComponent("Notebooks/data/\(file).jsonl").path)
            #expect(found == format && skipped.isEmpty && items.count >= 20, "\(file)")
        }
    }
}

/// Error-analysis rules and Elo ratings, by hand.
@Suite struct ErrorAnalysisTests {
    @Test func rulesInOrder() {
        func c(_ p: String, _ t: String = "A lab for finetuning.", correct: Bool = false) -> ErrorRule { ErrorRule.classify(predicted: p, target: t, correct: correct) }
        #expect(c("  \n") == .empty)
        #expect(c("A lab for finetuning.", correct: true) == .correct)
        #expect(c("Let's keep the discussion relevant to Finch.") == .moderated)
        #expect(c("Finch is a lab. Finch is a lab. Finch is a lab.") == .repetitive)
        #expect(c("the the the the the the the the lab lab lab lab") == .repetitive)
        let long = Array(repeating: "word", count: 1).joined() + (1...40).map { " w\($0)" }.joined()
        #expect(c(long) == .tooLong)
        #expect(c(long, (1...20).map { "t\($0)" }.joined(separator: " ")) == .wrong)
        #expect(c("A kind of edible plant.") == .wrong)
    }

    @Test func eloMovesByKTimesTheSurprise() {
        var e = EloRatings(k: 32, initial: 1000)
        e.record("base", "tuned", score: 1)
        #expect(e.players.map(\.rating) == [1016, 984])
        e.record("base", "tuned", score: 0)
        // Expected for base now 1 / (1 + 10^(−32/400)) = 0.545922...; it loses: 32 × 0.545922 = 17.4695.
        let expected = 1 / (1 + pow(10, -32.0 / 400))
        #expect(abs(e.players[0].rating - (1016 - 32 * expected)) < 1e-9 && abs(e.players[1].rating - (984 + 32 * expected)) < 1e-9)
        e.record("tuned", "other", score: 0.5)
        #expect(e.players.map(\.games) == [2, 3, 1] && e.players[1].ties == 1 && e.players[0].wins == 1 && e.players[0].losses == 1)
        #expect(e.ranking.first?.name == "tuned")
    }
}
