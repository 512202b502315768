import FinchLang
import FinchLib
import Foundation
import Testing

/// docs/reference.md must be what `finch docs` would write now.
@Suite struct ReferenceDocTests {
    @Test func committedReferenceIsCurrent() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/reference.md").path
        let committed = try String(contentsOfFile: path, encoding: .utf8)
        let current = ReferenceDoc.markdown(FinchLibrary.makeRegistry())
        #expect(committed == current, "docs/reference.md is stale: run `finch docs` (make docs) and commit it")
    }

    @Test func everyNativeIsDocumentedWithAnExample() {
        let registry = FinchLibrary.makeRegistry()
        for name in registry.order {
            let f = registry.functions[name]!
            #expect(!f.doc.isEmpty, "\(name) has no doc")
            #expect(!f.example.isEmpty, "\(name) has no example")
        }
        for t in registry.types.values {
            for (name, m) in t.methods { #expect(!m.doc.isEmpty && !m.example.isEmpty, "\(t.name).\(name) lacks doc or example") }
        }
    }
}
