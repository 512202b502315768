import FinchLang
import Testing

/// help() on functions written in Finch shows their comment, and help() lists them.
@Suite struct HelpTests {
    @Test func preludeFunctionsAreDocumented() throws {
        let interpreter = try Interpreter()
        var out = ""
        interpreter.output = { out += $0 }
        try interpreter.run("help(take)")
        #expect(out.hasPrefix("fn take(items, n)\n    The first n items.\n  defined in "))
        out = ""
        try interpreter.run("help()")
        #expect(out.contains("Prelude (written in Finch): map, filter, reduce"))
        out = ""
        try interpreter.run("help(\"lenn\")")
        #expect(out.contains("no help for 'lenn'; did you mean 'len'?"))
    }
}
