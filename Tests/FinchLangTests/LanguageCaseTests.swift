import FinchLang
import Foundation
import Testing

/// Runs every cases/*.finch file and checks its output against the file's
/// `# expect: line` comments (in order) and, when present, that it stops
/// with an error containing the text of its `# expect error: text` comment.
@Suite struct LanguageCaseTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("cases")
    static let files: [String] = (try? FileManager.default.contentsOfDirectory(atPath: directory.path))?
        .filter { $0.hasSuffix(".finch") }.sorted() ?? []

    @Test func thereAreCases() { #expect(Self.files.count >= 10) }

    @Test(arguments: files)
    func runCase(_ name: String) throws {
        let path = Self.directory.appendingPathComponent(name).path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var expected: [String] = []
        var expectedError: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if let r = line.range(of: "# expect: ") { expected.append(String(line[r.upperBound...])) }
            if let r = line.range(of: "# expect error: ") { expectedError = String(line[r.upperBound...]) }
        }
        let interpreter = try Interpreter()
        var output = ""
        interpreter.output = { output += $0 }
        interpreter.baseDirectory = Self.directory.path
        var failure: String?
        do { try interpreter.run(text, name: name) } catch { failure = String(describing: error) }
        let lines = output.isEmpty ? [] : output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).dropLast(output.hasSuffix("\n") ? 1 : 0)
        #expect(Array(lines) == expected, "\(name): output differs")
        if let expectedError {
            let got = try #require(failure, "\(name): expected an error containing \"\(expectedError)\" but the script finished")
            #expect(got.contains(expectedError), "\(name): error was:\n\(got)")
        } else {
            #expect(failure == nil, "\(name): unexpected error:\n\(failure ?? "")")
        }
    }
}
