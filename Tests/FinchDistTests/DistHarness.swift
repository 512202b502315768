import FinchIO
import FinchModel
import Foundation
import Testing

/// What the data-parallel tests share: the finch binary, a scratch folder, a small training
/// script run alone or as ranks, and readers for what the runs leave behind.
enum DistHarness {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let finch = repository.appendingPathComponent(".build/release/finch").path

    /// A new empty folder under the system's temporary directory.
    static func scratch() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("finch-dist-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// A training script on a small model: question/answer rows of different lengths (so ranks'
    /// batches are padded differently), a byte-level BPE tokenizer trained on them, AdamW.
    /// `prelude` runs first (to make ranks differ on purpose); `train` adds train()'s arguments.
    static func script(lora: Bool, batch: Int, steps: Int, out: String, train extra: String = "", prelude: String = "") -> String {
        """
        \(prelude)
        rows = []
        for i in range(48) {
            rows.push({"question": "what comes after ${i}?" + " and then" * (i % 5), "answer": "${i + 1}, then ${i + 2}" + " more" * (i % 3)})
        }
        tok = bpe_train(rows.map(fn(r) { r["question"] + " " + r["answer"] }), vocab: 300, special: ["<|end|>"])
        m = model(vocab: tok.vocab_size, dim: 32, layers: 2, heads: 4, context: 64, tokenizer: tok, seed: 7)
        \(lora ? "m.lora(rank: 4, alpha: 8, targets: [\"q\", \"v\", \"down\"])" : "")
        data = dataset(rows)
        run = train(m, data, lr: 3e-3, steps: \(steps), batch: \(batch), seed: 5, save_dir: "\(out)/ckpt", log: "\(out)/log.csv"\(extra))
        print("world", world()["size"], "loss", run.loss)
        """
    }

    /// Runs `finch run` on `text` (as `np` ranks through `--np` when given); status and output.
    static func run(_ text: String, in dir: String, np: Int? = nil, name: String = "train.finch") throws -> (status: Int32, text: String) {
        let path = dir + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return try Spawn.output(finch, ["run"] + (np.map { ["--np", String($0)] } ?? []) + [path])
    }

    /// The history a checkpoint holds (step, loss) and its trained tensors by name.
    static func checkpoint(_ dir: String) throws -> (losses: [Float], tensors: [String: [Float]]) {
        let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/trainer.json"))
        let state = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let history = try #require(state["history"] as? [[String: Any]])
        let losses = history.map { Float(($0["loss"] as? NSNumber)?.doubleValue ?? .nan) }
        let file = try SafetensorsFile(path: dir + "/weights.safetensors")
        var tensors: [String: [Float]] = [:]
        for e in file.entries { tensors[e.name] = try file.tensor(e).scalars }
        return (losses, tensors)
    }

    /// The largest difference between two runs' losses and between their weights.
    static func difference(_ a: (losses: [Float], tensors: [String: [Float]]), _ b: (losses: [Float], tensors: [String: [Float]])) -> (loss: Float, weight: Float) {
        guard a.losses.count == b.losses.count, a.tensors.keys.sorted() == b.tensors.keys.sorted() else { return (.infinity, .infinity) }
        let loss = zip(a.losses, b.losses).map { abs($0 - $1) }.max() ?? 0
        var weight: Float = 0
        for (name, x) in a.tensors {
            guard let y = b.tensors[name], y.count == x.count else { return (loss, .infinity) }
            for i in x.indices { weight = max(weight, abs(x[i] - y[i])) }
        }
        return (loss, weight)
    }
}
