import FinchIO
import FinchModel
import FinchTensor
import Foundation

/// What a checkpoint's trainer.json holds: everything but the tensors.
struct CheckpointState: Codable {
    var version = 1
    var step: Int
    var pass: Int
    var cursor: Int
    var seed: UInt64
    var optimizer: String
    var lora: Bool
    var badInARow: Int
    var evalsWithoutImprovement: Int
    var best: BestRecord?
    var history: [StepRecord]
    /// LoRA dropout's generator.
    var dropoutRNG: [UInt64]?
    /// Names of the trained tensors, in the optimiser's order.
    var tensors: [String]
}

/// A checkpoint directory: trainer.json (step, data cursor, history, ...), weights.safetensors
/// (every tensor that trains, by name) and optimizer.safetensors (the optimiser's state). With
/// LoRA it is also a PEFT adapter (adapter_config.json + adapter_model.safetensors).
/// The directory is written beside its final name and renamed into place: a crash leaves the
/// previous checkpoint whole.
enum Checkpoint {
    static let stateFile = "trainer.json", weightsFile = "weights.safetensors", optimizerFile = "optimizer.safetensors"

    static func write(_ trainer: Trainer, to directory: String) throws {
        let fm = FileManager.default
        let parent = URL(fileURLWithPath: directory).deletingLastPathComponent().path
        try AtomicFile.makeDirectory(parent)
        let temp = parent + "/." + URL(fileURLWithPath: directory).lastPathComponent + ".tmp-\(getpid())"
        try? fm.removeItem(atPath: temp)
        try fm.createDirectory(atPath: temp, withIntermediateDirectories: false)
        do {
            let named = trainer.namedTrainables
            try SafetensorsFile.write(path: temp + "/" + weightsFile, tensors: named, metadata: ["format": "pt", "finch": "checkpoint"])
            let state = trainer.optimizer.state().sorted { $0.key < $1.key }
            try SafetensorsFile.write(path: temp + "/" + optimizerFile,
                                      tensors: try state.map { ($0.key, try Tensor($0.value, shape: [$0.value.count])) })
            if !trainer.model.loraParameters.isEmpty { try trainer.model.saveAdapter(directory: temp) }
            let json = try JSONEncoder.sorted.encode(trainer.checkpointState(names: named.map(\.name)))
            try AtomicFile.write(json, to: temp + "/" + stateFile)
            // Replace any older directory of that name only once the new one is complete.
            let old = temp + ".old"
            if fm.fileExists(atPath: directory) { try fm.moveItem(atPath: directory, toPath: old) }
            guard rename(temp, directory) == 0 else { throw ModelError("cannot write \(directory): \(String(cString: strerror(errno)))") }
            try? fm.removeItem(atPath: old)
        } catch {
            try? fm.removeItem(atPath: temp)
            throw error
        }
    }

    /// The checkpoint a path names: a checkpoint directory itself, or a save_dir (its latest checkpoint).
    static func locate(_ path: String) throws -> String {
        let fm = FileManager.default
        if fm.fileExists(atPath: path + "/" + stateFile) { return path }
        guard let names = try? fm.contentsOfDirectory(atPath: path) else {
            throw ModelError("\(path): no checkpoint there (neither a checkpoint directory nor a save_dir)")
        }
        let steps = names.compactMap { n -> Int? in n.hasPrefix("checkpoint-") ? Int(n.dropFirst("checkpoint-".count)) : nil }
        guard let last = steps.max() else { throw ModelError("\(path): holds no checkpoint-N directory to resume from") }
        return path + "/checkpoint-\(last)"
    }

    static func readState(_ directory: String) throws -> CheckpointState {
        let path = directory + "/" + stateFile
        guard let data = FileManager.default.contents(atPath: path) else { throw ModelError("\(path): cannot read it") }
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        do { return try decoder.decode(CheckpointState.self, from: data) } catch {
            throw ModelError("\(path): not a Finch checkpoint (\(error.localizedDescription))")
        }
    }
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return e
    }
}
