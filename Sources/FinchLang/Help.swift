import Foundation

/// The text of help(): signatures and docs from the registry.
public enum Help {
    /// Help for a value; `finchFunctions` are the functions written in Finch to list under help().
    public static func text(for value: Value, registry: Registry, finchFunctions: [String] = []) -> String {
        switch value {
        case .nil:
            var out = "Finch help. help(name) shows one function or type; :help name does the same in the REPL.\n"
            for section in registry.sections {
                out += "\n\(section.title): " + section.names.joined(separator: ", ")
            }
            if !finchFunctions.isEmpty { out += "\nPrelude (written in Finch): " + finchFunctions.joined(separator: ", ") }
            if !registry.typeOrder.isEmpty { out += "\n\nTypes: " + registry.typeOrder.joined(separator: ", ") }
            return out
        case .native(let f): return function(f)
        case .function(let c):
            let params = zip(c.decl.params, c.decl.defaults).map { $1 == nil ? $0 : "\($0): …" }
            var out = "fn \(c.decl.name)(\(params.joined(separator: ", ")))"
            if let doc = docComment(c.decl), !doc.isEmpty { out += "\n    " + doc }
            return out + "\n  defined in \(c.decl.source?.name ?? "?"):\(c.decl.line)"
        case .object(let o): return type(o.type)
        case .string(let name):
            if let f = registry.functions[name] { return function(f) }
            if let t = registry.types[name] { return type(t) }
            for t in registry.types.values { if let m = t.methods[name] { return "\(t.name).\(function(m))" } }
            var message = "no help for '\(name)'"
            if let guess = closestMatch(name, in: registry.order + registry.typeOrder) { message += "; did you mean '\(guess)'?" }
            return message
        default:
            if let t = registry.types[value.typeName] { return type(t) }
            return "\(value.typeName): \(value.repr)"
        }
    }

    /// The `#` comment lines right above a function declared with `fn`.
    static func docComment(_ decl: FunctionDecl) -> String? {
        guard let source = decl.source else { return nil }
        var lines: [String] = []
        var n = Int(decl.line) - 1
        while n >= source.firstLine {
            let text = source.line(n).trimmingCharacters(in: .whitespaces)
            guard text.hasPrefix("#") else { break }
            lines.insert(String(text.dropFirst()).trimmingCharacters(in: .whitespaces), at: 0)
            n -= 1
        }
        return lines.joined(separator: "\n    ")
    }

    static func function(_ f: NativeFunction) -> String {
        var out = f.signature + "\n    " + f.doc
        for p in f.params where !p.doc.isEmpty { out += "\n    \(p.name): \(p.doc)" }
        if !f.example.isEmpty { out += "\n  example: " + f.example }
        return out
    }

    static func type(_ t: NativeType) -> String {
        var out = "\(t.name): \(t.doc)"
        if !t.properties.isEmpty {
            out += "\n  attributes: " + t.properties.keys.sorted().joined(separator: ", ")
        }
        if !t.methods.isEmpty {
            out += "\n  methods: " + t.methods.keys.sorted().joined(separator: ", ")
        }
        return out
    }
}
