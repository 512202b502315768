import FinchIO
import FinchLang
import FinchLib
import FinchModel
import FinchNotebook
import FinchText
import Foundation

/// The starting corpus of each target, made from what the project already has (the language
/// cases, the prelude, the lessons and their data, every native's example) and from small files
/// Finch writes itself (a tiny model as GGUF and safetensors, its tokenizer.json), so the
/// fuzzer starts from inputs that reach deep code.
public enum FuzzSeeds {
    /// ChatML as SmolLM2 writes it (with its default system prompt), and without one.
    static let chatTemplates = [
        "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}",
        "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}",
    ]

    /// Writes the seeds of `target` into `directory`; `root` is the source tree. Returns how many.
    @discardableResult
    public static func write(_ target: FuzzTarget, to directory: String, root: String) throws -> Int {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var count = 0
        func add(_ name: String, _ data: Data) throws {
            try AtomicFile.write(data, to: directory + "/" + name)
            count += 1
        }
        func addText(_ name: String, _ text: String) throws { try add(name, Data(text.utf8)) }
        func files(_ dir: String, _ ext: String) -> [String] {
            let path = root + "/" + dir
            let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            return names.filter { $0.hasSuffix(ext) }.sorted().map { path + "/" + $0 }
        }
        /// A file, or its first `limit` bytes cut at a line end (fuzzing works on small inputs).
        func addFile(_ path: String, limit: Int = 8192) throws {
            guard var data = FileManager.default.contents(atPath: path) else { return }
            if data.count > limit {
                data = data.prefix(limit)
                if let nl = data.lastIndex(of: 0x0A) { data = data.prefix(nl + 1) }
            }
            try add(URL(fileURLWithPath: path).lastPathComponent, data)
        }

        switch target {
        case .lang:
            for f in files("Tests/FinchLangTests/cases", ".finch") + files("Stdlib", ".finch") + files("Notebooks/data", ".finch") { try addFile(f) }
            for f in files("Notebooks", ".md") {
                guard let nb = try? Notebook(contentsOf: f) else { continue }
                for cell in nb.cells { try addText("\(URL(fileURLWithPath: f).deletingPathExtension().lastPathComponent)-cell\(cell.number).finch", cell.code) }
            }
            let registry = FinchLibrary.makeRegistry()
            for name in registry.order { if let f = registry.functions[name], !f.example.isEmpty { try addText("example-\(name).finch", f.example) } }
            for typeName in registry.typeOrder {
                for (name, m) in registry.types[typeName]?.methods ?? [:] where !m.example.isEmpty {  // file names: order is free
                    try addText("example-\(typeName)-\(name).finch", m.example)
                }
            }
        case .gguf:
            let model = try tinyModel()
            for type in [GGUFType.f32, .f16, .q8_0] {
                try model.saveGGUF(path: directory + "/tiny-\(type).gguf", type: type)
                count += 1
            }
            // Every other family once, so mutations reach each family's metadata reader and layouts.
            for family in Architectures.all where family.name != Llama.name {
                try tinyModel(family.name).saveGGUF(path: directory + "/tiny-\(family.name).gguf")
                count += 1
            }
        case .config:
            for f in files("Tests/FinchModelTests/Fixtures/families", "") {
                try add(URL(fileURLWithPath: f).lastPathComponent + "-config.json", FileManager.default.contents(atPath: f + "/config.json") ?? Data())
            }
        case .safetensors:
            let model = try tinyModel()
            for dtype in ["F32", "F16"] {
                try SafetensorsFile.write(path: directory + "/tiny-\(dtype).safetensors", tensors: model.parameters.map { ($0.name, $0.tensor) }, dtype: dtype)
                count += 1
            }
        case .tokenizer:
            let scratch = NSTemporaryDirectory() + "finch-fuzz-seeds-\(getpid())"
            defer { try? FileManager.default.removeItem(atPath: scratch) }
            try TextHarness.tokenizer.save(directory: scratch)
            try add("tokenizer.json", FileManager.default.contents(atPath: scratch + "/tokenizer.json") ?? Data())
        case .encode:
            try addText("ascii.txt", "Hello, world! 12345 + 678 = 7023\n\tTabs and  double  spaces.")
            try addText("unicode.txt", "ünïcödé 日本語 emoji 🐦 e\u{301} ﬁ")
            for f in files("Notebooks/data", ".jsonl") { try addFile(f, limit: 2048) }
        case .jsonl:
            for f in files("Notebooks/data", ".jsonl") + files("Tests/FinchModelTests/Fixtures", ".jsonl") { try addFile(f) }
        case .json:
            try addText("array.json", "[{\"question\": \"What is 2 + 2?\", \"answer\": \"4\"}, {\"question\": \"Ünï\\u00e9?\", \"answer\": \"x\\n\", \"n\": 1.5e3, \"ok\": true, \"v\": null, \"l\": [1, {\"a\": []}]}]")
            try addText("records.json", "{\"data\": [{\"text\": \"one\"}, {\"text\": \"two\"}]}")
        case .csv:
            try addText("qa.csv", "question,answer\n\"What is \"\"Finch\"\"?\",A lab\nplain,\"multi\nline\"\r\n,empty\n")
            try addText("numbers.csv", "a;b;c\n1;2;3\n4.5;-6e2;x\n")
        case .notebook:
            for f in files("Notebooks", ".md") { try addFile(f, limit: 16384) }
        case .chat:
            for (i, t) in chatTemplates.enumerated() { try addText("chatml-\(i).jinja", t) }
        }
        return count
    }

    /// A two-layer model of a family (llama unless named) with the harness's tokenizer: small enough
    /// to fuzz, complete enough to load; the family's options switched on.
    static func tinyModel(_ architecture: String = Llama.name) throws -> LanguageModel {
        let tok = TextHarness.tokenizer
        let grouped = Architectures.named(architecture)?.groupedQueryAttention ?? true
        let windowed = ["mistral", "phi3", "gemma2", "gemma3_text"].contains(architecture)
        let config = ModelConfig(architecture: architecture, vocab: tok.vocabSize, dim: 16, layers: 2, heads: 2, kvHeads: grouped ? 1 : 2,
                                 ffn: 32, context: 64, rotaryDim: architecture == "gpt_neox" ? 4 : nil,
                                 slidingWindow: windowed ? 8 : nil,
                                 attentionSoftcap: architecture == "gemma2" ? 50 : nil, finalSoftcap: architecture == "gemma2" ? 30 : nil)
        return try LanguageModel.random(config, seed: 1, tokenizer: tok)
    }
}
