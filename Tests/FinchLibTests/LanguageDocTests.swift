import FinchLang
import FinchLib
import Foundation
import Testing

/// Every ```finch block of docs/language.md runs, and prints what its `# expect:` comments say.
@Suite struct LanguageDocTests {
    static let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/language.md").path

    static var blocks: [String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        var out: [String] = []
        var current: [Substring]?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if current == nil, line == "```finch" { current = [] } else if current != nil, line == "```" {
                out.append(current!.joined(separator: "\n"))
                current = nil
            } else if current != nil { current!.append(line) }
        }
        return out
    }

    @Test func documentHasExamples() { #expect(Self.blocks.count >= 9) }

    @Test(arguments: blocks)
    func exampleRunsAsDocumented(_ code: String) throws {
        let expected = code.split(separator: "\n").compactMap { line -> String? in
            line.range(of: "# expect: ").map { String(line[$0.upperBound...]) }
        }
        let interpreter = try FinchLibrary.makeInterpreter()
        var output = ""
        interpreter.output = { output += $0 }
        try interpreter.run(code, name: "language.md")
        let lines = output.isEmpty ? [] : output.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        #expect(lines == expected)
    }
}
