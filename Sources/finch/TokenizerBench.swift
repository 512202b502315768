import FinchIO
import FinchModel
import Dispatch
import FinchText
import Foundation

/// tokenizer: SmolLM2's tokenizer on real English text (the machine's GNU info
/// manuals and package documentation, about 12 MB, or --text FILE), cut into
/// documents of about 16 KB.
enum TokenizerBench {
    static func run(_ out: BenchReporter, _ options: BenchOptions) throws {
        let seconds = options.seconds
        let tok = try Tokenizer(gguf: GGUFFile(path: try ModelStore.resolve("smollm2-135m")))
        let text = try options.textFile.map { try String(contentsOfFile: $0, encoding: .utf8) } ?? machineText(limit: 12 << 20)
        let docs = documents(text, size: 16 << 10)
        let bytes = Double(docs.reduce(0) { $0 + $1.utf8.count })
        out.report("tokenizer.text_mb", bytes / 1e6, digits: 1)

        var ids: [[Int]] = []
        let encode = try BenchTiming.interleaved([{ ids = docs.map { tok.encode($0, addSpecial: false) } }], seconds: seconds, minRounds: 3)[0]
        out.report("tokenizer.encode_mbps", bytes / encode / 1e6)
        out.report("tokenizer.tokens_per_byte", Double(ids.reduce(0) { $0 + $1.count }) / bytes, digits: 3)

        let batch = try BenchTiming.interleaved([{
            // One document per task: documents differ in cost, so halves would be uneven.
            DispatchQueue.concurrentPerform(iterations: docs.count) { i in _ = tok.encode(docs[i], addSpecial: false) }
        }], seconds: seconds, minRounds: 3)[0]
        out.report("tokenizer.batch_encode_mbps", bytes / batch / 1e6)

        let decode = try BenchTiming.interleaved([{ for d in ids { _ = tok.decode(d) } }], seconds: seconds, minRounds: 3)[0]
        out.report("tokenizer.decode_mbps", bytes / decode / 1e6)

        try families(out, smolLM2: tok, docs: docs, bytes: bytes, seconds: seconds)
        try chat(out, tok, seconds: seconds)

        // Training a 2000-token vocabulary on the first megabyte.
        var trainDocs: [String] = []
        var size = 0
        for d in docs where size < 1 << 20 { trainDocs.append(d); size += d.utf8.count }
        let train = try BenchTiming.interleaved([{ _ = try BPETrainer.train(texts: trainDocs, vocabSize: 2000) }], seconds: 0, minRounds: 1)[0]
        out.report("tokenizer.train_2k_s", train, digits: 2)
    }

    /// Encoding speed for each kind of pre-tokenizer — SmolLM2's (GPT-2's pattern matched by hand, as
    /// `gpt2`), the reference fixtures' Llama 3 and Qwen2 Split patterns and SentencePiece-style — against
    /// tiktoken built from the same vocabulary and pattern when FINCH_BENCH_PYTHON names a Python with
    /// tiktoken (interleaved, medians; tiktoken has no SentencePiece).
    static func families(_ out: BenchReporter, smolLM2: Tokenizer, docs: [String], bytes: Double, seconds: Double) throws {
        let dir = "Tests/FinchTextTests/Fixtures/tokenizers"
        guard FileManager.default.fileExists(atPath: dir) else {
            print("tokenizer.families: skipped (run from the Finch checkout: \(dir) holds the tokenizers)")
            return
        }
        let python = ProcessInfo.processInfo.environment["FINCH_BENCH_PYTHON"]
        let docsFile = FileManager.default.temporaryDirectory.appendingPathComponent("finch-bench-docs-\(getpid()).json").path
        let timeFile = docsFile + ".seconds"
        defer { unlink(docsFile); unlink(timeFile) }
        try JSONSerialization.data(withJSONObject: docs).write(to: URL(fileURLWithPath: docsFile))
        let smolDir = docsFile + ".smollm2"
        defer { try? FileManager.default.removeItem(atPath: smolDir) }
        try smolLM2.save(directory: smolDir)
        for name in ["gpt2", "llama3", "qwen2", "sentencepiece"] {
            let file = name == "gpt2" ? "\(smolDir)/tokenizer.json" : "\(dir)/\(name)/tokenizer.json"
            let tok = name == "gpt2" ? smolLM2 : try Tokenizer(jsonFile: file)
            var sides: [() throws -> Void] = [{ for d in docs { _ = tok.encode(d, addSpecial: false) } }]
            var pythonSeconds: [Double] = []
            if let python, name != "sentencepiece" {
                sides.append {
                    _ = try Spawn.run(python, ["scripts/reference/tiktoken_speed.py", file, docsFile, timeFile], quiet: true)
                    pythonSeconds.append(Double((try? String(contentsOfFile: timeFile, encoding: .utf8)) ?? "") ?? .nan)
                }
            }
            let finch = try BenchTiming.interleaved(sides, seconds: seconds, minRounds: 3)[0]
            out.report("tokenizer.\(name)_encode_mbps", bytes / finch / 1e6)
            if !pythonSeconds.isEmpty {
                let t = BenchTiming.median(pythonSeconds)
                out.report("tokenizer.\(name)_tiktoken_mbps", bytes / t / 1e6)
                out.report("tokenizer.\(name)_vs_tiktoken", t / finch, digits: 3)
            }
        }
    }

    /// Chat templates: SmolLM2's own on a four-message conversation, a tool-calling ChatML template
    /// (the test fixture in Qwen2.5's style) with two tools, and the assistant-only masks of the
    /// first (rendered prefix by prefix and tokenised): microseconds per conversation.
    static func chat(_ out: BenchReporter, _ tok: Tokenizer, seconds: Double) throws {
        let template = try tok.compiledChatTemplate()
        let conversation = [("system", "You are a concise assistant."), ("user", "What is LoRA?"),
                            ("assistant", "Low-rank adapters: small matrices trained beside frozen weights."),
                            ("user", "Why does it save memory?")].map(ChatTemplate.message)
        let n = 2000
        let render = try BenchTiming.interleaved([{ for _ in 0..<n { _ = try template.render(conversation, addGenerationPrompt: true) } }],
                                                 seconds: seconds, minRounds: 3)[0]
        out.report("tokenizer.chat_render_us", render / Double(n) * 1e6)
        let withReply = conversation + [ChatTemplate.message(("assistant", "Only the adapters have gradients and optimiser state."))]
        let masks = try BenchTiming.interleaved([{ for _ in 0..<(n / 10) { _ = try tok.encodeChat(withReply, template: template) } }],
                                                seconds: seconds, minRounds: 3)[0]
        out.report("tokenizer.chat_masks_us", masks / Double(n / 10) * 1e6)
        let path = "Tests/FinchTextTests/Fixtures/chat/templates/qwen_tools.jinja"
        guard let source = try? String(contentsOfFile: path, encoding: .utf8) else { return }
        let tools = try ChatTemplate(template: source)
        func tool(_ name: String, _ params: [String]) -> JinjaValue {
            let properties = JinjaDict(params.map { ($0, .dict(JinjaDict([("type", .string("string")), ("description", .string("The \($0).")) ]))) })
            return .dict(JinjaDict([("type", .string("function")), ("function", .dict(JinjaDict([
                ("name", .string(name)), ("description", .string("Finds the \(name).")),
                ("parameters", .dict(JinjaDict([("type", .string("object")), ("properties", .dict(properties)), ("required", .list([.string(params[0])]))]))),
            ])))]))
        }
        let toolList = JinjaValue.list([tool("weather", ["city", "unit"]), tool("time", ["zone"])])
        let toolRender = try BenchTiming.interleaved([{ for _ in 0..<n { _ = try tools.render(conversation, addGenerationPrompt: true, tools: toolList) } }],
                                                     seconds: seconds, minRounds: 3)[0]
        out.report("tokenizer.chat_tools_render_us", toolRender / Double(n) * 1e6)
    }

    /// Documents of about `size` bytes, cut at line ends.
    static func documents(_ text: String, size: Int) -> [String] {
        var docs: [String] = []
        var current = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            current += line
            current += "\n"
            if current.utf8.count >= size { docs.append(current); current = "" }
        }
        if !current.isEmpty { docs.append(current) }
        return docs
    }

    /// English text that every Debian machine has: info manuals, copyright files, changelogs
    /// (gathered by a shell pipeline into a temporary file; `head` ends it at `limit` bytes).
    static func machineText(limit: Int) throws -> String {
        let temp = FileManager.default.temporaryDirectory.appendingPathComponent("finch-bench-text-\(getpid()).txt").path
        defer { unlink(temp) }
        let script = "{ zcat /usr/share/info/*.gz; cat /usr/share/doc/*/copyright; zcat /usr/share/doc/*/changelog*.gz; } 2>/dev/null | head -c \(limit) > '\(temp)'"
        try Spawn.run("/bin/sh", ["-c", script])
        let text = (try? String(contentsOfFile: temp, encoding: .utf8)) ?? String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: temp))) ?? Data(), as: UTF8.self)
        guard text.utf8.count >= Swift.min(limit, 1 << 20) else {
            throw BenchError("found only \(text.utf8.count) bytes of text under /usr/share; pass --text FILE")
        }
        return text
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
