import FinchFuzzing
import Foundation
import Testing

/// Every input the fuzzer ever crashed Finch with (crashes/TARGET/*, kept by scripts/fuzz.sh)
/// runs again through the same target: it must now end in an error, not a trap. The seeds
/// of every target run too, so the harness itself stays sound as the code changes.
@Suite struct FuzzRegressionTests {
    static let crashes = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("crashes")
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// (target, file) for every kept crash.
    static let cases: [String] = FuzzTarget.allCases.flatMap { t -> [String] in
        let dir = crashes.appendingPathComponent(t.rawValue).path
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().map { "\(t.rawValue)/\($0)" }
    }

    @Test(arguments: cases)
    func keptCrashEndsInAnError(_ name: String) throws {
        let target = try #require(FuzzTarget(rawValue: String(name.split(separator: "/")[0])))
        let data = try Data(contentsOf: Self.crashes.appendingPathComponent(name))
        try target.run(data)
    }

    @Test(arguments: FuzzTarget.allCases)
    func seedsRun(_ target: FuzzTarget) throws {
        let dir = NSTemporaryDirectory() + "finch-fuzz-seeds-test-\(target.rawValue)-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let count = try FuzzSeeds.write(target, to: dir, root: Self.root.path)
        #expect(count > 0, "no seeds for \(target)")
        for name in try FileManager.default.contentsOfDirectory(atPath: dir).sorted() {
            try target.run(try Data(contentsOf: URL(fileURLWithPath: dir + "/" + name)))
        }
    }

    @Test func theDictionaryHasTheLanguageAndItsNatives() {
        let dict = FuzzDictionary.finch()
        for word in ["\"while \"", "\"train(\"", "\"lr: \"", "\".generate(\"", "\"**\""] { #expect(dict.contains(word), "\(word) missing") }
    }
}
