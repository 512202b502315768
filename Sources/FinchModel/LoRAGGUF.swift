import FinchTensor
import Foundation

/// LoRA adapters as GGUF files in llama.cpp's layout (what its convert_lora_to_gguf.py writes and
/// `llama-cli --lora` reads): `general.type` "adapter", `adapter.type` "lora", `adapter.lora.alpha`,
/// and for each adapted weight `W` of the base file two tensors, `W.lora_a` [r, in] and
/// `W.lora_b` [out, r]. llama.cpp adds (alpha / r) · B A x, as PEFT does. Where the base GGUF
/// reorders a weight's rows (llama's rotary pairs, GPT-NeoX's stacked qkv), B's rows are
/// reordered the same way: A acts on the inputs, which no layout moves.
extension LanguageModel {
    /// Every adapted projection: its weight's spec and its adapter.
    private var adaptedWeights: [(spec: TensorSpec, lora: LoRA)] {
        adapters.map { l, short, _, lora in
            let name = "\(family.blockPrefix)\(l).\(family.module(short)!).weight"
            return (specs.first { $0.name == name }!, lora)
        }
    }

    /// Writes the adapters as a GGUF adapter file for llama.cpp (F32 tensors; they are small).
    public func saveAdapterGGUF(path: String) throws {
        let adapted = adaptedWeights
        guard let first = adapted.first else { throw ModelError("this model has no LoRA adapters to save (add them with addLoRA)") }
        let meta: [(String, GGUFValue)] = [
            ("general.architecture", .string(family.ggufName)), ("general.type", .string("adapter")),
            ("general.name", .string(URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent)),
            ("adapter.type", .string("lora")), ("adapter.lora.alpha", .float(Double(first.lora.alpha))),
        ]
        let entries = try adapted.flatMap { spec, lora in
            [GGUFWriter.Entry(name: spec.gguf + ".lora_a", tensor: lora.a, type: .f32),
             GGUFWriter.Entry(name: spec.gguf + ".lora_b", tensor: try spec.ggufLayout.toFile(lora.b), type: .f32)]
        }
        try GGUFWriter.write(path: path, metadata: meta, tensors: entries)
    }

    /// Reads a GGUF adapter file (Finch's or llama.cpp's) onto this model, replacing any adapters it has.
    public func loadAdapterGGUF(path: String) throws {
        let file = try GGUFFile(path: path)
        func fail(_ message: String) -> ModelError { ModelError("\(path): \(message)") }
        guard file.metadata["general.type"]?.string == "adapter" else {
            throw fail("not a GGUF adapter (general.type is \(file.metadata["general.type"]?.string.map { "\"\($0)\"" } ?? "missing"), not \"adapter\"); a whole model loads with load_model")
        }
        guard file.metadata["adapter.type"]?.string == "lora" else {
            throw fail("adapter.type is \(file.metadata["adapter.type"]?.string ?? "missing"); Finch reads LoRA adapters")
        }
        let arch = file.metadata["general.architecture"]?.string ?? "missing"
        guard arch == family.ggufName else { throw fail("the adapter is for \(arch) models, this model is \(family.ggufName)") }
        if file.metadata["adapter.alora_invocation_tokens"] != nil { throw fail("activated LoRA (aLoRA) adapters are not supported") }

        // Pair each base weight with its two tensors, and find the projections they adapt.
        var pairs: [String: (a: GGUFTensorInfo?, b: GGUFTensorInfo?)] = [:]
        for info in file.tensors {
            if info.name.hasSuffix(".lora_a") { pairs[String(info.name.dropLast(7)), default: (nil, nil)].a = info }
            else if info.name.hasSuffix(".lora_b") { pairs[String(info.name.dropLast(7)), default: (nil, nil)].b = info }
            else { throw fail("tensor \(info.name) is neither a .lora_a nor a .lora_b") }
        }
        guard !pairs.isEmpty else { throw fail("the adapter has no tensors") }
        var shorts: Set<String> = [], ranks: Set<Int> = []
        let byGGUF = Dictionary(specs.map { ($0.gguf, $0) }, uniquingKeysWith: { a, _ in a })
        for (weight, pair) in pairs.sorted(by: { $0.key < $1.key }) {
            guard let a = pair.a, let b = pair.b else { throw fail("\(weight) has a \(pair.a == nil ? "lora_b" : "lora_a") but no \(pair.a == nil ? "lora_a" : "lora_b")") }
            guard let spec = byGGUF[weight], let short = family.projection(ofWeight: spec.name) else {
                throw fail("\(weight) is not a projection of this \(family.name) model (they are named like \(specs.first { family.projection(ofWeight: $0.name) != nil }?.gguf ?? "?"))")
            }
            let out = spec.shape[0], inputs = spec.shape[1], rank = a.dimensions.last ?? 0
            guard a.dimensions.count == 2, b.dimensions.count == 2, a.dimensions == [inputs, rank], b.dimensions == [rank, out] else {
                throw fail("\(weight): lora_a is \(Array(a.dimensions.reversed())) and lora_b \(Array(b.dimensions.reversed())); this model needs [r, \(inputs)] and [\(out), r]")
            }
            shorts.insert(short)
            ranks.insert(rank)
        }
        guard ranks.count == 1, let rank = ranks.first, rank > 0 else { throw fail("the adapters have ranks \(ranks.sorted()); Finch gives every projection the same rank") }
        // llama.cpp takes a missing or zero alpha as a scale of 1, which is alpha = r.
        let alpha = file.metadata["adapter.lora.alpha"]?.double.map(Float.init).flatMap { $0 == 0 ? nil : $0 } ?? Float(rank)
        guard pairs.count == blocks.count * shorts.count else {
            throw fail("the adapter adapts \(pairs.count) weights, not every block's \(shorts.sorted().joined(separator: ", ")); Finch adapts the same projections in every block")
        }
        try replacingAdapters {
            try addLoRA(rank: rank, alpha: alpha, targets: family.linears.map(\.short).filter(shorts.contains))
            for (spec, lora) in adaptedWeights {
                try lora.a.assign(file.tensor(named: spec.gguf + ".lora_a"))
                try lora.b.assign(spec.ggufLayout.fromFile(file.tensor(named: spec.gguf + ".lora_b")))
            }
        }
    }

    /// Writes the adapters: a `.gguf` path as llama.cpp's adapter file, any other as a PEFT folder.
    public func saveAdapter(path: String) throws {
        path.lowercased().hasSuffix(".gguf") ? try saveAdapterGGUF(path: path) : try saveAdapter(directory: path)
    }

    /// Reads adapters from a GGUF adapter file or a PEFT folder, whichever `path` is.
    public func loadAdapter(path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
            try loadAdapterGGUF(path: path)
        } else {
            try loadAdapter(directory: path)
        }
    }
}
