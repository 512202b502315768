import ArgumentParser
import FinchIO
import FinchLang
import FinchLib

/// `finch docs`: writes docs/reference.md from the registry.
struct Docs: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write docs/reference.md from the registry of natives.")

    @Option(help: "Where to write the reference.") var output = "docs/reference.md"

    func run() throws {
        let text = ReferenceDoc.markdown(FinchLibrary.makeRegistry())
        try AtomicFile.write(text, to: output)
        print("wrote \(output) (\(text.split(separator: "\n").count) lines)")
    }
}
