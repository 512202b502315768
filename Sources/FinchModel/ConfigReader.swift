import Foundation

/// The settings of a config.json or of a GGUF file's `{arch}.*` metadata, read by key with errors
/// that name the file and the key. A family's file reads its own keys through it.
public struct ConfigReader {
    /// The file, for messages.
    public let source: String
    private let lookup: (String) -> Any?
    /// GGUF only: the names of the file's tensors (whether an output head or biases are present).
    public let tensorNames: Set<String>

    /// A config.json's object.
    public init(json: [String: Any], source: String) {
        self.source = source
        self.lookup = { json[$0] is NSNull ? nil : json[$0] }
        self.tensorNames = []
    }

    /// A GGUF file's metadata; keys are read after "`arch`." (but "general." and Finch's own "finch."
    /// keys as they are), then in `fallback` (what the file shows otherwise).
    public init(gguf file: GGUFFile, arch: String, fallback: [String: Any] = [:]) {
        self.source = file.path
        self.lookup = { key in
            guard let v = file.metadata[key.hasPrefix("general.") || key.hasPrefix("finch.") ? key : "\(arch).\(key)"] else { return fallback[key] }
            return v.int ?? v.double ?? v.bool ?? v.string ?? v.array.map { $0.map { $0.double ?? 0 } }
        }
        self.tensorNames = Set(file.tensors.map(\.name))
    }

    /// The raw value of the first key present.
    public func value(_ keys: String...) -> Any? { first(keys) }

    private func first(_ keys: [String]) -> Any? {
        for k in keys { if let v = lookup(k) { return v } }
        return nil
    }

    /// A whole number; the first key that is present counts. Missing is an error naming the keys.
    public func int(_ keys: String...) throws -> Int {
        guard let v = first(keys) else { throw ModelError("\(source): no \(keys.joined(separator: " or ")) in the configuration") }
        guard let n = Self.integer(v) else { throw ModelError("\(source): \(keys[0]) is \(v), not a whole number") }
        return n
    }

    public func optionalInt(_ keys: String...) throws -> Int? {
        guard let v = first(keys) else { return nil }
        guard let n = Self.integer(v) else { throw ModelError("\(source): \(keys[0]) is \(v), not a whole number") }
        return n
    }

    public func double(_ keys: String...) throws -> Double? {
        guard let v = first(keys) else { return nil }
        if let n = v as? NSNumber { return n.doubleValue }
        if let n = v as? Int { return Double(n) }
        if let d = v as? Double { return d }
        throw ModelError("\(source): \(keys[0]) is \(v), not a number")
    }

    public func bool(_ keys: String...) throws -> Bool? {
        guard let v = first(keys) else { return nil }
        if let b = v as? Bool { return b }
        throw ModelError("\(source): \(keys[0]) is \(v), not true or false")
    }

    public func string(_ keys: String...) -> String? { first(keys) as? String }

    private static func integer(_ v: Any) -> Int? {
        if let n = v as? Int { return n }
        if let n = v as? NSNumber {
            let d = n.doubleValue
            return d == d.rounded() && Swift.abs(d) < 1e15 ? Int(d) : nil
        }
        if let d = v as? Double, d == d.rounded(), Swift.abs(d) < 1e15 { return Int(d) }
        return nil
    }
}
