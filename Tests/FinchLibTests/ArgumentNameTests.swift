import FinchLang
import FinchLib
import Foundation
import Testing

/// Natives read their arguments by parameter name, and a name that a native does not declare
/// stops Finch the first time that line runs. This reads the sources of every binding and checks
/// each name read inside a registration against that native's own parameters (and names read in
/// helper functions against some native's), so a misspelt or stale name fails here, not in use.
@Suite struct ArgumentNameTests {
    static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources")

    @Test func everyNameANativeReadsIsOneOfItsParameters() throws {
        let registry = FinchLibrary.makeRegistry()
        var declared: [String: Set<String>] = [:]  // native or method name -> parameter names (methods of all types merged)
        for (name, f) in registry.functions { declared[name, default: []].formUnion(f.params.map(\.name)) }
        for t in registry.types.values {
            for (name, m) in t.methods { declared[name, default: []].formUnion(m.params.map(\.name)) }
        }
        let everyName = declared.values.reduce(into: Set<String>()) { $0.formUnion($1) }

        let head = try NSRegularExpression(pattern: #"(?:NativeFunction|\bmethod|\blistMethod|\bstringMethod|\bdictMethod)\("(\w+)"|^\s*(?:private |fileprivate )?(?:static )?func "#,
                                           options: [.anchorsMatchLines])
        let read = try NSRegularExpression(pattern: #"\b(?:a|args|\$0)(?:\.(?:int|number|bool|string|optionalNumber|optionalInt|optionalString|list|object)\(|\[)"(\w+)""#)
        var checked = 0
        let files = ["FinchLib", "FinchLang"].flatMap { dir in
            ((try? FileManager.default.contentsOfDirectory(atPath: Self.sources.appendingPathComponent(dir).path)) ?? [])
                .filter { $0.hasSuffix(".swift") }.map { Self.sources.appendingPathComponent(dir).appendingPathComponent($0).path }
        }
        for file in files {
            let text = try String(contentsOfFile: file, encoding: .utf8) as NSString
            let heads = head.matches(in: text as String, range: NSRange(location: 0, length: text.length))
            for m in read.matches(in: text as String, range: NSRange(location: 0, length: text.length)) {
                let name = text.substring(with: m.range(at: 1))
                // The registration (or helper function) this read sits in: the last head before it.
                let owner = heads.last { $0.range.location < m.range.location }
                let line = text.substring(to: m.range.location).components(separatedBy: "\n").count
                let place = "\(URL(fileURLWithPath: file).lastPathComponent):\(line)"
                if let owner, owner.range(at: 1).location != NSNotFound {
                    let native = text.substring(with: owner.range(at: 1))
                    let params = (declared[native] ?? []).union(["self"])
                    #expect(params.contains(name), "\(place): \(native)() reads '\(name)', not among its parameters \(params.sorted())")
                } else {
                    #expect(everyName.contains(name), "\(place): a helper reads '\(name)', which no native declares")
                }
                checked += 1
            }
        }
        #expect(checked > 300, "only \(checked) argument reads found: has the naming changed?")
    }
}
