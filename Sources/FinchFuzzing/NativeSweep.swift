import FinchLang
import FinchLib
import Foundation

/// Every native function and method called with each numeric parameter set to numbers no
/// caller should pass (±inf, NaN, ±1e19, 2^53, -1 ...), the other arguments typical: the
/// sweep that finds what random mutation reaches too rarely. Each call must end in a value or
/// an error; a trap fails the run.
public enum NativeSweep {
    /// Makes one value of every native type, small enough that a call on it is quick.
    public static let setup = """
    tok = bpe_train(["hello world, hi there", "finch trains models", "### Question:\\nwhat?\\n\\n### Answer:yes"], vocab: 300, special: ["<|endoftext|>"])
    m = model(vocab: tok.vocab_size, dim: 16, layers: 1, heads: 2, context: 32, tokenizer: tok, seed: 1)
    ds = dataset([{"question": "what?", "answer": "yes"}, {"question": "who?", "answer": "finch"}, {"question": "hi?", "answer": "there"}])
    tds = ds.tokenize(tok, max_length: 16)
    run = train(m, ds, steps: 2, batch: 2, max_length: 16)
    ev = evaluate(m, ds, max_tokens: 2)
    cats = categorize(ev, examples: 0)
    t = arange(6).reshape([2, 3])
    table = run.history
    empty = eye(0)
    """

    /// The setup's value of each native type, by type name; also the receivers of their methods.
    static let objects = ["Tensor": "t", "Model": "m", "Dataset": "ds", "Tokenizer": "tok", "TokenizedDataset": "tds",
                          "Run": "run", "Evaluation": "ev", "Categories": "cats", "Table": "table"]

    /// A value of each parameter type for the arguments not being swept.
    static func typical(_ type: ParamType) -> String {
        switch type {
        case .any, .number: return "1.5"
        case .int: return "2"
        case .bool: return "true"
        case .string: return "\"a\""
        case .list: return "[1, 2]"
        case .dict: return "{\"a\": 1}"
        case .range: return "range(0, 3)"
        case .function: return "fn(x) { x }"
        case .object(let name): return objects[name] ?? "nil"
        case .optional(let t): return typical(t)
        case .oneOf(let ts): return ts.first.map(typical) ?? "nil"
        }
    }

    /// Numbers that fit no index, count or size (whole ones for int parameters); lists of them,
/// ragged and empty lists; empty and NUL strings.
    static func extremes(_ type: ParamType) -> [String] {
        switch type {
        case .int, .optional(.int): return ["9007199254740991", "-9007199254740991", "0", "-1", "1e15"]
        case .number, .any, .optional(.number), .optional(.any): return ["1e400", "-1e400", "0 / 0", "1e19", "-1e19", "0", "-1"]
        case .oneOf(let ts) where ts.contains(.int) || ts.contains(.number): return ["1e400", "0 / 0", "-1e19", "9007199254740991", "-1", "[1e15, 1e15]", "[-1, 9007199254740991]"]
        case .list: return ["[1e400, 0 / 0, -1e19]", "[[1, 2], [3]]", "[]", "[-1, 9007199254740991]"]
        case .string: return ["\"\"", "\"\\u{0}\"", "\"-1\""]
        case .optional(let t): return extremes(t)
        default: return []
        }
    }

    /// Where the sweep's calls write files: a path argument ("-1", "a", a NUL) is put under this
    /// folder, never left relative to the working directory. The caller removes it.
    public static let scratch = NSTemporaryDirectory() + "finch-sweep-\(ProcessInfo.processInfo.processIdentifier)/"

    /// A string argument of a parameter that names a file, placed under `scratch`.
    static func placed(_ value: String, _ p: Param) -> String {
        guard ["path", "directory", "dir", "file"].contains(p.name), value.hasPrefix("\"") else { return value }
        return "\"" + scratch + value.dropFirst()
    }

    /// Names whose large values only make a call run long (train's length), not misbehave.
    static let lengthOnly: Set<String> = ["train.steps", "train.epochs", "train.warmup"]

    /// (label, code) for every call of the sweep.
    public static func calls(_ registry: Registry) -> [(label: String, code: String)] {
        var out: [(String, String)] = []
        func sweep(_ f: NativeFunction, receiver: String?) {
            let params = receiver == nil ? f.params : Array(f.params.dropFirst())
            for (k, p) in params.enumerated() {
                for value in extremes(p.type) {
                    if lengthOnly.contains("\(f.name).\(p.name)"), !value.hasPrefix("-"), value != "0" { continue }
                    var args: [String] = []
                    for (j, q) in params.enumerated() {
                        if j == k { args.append("\(q.name): \(placed(value, q))") } else if q.defaultValue == nil { args.append("\(q.name): \(placed(typical(q.type), q))") }
                    }
                    if f.name == "train", p.name != "steps" { args.append("steps: 2") }
                    let call = (receiver.map { $0 + "." } ?? "") + f.name + "(" + args.joined(separator: ", ") + ")"
                    out.append(("\(receiver ?? "")\(receiver == nil ? "" : ".")\(f.name)(\(p.name): \(value))", call))
                }
            }
        }
        // serve() listens for real (a sweep value such as port 2 would leave servers behind), and
        // launch() starts mpirun: their arguments are checked in ServeNativeTests and DistNativeTests instead.
        for name in registry.order where !["load_model", "tokenizer", "help", "print", "natives", "serve", "launch"].contains(name) {
            if let f = registry.functions[name] { sweep(f, receiver: nil) }
        }
        // Tensors twice: a 2×3 one, and an empty one (axes of size 0 divide and index differently).
        if let t = registry.types["Tensor"] {
            for name in t.methods.keys.sorted() {
                guard let f = t.methods[name] else { continue }
                let args = f.params.dropFirst().filter { $0.defaultValue == nil }.map { "\($0.name): \(typical($0.type))" }
                for receiver in ["empty", "empty.T", "zeros([3, 0])"] {
                    let call = "\(receiver).\(name)(\(args.joined(separator: ", ")))"
                    out.append((call, call))
                }
            }
        }
        let receivers = objects.merging(["list": "[3, 1, 2]", "string": "\"hello\"", "dict": "{\"a\": 1, \"b\": 2}"]) { a, _ in a }
        for typeName in registry.typeOrder {
            guard let t = registry.types[typeName], let receiver = receivers[typeName] else { continue }
            for name in t.methods.keys.sorted() { if let f = t.methods[name] { sweep(f, receiver: receiver) } }
        }
        return out
    }
}
