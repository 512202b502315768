import FinchData
import FinchModel
import Foundation

/// A model the server answers for, under the name requests give as `model`.
public final class ServedModel: @unchecked Sendable {
    public let name: String
    public let model: LanguageModel
    /// Decoding weights for this model's requests (Q8_0 copies unless asked otherwise).
    public let decodeWeights: WeightFormat
    let created = Int(Date().timeIntervalSince1970)

    public init(name: String, model: LanguageModel, decodeWeights: WeightFormat = .q8_0) throws {
        guard !name.isEmpty else { throw ModelError("a served model needs a name") }
        guard model.tokenizer != nil else { throw ModelError("\(name): this model has no tokenizer, so it cannot be served over text") }
        self.name = name
        self.model = model
        self.decodeWeights = decodeWeights
    }

    var listing: DataValue {
        object(["id": .string(name), "object": .string("model"), "created": number(created), "owned_by": .string("finch")])
    }

    /// The text of one token, as OpenAI's logprobs show it (invalid UTF-8 replaced).
    func tokenText(_ id: Int) -> String {
        String(decoding: model.tokenizer!.decodeBytes([id]), as: UTF8.self)
    }
}

extension ServedModel {
    /// The name a model is served under when none is given: its file or folder name without
    /// the extension ("smollm2-135m" for Finch's own name of the SmolLM2 download).
    public static func defaultName(for source: String) -> String {
        let last = URL(fileURLWithPath: source).lastPathComponent
        let name = last.hasSuffix(".gguf") ? String(last.dropLast(5)) : last
        return name.isEmpty || source == "random" ? "finch" : name
    }

    /// The base model and one more copy per adapter (`name=path`: a PEFT folder or a GGUF adapter
    /// file, as m.save_adapter writes them), each served under its own name.
    public static func load(model: String, name: String?, adapters: [String], decodeWeights: WeightFormat) throws -> [ServedModel] {
        let path = try ModelStore.resolve(model)
        let base = try LanguageModel.load(path)
        var served = [try ServedModel(name: name ?? defaultName(for: model), model: base, decodeWeights: decodeWeights)]
        for spec in adapters {
            let parts = spec.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw ModelError("--adapter takes name=path (a folder or .gguf file m.save_adapter wrote), got \(spec)")
            }
            let copy = try LanguageModel.load(path)
            do { try copy.loadAdapter(path: parts[1]) } catch let e as ModelError {
                throw ModelError("adapter \(parts[0]): \(e.description)")
            }
            served.append(try ServedModel(name: parts[0], model: copy, decodeWeights: decodeWeights))
        }
        return served
    }
}
