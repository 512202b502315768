import FinchLang
import FinchLib
import FinchREPL
import Testing

/// Tab completion as the REPL asks for it.
@Suite struct CompleterTests {
    func completer(_ setup: String) throws -> Completer {
        let interpreter = try FinchLibrary.makeInterpreter()
        try interpreter.run(setup)
        return Completer(interpreter: interpreter)
    }

    @Test func globalsAndKeywords() throws {
        let c = try completer("learning_rate = 0.1")
        #expect(c.complete(line: "lear", cursor: 4) == ["learning_rate"])
        #expect(c.complete(line: "x = ran", cursor: 7).contains("randn"))
        #expect(c.complete(line: "whi", cursor: 3) == ["while"])
    }

    @Test func membersAfterADot() throws {
        let c = try completer("t = zeros([2, 2])\nrow = {question: 1, answer: 2}")
        let members = c.complete(line: "t.sh", cursor: 4)
        #expect(members == ["shape"])
        #expect(c.complete(line: "t.so", cursor: 4) == ["softmax"])
        #expect(c.complete(line: "row.q", cursor: 5).contains("question"))
        #expect(c.complete(line: "\"abc\".up", cursor: 8).isEmpty)  // only named values are inspected
    }

    @Test func keywordArgumentsInsideACall() throws {
        let c = try completer("fn train(model, lr: 0.1, steps: 10) { lr }")
        #expect(c.complete(line: "train(m, l", cursor: 10).first == "lr: ")
        #expect(c.complete(line: "round(2.5, d", cursor: 12).first == "digits: ")
        let t = try completer("t = ones([2, 3])")
        #expect(t.complete(line: "t.sum(ke", cursor: 8) == ["keepdims: "])
    }
}
