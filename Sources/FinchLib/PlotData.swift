import FinchLang
import FinchPlot
import FinchTrain

/// Turns the values people plot (a Run, a Table, lists, dicts of lists or of runs) into the
/// series of a Figure. Missing values (nil: a validation loss not measured at that step) are
/// left out quietly; NaN and infinities are left to the figure, which counts them.
enum PlotData {
    /// A table's columns by name, from a Table or a Run's history.
    static func table(_ v: Value) -> Table? {
        guard case .object(let o) = v else { return nil }
        if let t = o.value as? Table { return t }
        if let run = o.value as? RunBox { return TrainBindings.historyTable(run.trainer) }
        return nil
    }

    static func isRun(_ v: Value) -> Bool {
        if case .object(let o) = v, o.value is RunBox { return true }
        return false
    }

    /// The numbers of a list, nil items (missing values) left out.
    /// Ranges (and ranges inside a dict) as the lists of numbers they stand for, so range(0, 50)
    /// plots like the list it counts.
    static func listed(_ v: Value, _ a: Arguments) throws -> Value {
        switch v {
        case .range(let r):
            guard r.count <= 10_000_000 else { throw a.error("a range of \(r.count) numbers is too many to plot") }
            return .list(ListRef((0..<r.count).map { .number(r.start + Double($0) * r.step) }))
        case .dict(let d):
            guard d.values.contains(where: { if case .range = $0 { return true }; return false }) else { return v }
            return .dict(try DictRef(try zip(d.keys, d.values).map { ($0, try listed($1, a)) }))
        default: return v
        }
    }

    static func numbers(_ v: Value, _ what: String, _ a: Arguments) throws -> [Double] {
        guard case .list(let l) = v else { throw a.error("\(what) must be a list of numbers, got \(article(v.typeName))") }
        return try l.items.enumerated().compactMap { i, item in
            switch item {
            case .number(let n): return n
            case .nil: return nil
            default: throw a.error("\(what)[\(i)] is \(article(item.typeName)), not a number")
            }
        }
    }

    /// A list's numbers against their positions 1, 2, 3, ... (a missing value leaves a gap).
    static func indexed(_ v: Value, _ what: String, name: String, _ a: Arguments) throws -> Figure.Series {
        guard case .list(let l) = v else { throw a.error("\(what) must be a list of numbers, got \(article(v.typeName))") }
        let p = try pairs(l.items.indices.map { .number(Double($0 + 1)) }, l.items, what, a)
        return Figure.Series(name: name, x: p.x, y: p.y)
    }

    /// Points (x, y) with nil (missing) values dropped; NaN and infinities kept for the figure to count.
    static func pairs(_ xs: [Value], _ ys: [Value], _ what: String, _ a: Arguments) throws -> (x: [Double], y: [Double]) {
        var x: [Double] = [], y: [Double] = []
        for (i, (p, q)) in zip(xs, ys).enumerated() {
            if p.isNil || q.isNil { continue }
            guard case .number(let px) = p else { throw a.error("\(what): x[\(i)] is \(article(p.typeName)), not a number") }
            guard case .number(let qy) = q else { throw a.error("\(what): y[\(i)] is \(article(q.typeName)), not a number") }
            x.append(px); y.append(qy)
        }
        return (x, y)
    }

    static func column(_ t: Table, _ name: String, _ a: Arguments) throws -> [Value] {
        guard let c = t.columns.firstIndex(of: name) else {
            throw a.error("no column \(Value.quote(name)) (columns: \(t.columns.joined(separator: ", ")))")
        }
        return t.rows.map { $0[c] }
    }

    /// Column names from `y:` (a name or a list of names).
    static func names(_ v: Value, _ a: Arguments) throws -> [String]? {
        switch v {
        case .nil: return nil
        case .string(let s): return [s]
        case .list(let l):
            return try l.items.map { item in
                guard case .string(let s) = item else { throw a.error("y must be a column name or a list of column names") }
                return s
            }
        default: throw a.error("y must be a column name or a list of column names, got \(article(v.typeName))")
        }
    }

    /// The series of plot() and scatter(), with the names of the x and y axes they suggest.
    static func series(_ data: Value, x xName: String?, y yValue: Value, _ a: Arguments) throws -> (series: [Figure.Series], x: String, y: String) {
        if let t = table(data) {
            let run = isRun(data)
            let ys = try names(yValue, a) ?? (run ? ["loss", "val_loss"] : [])
            guard !ys.isEmpty else {
                throw a.error("name the column(s) to plot: y: \"name\" or y: [\"a\", \"b\"] (columns: \(t.columns.joined(separator: ", ")))")
            }
            let xName = xName ?? (t.columns.contains("step") ? "step" : nil)
            let xs: [Value] = try xName.map { try column(t, $0, a) } ?? t.rows.indices.map { .number(Double($0 + 1)) }
            var out: [Figure.Series] = []
            for name in ys {
                let p = try pairs(xs, try column(t, name, a), name, a)
                // A run without a validation set has no val_loss: leave it out rather than draw nothing.
                if run, yValue.isNil, name == "val_loss", p.x.isEmpty { continue }
                out.append(Figure.Series(name: name, x: p.x, y: p.y))
            }
            return (out, xName ?? "row", ys.count == 1 ? ys[0] : (run ? "loss" : ""))
        }
        switch data {
        case .list:
            if case .list(let ys) = yValue, case .list(let xs) = data {
                guard xs.items.count == ys.items.count else { throw a.error("x has \(xs.items.count) values but y has \(ys.items.count)") }
                let p = try pairs(xs.items, ys.items, "data", a)
                return ([Figure.Series(name: "y", x: p.x, y: p.y)], xName ?? "x", "y")
            }
            return ([try indexed(data, "data", name: "y", a)], xName ?? "index", "")
        case .dict(let d):
            // Named series: lists of numbers against their index, or runs' losses against their steps.
            var out: [Figure.Series] = []
            var yLabel = ""
            for (k, v) in zip(d.keys, d.values) {
                let name = k.description
                if let t = table(v) {
                    let col = try names(yValue, a)?.first ?? (isRun(v) ? "loss" : nil)
                    guard let col else { throw a.error("name the column to plot from each table: y: \"name\"") }
                    let xs = try t.columns.contains("step") ? column(t, "step", a) : t.rows.indices.map { .number(Double($0 + 1)) }
                    let p = try pairs(xs, try column(t, col, a), name, a)
                    out.append(Figure.Series(name: name, x: p.x, y: p.y))
                    yLabel = col
                } else {
                    out.append(try indexed(v, "data[\(Value.quote(name))]", name: name, a))
                }
            }
            return (out, xName ?? (yLabel.isEmpty ? "index" : "step"), yLabel)
        default:
            throw a.error("data must be a Run, a Table, a list of numbers or a dict of them, got \(article(data.typeName))")
        }
    }

    /// The values of hist(): a list, a dict of lists (one series each), a table's column, or a
    /// tokenized data set's example lengths.
    static func histogram(_ data: Value, column name: String?, _ a: Arguments) throws -> (series: [Figure.Series], x: String) {
        if case .object(let o) = data, let box = o.value as? TokenizedBox {
            return ([Figure.Series(name: "examples", y: box.data.examples.map { Double($0.ids.count) })], "tokens per example")
        }
        if let t = table(data) {
            guard let name else { throw a.error("name the column to count: column: \"name\" (columns: \(t.columns.joined(separator: ", ")))") }
            return ([Figure.Series(name: name, y: try numbers(.list(ListRef(try column(t, name, a))), name, a))], name)
        }
        switch data {
        case .list: return ([Figure.Series(name: "values", y: try numbers(data, "data", a))], "value")
        case .dict(let d):
            return (try zip(d.keys, d.values).map { k, v in Figure.Series(name: k.description, y: try numbers(v, "data[\(Value.quote(k.description))]", a)) }, "value")
        default: throw a.error("data must be a list of numbers, a dict of lists, a Table (with column:) or a TokenizedDataset, got \(article(data.typeName))")
        }
    }

    /// The categories and series of bars(): {label: number} for one series, {label: {series: number}}
    /// for groups side by side, or a table's label column (x:) with one or more value columns (y:).
    static func bars(_ data: Value, x xName: String?, y yValue: Value, _ a: Arguments) throws -> (categories: [String], series: [Figure.Series]) {
        if let t = table(data) {
            guard let xName, let ys = try names(yValue, a) else {
                throw a.error("name the label column and the value column(s): x: \"name\", y: \"value\" (columns: \(t.columns.joined(separator: ", ")))")
            }
            let labels = try column(t, xName, a).map { $0.description }
            let series = try ys.map { name in
                let p = try pairs(labels.indices.map { .number(Double($0)) }, try column(t, name, a), name, a)
                return Figure.Series(name: name, x: p.x, y: p.y)
            }
            return (labels, series)
        }
        guard case .dict(let d) = data else { throw a.error("data must be a dict {label: number} or {label: {series: number}}, or a Table, got \(article(data.typeName))") }
        let labels = d.keys.map(\.description)
        if d.values.allSatisfy({ if case .dict = $0 { return true }; return false }) {
            var names: [String] = []
            for v in d.values { if case .dict(let inner) = v { for k in inner.keys where !names.contains(k.description) { names.append(k.description) } } }
            let series = try names.map { name -> Figure.Series in
                var x: [Double] = [], y: [Double] = []
                for (i, v) in d.values.enumerated() {
                    guard case .dict(let inner) = v, let value = try inner.get(.string(name)) else { continue }
                    guard case .number(let n) = value else { throw a.error("data[\(Value.quote(labels[i]))][\(Value.quote(name))] is \(article(value.typeName)), not a number") }
                    x.append(Double(i)); y.append(n)
                }
                return Figure.Series(name: name, x: x, y: y)
            }
            return (labels, series)
        }
        let values = try d.values.enumerated().map { i, v -> Double in
            guard case .number(let n) = v else { throw a.error("data[\(Value.quote(labels[i]))] is \(article(v.typeName)), not a number") }
            return n
        }
        return (labels, [Figure.Series(name: "", x: labels.indices.map(Double.init), y: values)])
    }
}
