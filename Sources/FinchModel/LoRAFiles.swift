import FinchIO
import FinchTensor
import Foundation

extension LanguageModel {
    /// Writes the adapters in PEFT's layout: adapter_config.json and adapter_model.safetensors in `directory`.
    public func saveAdapter(directory: String) throws {
        let adapters = loraParameters
        guard !adapters.isEmpty else { throw ModelError("this model has no LoRA adapters to save (add them with addLoRA)") }
        var rank = 0, alpha: Float = 0, targets: [String] = []
        let wrapped = blocks.first?.linears.filter { $0.layer.lora != nil } ?? []
        for (name, layer) in wrapped {
            rank = layer.lora!.rank; alpha = layer.lora!.alpha
            // PEFT matches target_modules by the module name's last part, or by a longer suffix;
            // where the last part also names a projection without an adapter (GPT-2's c_proj names
            // two), the path says which.
            let module = family.module(name)!, leaf = String(module.split(separator: ".").last!)
            let target = loraTargets(leaf).allSatisfy { short in wrapped.contains { $0.name == short } } ? leaf : module
            if !targets.contains(target) { targets.append(target) }
        }
        // Conv1D layers (GPT-2) hold their weights [in, out]; PEFT must know to transpose when merging.
        let conv1D = specs.contains { $0.hfLayout == .transposed }
        try AtomicFile.makeDirectory(directory)
        try SafetensorsFile.write(path: directory + "/adapter_model.safetensors", tensors: adapters)
        let config: [String: Any] = ["peft_type": "LORA", "task_type": "CAUSAL_LM", "r": rank, "lora_alpha": Double(alpha),
                                     "lora_dropout": 0.0, "bias": "none", "target_modules": targets, "fan_in_fan_out": conv1D,
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
              let modules = config["target_modules"] as? [String] ?? (config["target_modules"] as? String).map({ [$0] }) else {
            throw ModelError("\(configPath): needs r, lora_alpha and target_modules")
        }
        if config["use_rslora"] as? Bool == true || config["use_dora"] as? Bool == true {
            throw ModelError("\(configPath): rsLoRA and DoRA adapters are not supported (use_rslora and use_dora must be false)")
        }
        for key in ["rank_pattern", "alpha_pattern"] where !((config[key] as? [String: Any])?.isEmpty ?? true) {
            throw ModelError("\(configPath): \(key) gives some modules their own rank or alpha, which Finch does not support")
        }
        let short = modules == ["all-linear"] ? family.linears.map(\.short) : modules
        for module in short where loraTargets(module).isEmpty {
            throw ModelError("\(configPath): target module \(module) is not a projection of a \(family.name) block (they are \(family.linears.map(\.module).joined(separator: ", ")))")
        }
        try replacingAdapters {
            try addLoRA(rank: rank, alpha: alpha, targets: short)
            try assignAdapters(from: directory)
        }
    }

    private func assignAdapters(from directory: String) throws {
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
