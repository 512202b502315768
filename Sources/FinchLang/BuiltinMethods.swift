import Foundation

/// Methods of lists, strings and dicts (`xs.push(1)`, `s.upper()`, `d.keys()`).
enum BuiltinMethods {
    static func register(in r: Registry) {
        let list = NativeType(name: "list", doc: "An ordered, mutable sequence: [1, 2, 3].")
        let string = NativeType(name: "string", doc: "Unicode text: \"hi ${name}\" interpolates, 'raw' does not.")
        let dict = NativeType(name: "dict", doc: "Keys to values, in insertion order: {a: 1, \"b c\": 2}.")
        let me = Param("self", .any)

        func listMethod(_ name: String, _ params: [Param], _ doc: String, _ example: String,
                        _ body: @escaping (ListRef, Arguments) throws -> Value) {
            list.method(NativeFunction(name, [me] + params, doc: doc, example: example) { args in
                guard case .list(let l) = args["self"] else { return .nil }
                return try body(l, args)
            })
        }
        listMethod("push", [Param("item")], "Appends an item; returns the list.", "xs.push(4)") { l, a in l.items.append(a["item"]); return a["self"] }
        listMethod("append", [Param("item")], "Appends an item; returns the list.", "xs.append(4)") { l, a in l.items.append(a["item"]); return a["self"] }
        listMethod("extend", [Param("items", .list)], "Appends every item of another list.", "xs.extend([5, 6])") { l, a in
            l.items.append(contentsOf: a.list("items")); return a["self"]
        }
        listMethod("pop", [Param("index", .int, default: .number(-1))], "Removes and returns the item at index (the last by default).",
                   "xs.pop()") { l, a in
            guard !l.items.isEmpty else { throw a.error("pop from an empty list") }
            return l.items.remove(at: try Operators.position(a["index"], count: l.items.count, what: "list"))
        }
        listMethod("insert", [Param("index", .int), Param("item")], "Inserts an item before index.", "xs.insert(0, \"first\")") { l, a in
            var i = a.int("index")
            if i < 0 { i += l.items.count }
            l.items.insert(a["item"], at: min(max(i, 0), l.items.count))
            return a["self"]
        }
        listMethod("index", [Param("item")], "Position of the first equal item, or -1.", "xs.index(3)") { l, a in
            .number(Double(l.items.firstIndex { valuesEqual($0, a["item"]) } ?? -1))
        }
        listMethod("contains", [Param("item")], "Whether an equal item is in the list (same as `item in xs`).", "xs.contains(3)") { l, a in
            .bool(l.items.contains { valuesEqual($0, a["item"]) })
        }
        listMethod("reverse", [], "Reverses the list in place; returns it.", "xs.reverse()") { l, a in l.items.reverse(); return a["self"] }
        listMethod("sort", [Param("reverse", .bool, default: .bool(false))], "Sorts the list in place; returns it.", "xs.sort()") { l, a in
            var failure: Error?
            l.items.sort { x, y in
                do { return try Operators.compare(x, y) < 0 } catch { failure = error; return false }
            }
            if let failure { throw failure }
            if a.bool("reverse") { l.items.reverse() }
            return a["self"]
        }
        listMethod("copy", [], "A shallow copy.", "ys = xs.copy()") { l, _ in .list(ListRef(l.items)) }
        listMethod("clear", [], "Removes every item.", "xs.clear()") { l, a in l.items.removeAll(); return a["self"] }

        func stringMethod(_ name: String, _ params: [Param], _ doc: String, _ example: String,
                          _ body: @escaping (String, Arguments) throws -> Value) {
            string.method(NativeFunction(name, [me] + params, doc: doc, example: example) { args in
                guard case .string(let s) = args["self"] else { return .nil }
                return try body(s, args)
            })
        }
        stringMethod("upper", [], "Upper-cased copy.", "\"hi\".upper()") { s, _ in .string(s.uppercased()) }
        stringMethod("lower", [], "Lower-cased copy.", "\"Hi\".lower()") { s, _ in .string(s.lowercased()) }
        stringMethod("strip", [], "Copy without leading and trailing whitespace.", "\"  hi \".strip()") { s, _ in
            .string(s.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        stringMethod("split", [Param("separator", .optional(.string), default: .nil)],
                     "Pieces between separators; with no separator, the words between runs of whitespace.", "\"a,b\".split(\",\")") { s, a in
            if case .string(let sep) = a["separator"] {
                guard !sep.isEmpty else { throw a.error("separator cannot be empty") }
                return .list(ListRef(s.components(separatedBy: sep).map { .string($0) }))
            }
            return .list(ListRef(s.split(whereSeparator: { $0.isWhitespace }).map { .string(String($0)) }))
        }
        stringMethod("lines", [], "The lines of the text.", "text.lines()") { s, _ in
            .list(ListRef(s.split(separator: "\n", omittingEmptySubsequences: false).map { .string(String($0)) }))
        }
        stringMethod("replace", [Param("old", .string), Param("new", .string)], "Copy with every `old` replaced by `new`.",
                     "\"a-b\".replace(\"-\", \"+\")") { s, a in
            guard !a.string("old").isEmpty else { throw a.error("'old' cannot be empty") }
            return .string(s.replacingOccurrences(of: a.string("old"), with: a.string("new")))
        }
        stringMethod("starts_with", [Param("prefix", .string)], "Whether the text starts with prefix.", "\"hello\".starts_with(\"he\")") { s, a in
            .bool(s.hasPrefix(a.string("prefix")))
        }
        stringMethod("ends_with", [Param("suffix", .string)], "Whether the text ends with suffix.", "\"hello\".ends_with(\"lo\")") { s, a in
            .bool(s.hasSuffix(a.string("suffix")))
        }
        stringMethod("find", [Param("text", .string)], "Character position of the first occurrence, or -1.", "\"hello\".find(\"l\")") { s, a in
            guard let r = s.range(of: a.string("text")) else { return .number(-1) }
            return .number(Double(s.distance(from: s.startIndex, to: r.lowerBound)))
        }
        stringMethod("contains", [Param("text", .string)], "Whether the text occurs (same as `text in s`).", "\"hello\".contains(\"ell\")") { s, a in
            .bool(s.contains(a.string("text")))
        }

        func dictMethod(_ name: String, _ params: [Param], _ doc: String, _ example: String,
                        _ body: @escaping (DictRef, Arguments) throws -> Value) {
            dict.method(NativeFunction(name, [me] + params, doc: doc, example: example) { args in
                guard case .dict(let d) = args["self"] else { return .nil }
                return try body(d, args)
            })
        }
        dictMethod("keys", [], "The keys, in insertion order.", "d.keys()") { d, _ in .list(ListRef(d.keys)) }
        dictMethod("values", [], "The values, in insertion order.", "d.values()") { d, _ in .list(ListRef(d.values)) }
        dictMethod("items", [], "[key, value] pairs, in insertion order.", "d.items()") { d, _ in
            .list(ListRef(zip(d.keys, d.values).map { .list(ListRef([$0, $1])) }))
        }
        dictMethod("get", [Param("key"), Param("default", .any, default: .nil)], "The value for key, or default when absent.",
                   "d.get(\"a\", 0)") { d, a in try d.get(a["key"]) ?? a["default"] }
        dictMethod("has", [Param("key")], "Whether the key is present (same as `key in d`).", "d.has(\"a\")") { d, a in
            .bool(try d.get(a["key"]) != nil)
        }
        dictMethod("remove", [Param("key")], "Removes the key; returns its value (nil when absent).", "d.remove(\"a\")") { d, a in
            try d.remove(a["key"]) ?? .nil
        }
        dictMethod("copy", [], "A shallow copy.", "e = d.copy()") { d, _ in .dict(try DictRef(Array(zip(d.keys, d.values)))) }

        for t in [list, string, dict] { r.register(t) }
    }
}
