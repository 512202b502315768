import FinchIO
import FinchTensor
import Foundation

extension LanguageModel {
    /// Writes the adapters in PEFT's layout: adapter_config.json and adapter_model.safetensors in `directory`.
    public func saveAdapter(directory: String) throws {
        let adapters = loraParameters
        guard !adapters.isEmpty else { throw ModelError("this model has no LoRA adapters to save (add them with addLoRA)") }
        var rank = 0, alpha: Float = 0, targets: [String] = []
        for block in blocks.prefix(1) {
            for (name, layer) in block.namedLinears {
                guard let lora = layer.lora else { continue }
                rank = lora.rank; alpha = lora.alpha
                targets.append(String(TransformerBlock.moduleName[name]!.split(separator: ".").last!))
            }
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try SafetensorsFile.write(path: directory + "/adapter_model.safetensors", tensors: adapters)
        let config: [String: Any] = ["peft_type": "LORA", "task_type": "CAUSAL_LM", "r": rank, "lora_alpha": Double(alpha),
                                     "lora_dropout": 0.0, "bias": "none", "target_modules": targets, "fan_in_fan_out": false,
                                     "inference_mode": true, "base_model_name_or_path": source]
        try AtomicFile.write(try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys, .prettyPrinted]),
                             to: directory + "/adapter_config.json")
    }

    /// Reads adapters in PEFT's layout and puts them on this model (replacing any it has).
    public func loadAdapter(directory: String) throws {
        let configPath = directory + "/adapter_config.json"
        guard let data = FileManager.default.contents(atPath: configPath),
              let config = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw ModelError("\(configPath): missing or not a JSON object")
        }
        guard (config["peft_type"] as? String) == "LORA" else { throw ModelError("\(configPath): peft_type is not LORA") }
        guard let rank = (config["r"] as? NSNumber)?.intValue, let alpha = (config["lora_alpha"] as? NSNumber)?.floatValue,
              let modules = config["target_modules"] as? [String] else {
            throw ModelError("\(configPath): needs r, lora_alpha and target_modules")
        }
        let short = try modules.map { module -> String in
            guard let s = TransformerBlock.moduleName.first(where: { $0.value.hasSuffix(module) })?.key else {
                throw ModelError("\(configPath): target module \(module) is not a projection of a llama block")
            }
            return s
        }
        try addLoRA(rank: rank, alpha: alpha, targets: short)
        let file = try SafetensorsFile(path: directory + "/adapter_model.safetensors")
        for (name, tensor) in loraParameters {
            // PEFT sometimes writes the names without the adapter name, sometimes with ".default".
            let entry = file.entries.first { $0.name == name || $0.name == name.replacingOccurrences(of: ".weight", with: ".default.weight") }
            guard let entry else { throw ModelError("\(directory): the adapter file has no \(name)") }
            guard entry.shape == tensor.shape else {
                throw ModelError("\(directory): \(name) has shape \(entry.shape), this model needs \(tensor.shape)")
            }
            try tensor.assign(file.tensor(entry))
        }
    }
}
