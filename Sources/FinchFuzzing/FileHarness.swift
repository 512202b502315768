import FinchData
import FinchModel
import FinchNotebook
import FinchTensor
import FinchText
import Foundation

/// The file readers under fuzzing: each reads bytes as if a user had named a file holding them.
enum FileHarness {
    /// A model file is read in full: metadata, tensor table, configuration, every tensor
    /// dequantised, the tokenizer, and one forward pass of a short prompt.
    static func gguf(_ data: Data) {
        guard let file = try? GGUFFile(data: data, path: "fuzz.gguf") else { return }
        if let tok = try? Tokenizer(gguf: file) { _ = tok.decode(tok.encode("Hi, 12 x")) }
        guard let model = try? LanguageModel(gguf: file) else { return }
        if let ids = try? Tensor([0], shape: [1, 1]) { _ = try? model.forward(ids) }
    }

    /// A config.json: parsed, then read by its family; a configuration that validates is also
    /// summarised (its parameter count and config.json written back), never built.
    static func config(_ data: Data) {
        guard let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              let config = try? ModelConfig(huggingFace: json, source: "fuzz/config.json") else { return }
        _ = config.parameterCount
        _ = try? JSONSerialization.data(withJSONObject: config.huggingFaceJSON(bos: 1, eos: 2))
    }

    static func safetensors(_ data: Data) {
        guard let file = try? SafetensorsFile(data: data, path: "fuzz.safetensors") else { return }
        for e in file.entries { _ = try? file.tensor(e) }
    }

    static func tokenizerJSON(_ data: Data) {
        guard let tok = try? Tokenizer(json: data, path: "fuzz/tokenizer.json") else { return }
        let ids = tok.encode("Hello world, 123 ünïcode <|im_start|>", addSpecial: true)
        _ = tok.decode(ids + [-1, tok.vocabSize, Int.max])
        _ = tok.pieces(ids: ids)
    }

    static func dataset(_ data: Data, _ format: DataFormat) {
        for onError in [OnError.raise, .skip] {
            guard let ds = try? Dataset.load(data: data, path: "fuzz.\(format.rawValue)", format: format, onError: onError) else { continue }
            _ = ds.count
        }
    }

    /// A notebook parses or names its line; one that parses writes back byte for byte.
    static func notebook(_ data: Data) throws {
        let text = String(decoding: data, as: UTF8.self)
        guard let nb = try? Notebook(parsing: text, path: "fuzz.md") else { return }
        let back = nb.text(replacingOutputs: [:])
        guard back == text else {
            throw FuzzFailure("the notebook did not write back unchanged (\(text.utf8.count) bytes in, \(back.utf8.count) out)")
        }
    }
}
