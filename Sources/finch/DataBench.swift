import FinchData
import FinchIO
import FinchModel
import FinchText
import Foundation

/// data: loading a generated 100 MB JSONL file of question/answer rows, and tokenising
/// rows through the question/answer template with SmolLM2's tokenizer.
enum DataBench {
    static func run(_ out: BenchReporter, _ options: BenchOptions) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("finch-bench-\(getpid()).jsonl").path
        defer { unlink(path) }
        let bytes = try writeRows(to: path, megabytes: 100)
        out.report("data.jsonl_mb", Double(bytes) / 1e6, digits: 1)
        var rows = 0
        let load = try BenchTiming.interleaved([{ rows = try Dataset.load(path).count }], seconds: options.seconds, minRounds: 3)[0]
        out.report("data.jsonl_rows", Double(rows), digits: 0)
        out.report("data.jsonl_load_mbps", Double(bytes) / load / 1e6, digits: 1)

        // Tokenising: the finch_docs data set when it is there, else the first 5000 generated rows.
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Notebooks/data/finch_docs.jsonl").path
        let data = FileManager.default.fileExists(atPath: docs) ? try Dataset.load(docs) : try Dataset.load(path).take(5000)
        let tok = try Tokenizer(gguf: GGUFFile(path: try ModelStore.resolve("smollm2-135m")))
        let tokenize = try BenchTiming.interleaved([{ _ = try data.tokenized(tok) }], seconds: options.seconds, minRounds: 3)[0]
        out.report("data.tokenize_rows", Double(data.count), digits: 0)
        out.report("data.tokenize_rows_per_s", Double(data.count) / tokenize, digits: 0)
    }

    /// Question/answer rows of varied English (with escapes and non-ASCII), written once.
    static func writeRows(to path: String, megabytes: Int) throws -> Int {
        let words = ["finetuning", "model", "loss", "the", "a", "gradient", "token", "LoRA", "adapter", "learning", "rate", "batch",
                     "padding", "truncation", "dataset", "évaluation", "naïve", "\"quoted\"", "tab\there", "line\nbreak", "über", "42", "3.14"]
        var rng = SplitMix64(seed: 7)
        var text = ""
        text.reserveCapacity(megabytes << 20)
        var n = 0
        while text.utf8.count < megabytes << 20 {
            func sentence(_ count: Int) -> String { (0..<count).map { _ in words[Int(rng.next() % UInt64(words.count))] }.joined(separator: " ") }
            var line = ""
            JSONString.quote(sentence(8 + Int(rng.next() % 12)), to: &line)
            var answer = ""
            JSONString.quote(sentence(20 + Int(rng.next() % 60)), to: &answer)
            text += "{\"id\": \(n), \"question\": \(line), \"answer\": \(answer)}\n"
            n += 1
        }
        try AtomicFile.write(text, to: path)
        return text.utf8.count
    }
}
