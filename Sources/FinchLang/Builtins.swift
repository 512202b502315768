import Foundation

/// The core natives every interpreter has (FinchLib adds the ML ones).
enum Builtins {
    static func register(in r: Registry) {
        guard r.functions["print"] == nil else { return }
        r.section("Core")
        r.register(NativeFunction("print", [], variadic: true, doc: "Prints the values separated by spaces, then a newline.",
                                  example: "print(\"loss\", 0.25)") { args in
            args.interpreter.output(args.values.map(\.description).joined(separator: " ") + "\n")
            return .nil
        })
        r.register(NativeFunction("len", [Param("x", .any)], returns: "number", doc: "The number of items in a list, dict, string, range or object.",
                                  example: "len([1, 2, 3])") { args in
            switch args["x"] {
            case .list(let l): return .number(Double(l.items.count))
            case .dict(let d): return .number(Double(d.count))
            case .string(let s): return .number(Double(s.count))
            case .range(let rg): return .number(Double(rg.count))
            case .object(let o):
                guard let length = o.type.length else { throw args.error("\(article(o.type.name)) has no length") }
                return .number(Double(try length(o)))
            default: throw args.error("\(article(args["x"].typeName)) has no length")
            }
        })
        r.register(NativeFunction("str", [Param("x", .any)], returns: "string", doc: "The value as a string, as print shows it.",
                                  example: "str(42) + \"!\"") { .string($0["x"].description) })
        r.register(NativeFunction("repr", [Param("x", .any)], returns: "string", doc: "The value as the REPL shows it (strings quoted).",
                                  example: "repr(\"hi\")") { .string($0["x"].repr) })
        r.register(NativeFunction("type", [Param("x", .any)], returns: "string", doc: "The name of the value's type.",
                                  example: "type([1])") { .string($0["x"].typeName) })
        r.register(NativeFunction("range", [Param("start", .number), Param("end", .optional(.number), default: .nil),
                                            Param("step", .number, default: .number(1))],
                                  returns: "range", doc: "Numbers from start up to (not including) end by step; range(n) counts 0..n-1.",
                                  example: "range(1, 10, 3)") { args in
            let (start, end) = args.optionalNumber("end").map { (args.number("start"), $0) } ?? (0, args.number("start"))
            guard args.number("step") != 0 else { throw args.error("step cannot be zero") }
            return .range(RangeValue(start: start, end: end, step: args.number("step")))
        })
        r.register(NativeFunction("number", [Param("x", .oneOf([.number, .string, .bool]))], returns: "number",
                                  doc: "Converts a string or bool to a number; a string that is not a number is an error.",
                                  example: "number(\"3.5\") + 1") { args in
            switch args["x"] {
            case .number: return args["x"]
            case .bool(let b): return .number(b ? 1 : 0)
            case .string(let s):
                guard let n = Double(s.trimmingCharacters(in: .whitespaces)) else { throw args.error("\(Value.quote(s)) is not a number") }
                return .number(n)
            default: return .nil
            }
        })
        r.register(NativeFunction("int", [Param("x", .oneOf([.number, .string]))], returns: "number",
                                  doc: "Truncates a number (or parses a string) to an integer.", example: "int(3.9)") { args in
            if case .string(let s) = args["x"] {
                guard let n = Double(s.trimmingCharacters(in: .whitespaces)) else { throw args.error("\(Value.quote(s)) is not a number") }
                return .number(Double(try Checked.truncated(n, "int()'s argument")))
            }
            return .number(Double(try Checked.truncated(args.number("x"), "int()'s argument")))
        })
        for (name, doc, f) in [("abs", "Absolute value.", { (x: Double) in Swift.abs(x) }),
                               ("floor", "Largest integer not above x.", { Foundation.floor($0) }),
                               ("ceil", "Smallest integer not below x.", { Foundation.ceil($0) }),
                               ("sqrt", "Square root.", { $0.squareRoot() }),
                               ("exp", "e to the power x.", { Foundation.exp($0) }),
                               ("log", "Natural logarithm.", { Foundation.log($0) })] as [(String, String, (Double) -> Double)] {
            r.register(NativeFunction(name, [Param("x", .number)], returns: "number", doc: doc, example: "\(name)(2)") { .number(f($0.number("x"))) })
        }
        r.register(NativeFunction("round", [Param("x", .number), Param("digits", .int, default: .number(0))], returns: "number",
                                  doc: "Rounds to `digits` decimals (halves away from zero).", example: "round(3.14159, digits: 2)") { args in
            let x = args.number("x"), digits = args.number("digits")
            // A double has about 17 significant digits: more decimals change nothing, and 10^digits
            // beyond ±308 would make inf / inf.
            if digits > 20 || !x.isFinite { return .number(x) }
            if digits < -308 { return .number(0) }
            let scale = Foundation.pow(10, digits)
            let scaled = x * scale
            return .number(scaled.isFinite ? scaled.rounded() / scale : x)
        })
        r.register(NativeFunction("min", [], variadic: true, returns: "any", doc: "The smallest of the arguments, or of one list.",
                                  example: "min(3, 1, 2)") { args in try extreme(args, sign: -1) })
        r.register(NativeFunction("max", [], variadic: true, returns: "any", doc: "The largest of the arguments, or of one list.",
                                  example: "max([3, 1, 2])") { args in try extreme(args, sign: 1) })
        r.register(NativeFunction("sorted", [Param("items", .oneOf([.list, .range, .dict])), Param("reverse", .bool, default: .bool(false))],
                                  returns: "list", doc: "A sorted copy (numbers, strings or lists, in their natural order). sort_by sorts by a key.",
                                  example: "sorted([3, 1, 2])") { args in
            var items = try iterate(args["items"])
            var failure: Error?
            items.sort { a, b in
                do { return try Operators.compare(a, b) < 0 } catch { failure = error; return false }
            }
            if let failure { throw failure }
            if args.bool("reverse") { items.reverse() }
            return .list(ListRef(items))
        })
        r.register(NativeFunction("list", [Param("items", .any, default: .nil)], returns: "list",
                                  doc: "A new list: empty, a copy of a list, or the items of a range, string or dict (its keys).",
                                  example: "list(range(3))") { args in
            if case .nil = args["items"] { return .list(ListRef([])) }
            return .list(ListRef(try iterate(args["items"])))
        })
        r.register(NativeFunction("dict", [Param("pairs", .optional(.list), default: .nil)], returns: "dict",
                                  doc: "A new dict, empty or from a list of [key, value] pairs.", example: "dict([[\"a\", 1]])") { args in
            let d = DictRef()
            for p in args.list("pairs") {
                guard case .list(let pair) = p, pair.items.count == 2 else { throw args.error("each pair must be a list [key, value], got \(p.repr)") }
                try d.set(pair.items[0], pair.items[1])
            }
            return .dict(d)
        })
        r.register(NativeFunction("error", [Param("message", .string)], doc: "Stops with a runtime error carrying `message`.",
                                  example: "error(\"bad input\")") { args in throw FinchError(.runtime, args.string("message")) })
        r.register(NativeFunction("assert", [Param("condition", .any), Param("message", .string, default: .string("assertion failed"))],
                                  doc: "Stops with an error when the condition is false.", example: "assert(1 < 2, \"math\")") { args in
            if !args["condition"].isTruthy { throw FinchError(.runtime, args.string("message")) }
            return .nil
        })
        r.register(NativeFunction("time", [], returns: "number", doc: "Seconds since an arbitrary start, for timing code.",
                                  example: "t = time()") { _ in .number(ProcessInfo.processInfo.systemUptime) })
        r.register(NativeFunction("help", [Param("x", .any, default: .nil)],
                                  doc: "Shows the signature and documentation of a function, a type or an object; help() lists the topics.",
                                  example: "help(len)") { args in
            args.interpreter.output(args.interpreter.helpText(for: args.values.first ?? .nil) + "\n")
            return .nil
        })
        r.register(NativeFunction("call", [Param("f", .function), Param("args", .optional(.list), default: .nil)], returns: "any",
                                  doc: "Calls f with the items of args as its arguments.", example: "call(max, [1, 5, 2])") { args in
            try args.interpreter.call(args["f"], args.list("args"))
        })
        r.register(NativeFunction("natives", [], returns: "list",
                                  doc: "Every native function, method and property as dicts: name, kind, type, section, signature, doc, params, example (what help and the reference are made from).",
                                  example: "len(natives())") { args in
            .list(try Builtins.natives(args.interpreter.registry))
        })
        BuiltinMethods.register(in: r)
    }

    /// The registry as data, for `natives()`.
    static func natives(_ r: Registry) throws -> [Value] {
        func dict(_ pairs: [(String, Value)]) throws -> Value { .dict(try DictRef(pairs.map { (.string($0), $1) })) }
        func function(_ f: NativeFunction, kind: String, type: String?, section: String) throws -> Value {
            let params = try f.params.filter { $0.name != "self" }.map { p in
                try dict([("name", .string(p.name)), ("type", .string(p.type.name)),
                          ("default", p.defaultValue.map { .string($0.value.repr) } ?? .nil), ("doc", .string(p.doc))])
            }
            return try dict([("name", .string(f.name)), ("kind", .string(kind)), ("type", type.map { .string($0) } ?? .nil),
                             ("section", .string(section)), ("signature", .string(f.signature)), ("doc", .string(f.doc)),
                             ("params", .list(params)), ("returns", .string(f.returns)), ("example", .string(f.example))])
        }
        var out: [Value] = []
        for (title, names) in r.sections {
            for name in names { if let f = r.functions[name] { out.append(try function(f, kind: "function", type: nil, section: title)) } }
        }
        for typeName in r.typeOrder {
            guard let t = r.types[typeName] else { continue }
            for name in t.methods.keys.sorted() { out.append(try function(t.methods[name]!, kind: "method", type: typeName, section: typeName)) }
            for name in t.properties.keys.sorted() {
                let p = t.properties[name]!
                out.append(try dict([("name", .string(name)), ("kind", .string("property")), ("type", .string(typeName)), ("section", .string(typeName)),
                                     ("signature", .string(name)), ("doc", .string(p.doc)), ("params", .list([])), ("returns", .nil), ("example", .string(""))]))
            }
        }
        return out
    }

    /// The items of an iterable value.
    static func iterate(_ v: Value) throws -> [Value] {
        switch v {
        case .list(let l): return l.items
        case .range(let r):
            guard r.count <= Operators.maxElements else { throw Operators.tooBig(r.count, "items") }
            return (0..<r.count).map { .number(r.element($0)) }
        case .string(let s): return s.map { .string(String($0)) }
        case .dict(let d): return d.keys
        default: throw FinchError(.runtime, "cannot iterate over \(article(v.typeName))")
        }
    }

    private static func extreme(_ args: Arguments, sign: Int) throws -> Value {
        var items = args.values
        if items.count == 1, case .list = items[0] { items = try iterate(items[0]) }
        if items.count == 1, case .range = items[0] { items = try iterate(items[0]) }
        guard var best = items.first else { throw args.error("needs at least one value") }
        for v in items.dropFirst() where try Operators.compare(v, best) * sign > 0 { best = v }
        return best
    }
}
