import FinchLang
@testable import FinchLib
import Testing

/// What a rich front end (the Jupyter kernel) shows for a value: text/plain always, and for a
/// table an HTML table with its cells escaped and the middle of a long table elided, as in text.
@Suite struct RichOutputTests {
    @Test func tablesAreHTMLAndEverythingIsText() throws {
        let (_, interpreter) = try runFinch("m = model(vocab: 16, dim: 8, layers: 3, heads: 2, context: 8)")
        let params = try #require(try interpreter.run("m.params"))
        let bundle = RichOutput.bundle(params)
        #expect(bundle["text/plain"] == params.repr)
        let html = try #require(bundle["text/html"])
        #expect(html.hasPrefix("<table>\n<thead><tr><th>name</th><th>shape</th><th>count</th><th>trainable</th><th>format</th></tr></thead>"))
        #expect(html.contains("<td>[16, 8]</td>"))
        // 3 layers' parameters are more than the 20 rows shown: 10, the elision, 10, as in text.
        #expect(html.contains("more rows …</td></tr>") && html.components(separatedBy: "<tr>").count == 1 + 1 + 21)
        #expect(html.hasSuffix("</table>\n<p>\(params.repr.split(separator: "\n").last!.dropFirst().dropLast())</p>"))

        let escaped = Table(columns: ["q<"], rows: [[.string("a<b & c>d")]]).html
        #expect(escaped.contains("<th>q&lt;</th>") && escaped.contains("<td>a&lt;b &amp; c&gt;d</td>"))
        #expect(RichOutput.bundle(.string("<b>")) == ["text/plain": "\"<b>\""])
    }
}
