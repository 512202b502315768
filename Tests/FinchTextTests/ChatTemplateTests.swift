import Foundation
import Testing
@testable import FinchData
@testable import FinchText

/// Finch's Jinja engine against Python's jinja2 as transformers configures it
/// (scripts/reference/make_chat_templates.py): templates written in the families' styles and one
/// that uses every construct, over varied conversations, must give byte-identical text, the same
/// refusals (raise_exception) and errors on the same lines.
struct ChatTemplateTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/chat")

    static func json(_ text: String) throws -> DataValue {
        var bytes = Array(text.utf8)
        return try bytes.withUnsafeMutableBufferPointer { b in
            var parser = JSONParser(UnsafeBufferPointer(b))
            return try parser.parseDocument()
        }
    }

    static func source(_ name: String) throws -> String {
        try String(contentsOf: fixtures.appendingPathComponent("templates/\(name).jinja"), encoding: .utf8)
    }

    static let conversations: [DataValue] = {
        guard case .array(let items) = try! json(try! String(contentsOf: fixtures.appendingPathComponent("conversations.json"), encoding: .utf8)) else { fatalError() }
        return items
    }()

    static func variables(_ k: Int, addGenerationPrompt: Bool) -> [String: JinjaValue] {
        let c = conversations[k]
        var v: [String: JinjaValue] = ["messages": c["messages"]!.jinja, "add_generation_prompt": .bool(addGenerationPrompt),
                                       "bos_token": .string("<s>"), "eos_token": .string("</s>")]
        if let tools = c["tools"] { v["tools"] = tools.jinja }
        return v
    }

    @Test func rendersLikeJinja2() throws {
        let rows = try String(contentsOf: Self.fixtures.appendingPathComponent("expected.jsonl"), encoding: .utf8).split(separator: "\n").map { try Self.json(String($0)) }
        guard case .array(let errorTemplates) = try Self.json(try String(contentsOf: Self.fixtures.appendingPathComponent("errors.json"), encoding: .utf8)) else { return }
        var sources: [String: String] = [:]
        for case .array(let pair) in errorTemplates { sources["error:" + pair[0].string!] = pair[1].string! }
        // Finch names the line a block opens on when it is never closed; jinja2 names the end of the template.
        let openingLine = ["error:unclosed_for": 1]
        var failures: [String] = []
        var texts = 0, errors = 0
        for row in rows {
            let name = row["template"]!.string!
            guard case .number(let conversation)? = row["conversation"] else { continue }
            let k = Int(conversation)
            let agp = row["add_generation_prompt"] == .bool(true)
            let label = "\(name) conversation \(k)\(agp ? " +generation prompt" : "")"
            let source = try sources[name] ?? Self.source(name)
            do {
                let text = try JinjaTemplate(source).render(Self.variables(k, addGenerationPrompt: agp)).text
                if let expected = row["text"]?.string {
                    texts += 1
                    if text != expected { failures.append("\(label): got\n\(text)\nexpected\n\(expected)") }
                } else {
                    failures.append("\(label): rendered, but jinja2 failed with \(row["error"]!.string!)")
                }
            } catch let e as JinjaError {
                guard let expected = row["error"]?.string else { failures.append("\(label): failed with \(e), jinja2 rendered it"); continue }
                errors += 1
                let raised = row["raised"] == .bool(true)
                if raised != e.raised { failures.append("\(label): raised \(e.raised), jinja2 \(raised)") }
                if raised, e.message != expected { failures.append("\(label): message \(e.message), jinja2 \(expected)") }
                var line: Int?
                if case .number(let n)? = row["line"] { line = Int(n) }
                if let line, e.line != (openingLine[name] ?? line) { failures.append("\(label): error on line \(e.line.map(String.init) ?? "nil"), jinja2 line \(line): \(e.message) / \(expected)") }
            }
        }
        #expect(texts > 100 && errors > 40)
        #expect(failures.isEmpty, "\(failures.count) of \(rows.count) differ:\n\(failures.prefix(3).joined(separator: "\n---\n"))")
    }

    /// A tokenizer from a fixture with the template's own special tokens added.
    static func tokenizer(_ base: String, specials: [String], template: String) throws -> Tokenizer {
        let t = try Tokenizer(jsonFile: TokenizerFamilyTests.fixtures.appendingPathComponent("\(base)/tokenizer.json").path)
        var missing: [String] = []
        for s in specials where t.id(of: s) == nil && !missing.contains(s) { missing.append(s) }
        let added = t.addedTokens + missing.enumerated().map { AddedToken(id: t.tokens.count + $0.offset, content: $0.element, special: true) }
        let tokens = t.tokens + missing
        let id = { (s: String) in tokens.firstIndex(of: s) }
        return try Tokenizer(tokens: tokens, mergePairs: t.mergePairs, added: added, normalizer: t.normalizer, preTokenizer: t.preTokenizer,
                             decoder: t.decoder, options: t.options, postProcessor: t.postProcessor, bosId: id("<s>"), eosId: id("</s>"),
                             unknownId: t.unknownId, padId: t.padId, chatTemplate: template, mergeRanks: nil, source: "test")
    }

    /// The trained tokens, as runs of consecutive tokens, each decoded.
    static func trainedRuns(_ tok: Tokenizer, _ ids: [Int], _ trained: [Bool]) -> [String] {
        var runs: [String] = [], current: [Int] = []
        for (id, t) in zip(ids, trained) {
            if t { current.append(id) } else if !current.isEmpty { runs.append(String(decoding: tok.decodeBytes(current), as: UTF8.self)); current = [] }
        }
        if !current.isEmpty { runs.append(String(decoding: tok.decodeBytes(current), as: UTF8.self)) }
        return runs
    }

    /// For each template, the trained tokens are exactly the assistant's turns and their end-of-turn
    /// token (masks written by hand), found by rendering prefix by prefix or from {% generation %}.
    /// Gemma's runs through a Metaspace tokenizer, whose tokens do not spell the text byte for byte.
    @Test(arguments: [
        ("chatml", "llama3", ["<|im_start|>", "<|im_end|>"], "<|im_end|>"),
        ("qwen_tools", "qwen2", ["<|im_start|>", "<|im_end|>"], "<|im_end|>"),
        ("llama3", "llama3", ["<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"], "<|eot_id|>"),
        ("mistral", "llama3", ["<s>", "</s>"], "</s>"),
        ("gemma", "metaspace", ["<start_of_turn>", "<end_of_turn>"], "<end_of_turn>"),
        ("phi_generation", "llama3", ["<|system|>", "<|user|>", "<|assistant|>", "<|end|>", "</s>"], "<|end|>"),
    ])
    func assistantTurnsAreTrained(_ name: String, _ base: String, _ specials: [String], _ end: String) throws {
        let source = try Self.source(name)
        let tok = try Self.tokenizer(base, specials: specials + ["<s>", "</s>"], template: source)
        let template = try tok.compiledChatTemplate()
        #expect(template.hasGenerationBlocks == (name == "phi_generation"))
        #expect(tok.endOfTurnId == tok.id(of: end), "\(name): end of turn")
        let lead = name == "mistral" ? " " : ""
        let conversation = Self.conversations[2]["messages"]!.jinja
        guard case .list(let messages) = conversation else { return }
        let (ids, trained) = try tok.encodeChat(messages, template: template)
        #expect(ids == tok.encode(try template.render(messages), addSpecial: false))
        #expect(Self.trainedRuns(tok, ids, trained) == ["\(lead)A finetuning lab.\(end)", "\(lead)Yes: two cores are enough.\(end)"], "\(name)")
        // A system message and text the template trims: Bonjour ! is still all that is trained.
        if name != "gemma", case .list(let withSystem) = Self.conversations[3]["messages"]!.jinja {
            let (ids3, trained3) = try tok.encodeChat(withSystem, template: template)
            #expect(Self.trainedRuns(tok, ids3, trained3) == ["\(lead)Bonjour !\(end)"], "\(name) with a system message")
        }
    }

    @Test func templatesThatRewriteEarlierTurnsAreRefused() throws {
        let template = try ChatTemplate(template: "{% for m in messages %}{% if m.role == 'assistant' and not loop.last %}[earlier]{% else %}{{ m.content }}{% endif %}{% endfor %}")
        let messages = [("user", "a"), ("assistant", "b"), ("user", "c"), ("assistant", "d")].map(ChatTemplate.message)
        #expect(throws: TokenizerError.self) { try template.assistantSpans(messages) }
        // The refusal from raise_exception reaches the user with the template's words.
        let strict = try ChatTemplate(template: "{% if messages[0].role == 'system' %}\n{{ raise_exception('System role not supported') }}{% endif %}")
        do {
            _ = try strict.render([("system", "x")])
            Issue.record("the template's exception was lost")
        } catch let e as TokenizerError {
            #expect(e.message == "the chat template refused the conversation (line 2): System role not supported")
        }
    }

    @Test func aBrokenTemplateNamesItsFileAndLine() throws {
        let tok = try Self.tokenizer("llama3", specials: [], template: "{% for m in messages %}\n{{ m.content }\n{% endfor %}")
        do {
            _ = try tok.compiledChatTemplate()
            Issue.record("a broken template was accepted")
        } catch let e as TokenizerError {
            #expect(e.message.hasPrefix("test: chat template line 2: "), "\(e.message)")
        }
    }

    @Test func generationBlocksGiveTheirSpans() throws {
        let template = try JinjaTemplate(try Self.source("phi_generation"))
        let (text, spans) = try template.render(Self.variables(2, addGenerationPrompt: false))
        let bytes = Array(text.utf8)
        #expect(spans.map { String(decoding: bytes[$0], as: UTF8.self) } == ["A finetuning lab.<|end|>", "Yes: two cores are enough.<|end|>"])
    }
}
