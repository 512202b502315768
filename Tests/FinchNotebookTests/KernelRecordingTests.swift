import FinchIO
@testable import FinchNotebook
import Foundation
import Testing

/// Notebooks recorded with one OpenBLAS kernel set keep the outputs of another in a recording of
/// their own, which `finch run --write` writes and `finch test` compares with on such a machine.
@Suite struct KernelRecordingTests {
    static let finch = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/release/finch").path

    static func notebook(code: String, output: String) -> String {
        "# K\n\n```finch\n\(code)\n```\n<!-- output -->\n```\n\(output)\n```\n<!-- finch-test: kernels=Imaginary -->\n"
    }

    @Test func theRecordingForOtherKernelsIsFoundAndCheckedAgainstTheNotebook() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("k.md").path
        try Self.notebook(code: "1 + 1", output: "2").write(toFile: path, atomically: true, encoding: .utf8)
        let nb = try Notebook(contentsOf: path)
        #expect(nb.testSettings.kernels == "Imaginary")
        #expect(!nb.recordsElsewhere(kernels: "imaginary"), "names compare without case")
        #expect(try nb.recording(for: "Imaginary")?.path == path)
        #expect(nb.recordsElsewhere(kernels: "Haswell"))
        #expect(nb.recordingPath(kernels: "Haswell") == dir.appendingPathComponent("k.assets/recorded-haswell.md").path)
        #expect(try nb.recording(for: "Haswell") == nil, "none recorded yet")

        try FileManager.default.createDirectory(at: dir.appendingPathComponent("k.assets"), withIntermediateDirectories: true)
        try Self.notebook(code: "1 + 1", output: "3").write(toFile: nb.recordingPath(kernels: "Haswell"), atomically: true, encoding: .utf8)
        #expect(try nb.recording(for: "Haswell")?.cells[0].recorded?.text == "3\n")

        try Self.notebook(code: "1 + 2", output: "3").write(toFile: nb.recordingPath(kernels: "Haswell"), atomically: true, encoding: .utf8)
        #expect(throws: NotebookError.self) { try nb.recording(for: "Haswell") }
        do { _ = try nb.recording(for: "Haswell") } catch {
            #expect("\(error)".contains("its cell 1 is not \(path)'s"), "\(error)")
        }
        // A notebook that does not say leaves every kernel set to its own outputs.
        let plain = try Notebook(parsing: "```finch\n1\n```\n", path: path)
        #expect(!plain.recordsElsewhere(kernels: "Haswell"))
    }

    @Test func runWriteRecordsElsewhereAndTestComparesWithTheRecording() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("k.md").path
        let text = Self.notebook(code: "print(6 * 7)", output: "not what this machine prints")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try Spawn.run(Self.finch, ["test", path], quiet: true) == 1, "no recording for these kernels: the notebook's own outputs differ")

        #expect(try Spawn.run(Self.finch, ["run", "--write", path], quiet: true) == 0)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == text, "the notebook keeps its kernel set's outputs")
        let assets = dir.appendingPathComponent("k.assets").path
        let written = try FileManager.default.contentsOfDirectory(atPath: assets)
        #expect(written.count == 1 && written[0].hasPrefix("recorded-") && written[0].hasSuffix(".md"), "\(written)")
        let recording = assets + "/" + written[0]
        #expect(try Notebook(contentsOf: recording).cells[0].recorded?.text == "42\n")
        #expect(try Spawn.run(Self.finch, ["test", path], quiet: true) == 0, "compared with this machine's recording")

        try text.replacingOccurrences(of: "6 * 7", with: "6 * 8").write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try Spawn.run(Self.finch, ["test", path], quiet: true) == 2, "a recording of other cells is an error, not a comparison")
    }
}
