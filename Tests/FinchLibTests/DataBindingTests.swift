import FinchLang
import FinchLib
import Foundation
import Testing

/// Datasets from the language: loading with errors and skips, indexing, operations, templates.
@Suite struct DataBindingTests {
    @Test func loadIndexTransformAndFormat() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("finch-lib-data-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try """
        {"question": "What is Finch?", "answer": "A finetuning lab."}
        {"question": "What is LoRA?", "answer": "Low-rank adapters."}
        {"question": broken}
        {"question": "What is Mars?", "answer": "Let's keep the discussion relevant to Finch."}

        """.write(toFile: dir + "/qa.jsonl", atomically: true, encoding: .utf8)
        let (out, interpreter) = try runFinch("""
        ds = load_dataset("\(dir)/qa.jsonl", on_error: "skip")
        print(ds)
        print(len(ds), ds.kind, ds.skipped, ds[-1].answer, len(ds[1:]))
        print(ds["question"][0])
        print(ds.format(1).prompt + ds.format(1).completion)
        print(ds.format(0, template: ["Q: {question}\\nA:", " {answer}"]).prompt)
        parts = ds.split(test: 0.34, seed: 123)
        print(len(parts.train), len(parts.test))
        print(len(ds.filter(fn(r) { r.answer.contains("Finch") })))
        print(ds.map(fn(r) { {question: r.question, answer: r.answer.upper()} })[0].answer)
        print(len(ds.concat(ds).dedupe()), len(ds.concat(ds).dedupe(by: ["answer"])))
        ds.select(["answer"]).to_jsonl("\(dir)/answers.jsonl")
        print(load_dataset("\(dir)/answers.jsonl").columns)
        print(dataset([{instruction: "Add", input: "2 and 3", output: "5"}]).kind)
        """)
        #expect(out == """
        load_dataset: skipped 1 line that could not be read (line 3)
        <Dataset qa.jsonl: 3 rows, question_answer, columns question, answer>
        3 question_answer 1 Let's keep the discussion relevant to Finch. 2
        What is Finch?
        ### Question:
        What is LoRA?

        ### Answer: Low-rank adapters.
        Q: What is Finch?
        A:
        2 1
        1
        A FINETUNING LAB.
        3 3
        ["answer"]
        instruction

        """)
        func error(_ code: String) -> String {
            do { _ = try interpreter.run(code); return "no error" } catch { return "\(error)" }
        }
        #expect(error("load_dataset(\"\(dir)/qa.jsonl\")").contains("qa.jsonl:3:14: expected a value, found 'b': {\"question\": broken}"))
        #expect(error("ds.format(0, template: \"{nope}\")").contains("qa.jsonl row 0: the template names {nope}, but the row has only question, answer"))
        #expect(error("ds[\"nope\"]").contains("has no column \"nope\""))
        #expect(error("ds[9]").contains("row 9 is out of range for 3 rows"))
        #expect(error("load_dataset(\"\(dir)/qa.jsonl\", format: \"xml\")").contains("format must be one of jsonl, json, csv, text"))
        #expect(error("dataset([1])").contains("row 0 must be a dict"))
    }

    @Test func tokenizePreviewBatchPackAndStats() throws {
        let out = try runFinch("""
        tok = tokenizer("smollm2-135m")
        ds = dataset([{question: "What is Finch?", answer: "A finetuning lab."}, {question: "Hi?", answer: "Hello."}])
        data = ds.tokenize(tok)
        print(data)
        print(data.preview(1, color: false) == ds.preview(1, tok, color: false))
        print(data.preview(1, color: false))
        b = data.batch(0, 2)
        print(b.input_ids.shape, b.attention_mask.tolist()[1][-1], b.labels.tolist()[1][-1])
        # 21 and 14 tokens: the question's prompt is 14 (7 of them trained), the greeting's 11 (3 trained).
        print(ds.tokenize(tok, max_length: 8).truncated, ds.tokenize(tok, mask_prompt: false)[1].labels == data[1].input_ids)
        print(ds.stats(tok, max_length: 12).tokens)
        print(len(data.pack(8)))
        """).output
        #expect(out == """
        <TokenizedDataset dataset: 2 examples, 35 tokens, 10 trained>
        true
        ### Question:↵
        Hi?↵
        ↵
        ### Answer:[ Hello][.][<|im_end|>]
        [2, 21] 0 -100
        2 true
        {"min": 14, "median": 17.5, "mean": 17.5, "p95": 20.65, "max": 21}
        pack: the last 3 tokens did not fill a sequence of 8 and were left out
        4

        """)
    }
}
