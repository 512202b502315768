import FinchLang
import FinchLib

/// libFuzzer's dictionary for Finch programs: the language's keywords and symbols, every native
/// function, method, property and argument name, and fragments that open deeper code
/// (calls with named arguments, string interpolation). Mutations splice these whole, so the
/// fuzzer writes programs that parse instead of token soup.
public enum FuzzDictionary {
    public static func finch() -> String {
        let registry = FinchLibrary.makeRegistry()
        var words: [String] = FinchSyntax.keywords.map { $0 + " " } + FinchSyntax.symbols
        words += ["\"${", "}\"", "fn(x) { ", " }", "[1, 2, 3]", "{\"a\": 1}", "1e400", "-1e19", "0 / 0", "2 ** 70", "[[1, 2], [3, 4]]"]
        for name in registry.order {
            guard let f = registry.functions[name] else { continue }
            words.append(name + "(")
            words += f.params.map { $0.name + ": " }
        }
        for typeName in registry.typeOrder {
            guard let t = registry.types[typeName] else { continue }
            // Sorted: the short check's fixed seed gives the same mutations only with the words in one order.
            for name in t.methods.keys.sorted() {
                words.append("." + name + "(")
                words += t.methods[name]!.params.dropFirst().map { $0.name + ": " }
            }
            words += t.properties.keys.sorted().map { "." + $0 }
        }
        var seen = Set<String>()
        let unique = words.filter { seen.insert($0).inserted }
        return unique.map { "\"" + escape($0) + "\"" }.joined(separator: "\n") + "\n"
    }

    /// libFuzzer's dictionary strings: backslash, quote and bytes outside printable ASCII as \xNN.
    static func escape(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\\"): out += "\\\\"
            case UInt8(ascii: "\""): out += "\\\""
            case 0x20...0x7E: out.unicodeScalars.append(Unicode.Scalar(b))
            default: out += "\\x" + (b < 16 ? "0" : "") + String(b, radix: 16, uppercase: true)
            }
        }
        return out
    }
}
