import FinchLang

/// Rows with named columns that print as an aligned table: `model.params`, and
/// the per-example results of evaluation.
final class Table {
    let columns: [String]
    private(set) var rows: [[Value]]

    init(columns: [String], rows: [[Value]]) {
        self.columns = columns
        self.rows = rows
    }

    /// At most this many rows print; the middle of a longer table is elided.
    static let printedRows = 20
    static let maxCellWidth = 48

    /// The rows a person is shown: all of them, or of a longer table the first and last
    /// printedRows / 2 with nil where the middle is elided (text and HTML alike).
    var shownRows: [[Value]?] {
        rows.count <= Table.printedRows ? rows.map { $0 }
            : Array(rows.prefix(Table.printedRows / 2)) + [nil] + Array(rows.suffix(Table.printedRows / 2))
    }

    var rendered: String {
        let cells: [[String]?] = shownRows.map { $0?.map(Table.cell) }
        var widths = columns.map(\.count)
        for row in cells.compactMap({ $0 }) { for (i, c) in row.enumerated() { widths[i] = max(widths[i], c.count) } }
        func line(_ items: [String]) -> String {
            zip(items, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
        var out = [line(columns), line(widths.map { String(repeating: "-", count: $0) })]
        for row in cells { out.append(row.map(line) ?? "... \(rows.count - Table.printedRows) more rows ...") }
        out.append("(\(rows.count) rows)")
        return out.joined(separator: "\n")
    }

    /// The same rows as `rendered` (the middle of a long table elided) as an HTML table, for
    /// Jupyter's text/html.
    var html: String {
        func escaped(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        }
        var out = "<table>\n<thead><tr>" + columns.map { "<th>\(escaped($0))</th>" }.joined() + "</tr></thead>\n<tbody>\n"
        for row in shownRows {
            if let row {
                out += "<tr>" + row.map { "<td>\(escaped(Table.cell($0)))</td>" }.joined() + "</tr>\n"
            } else {
                out += "<tr><td colspan=\"\(columns.count)\">… \(rows.count - Table.printedRows) more rows …</td></tr>\n"
            }
        }
        return out + "</tbody>\n</table>\n<p>\(rows.count) rows</p>"
    }

    /// One cell on one line, cut to a readable width.
    static func cell(_ v: Value) -> String {
        var s = v.description.replacingOccurrences(of: "\n", with: "↵")
        if s.count > maxCellWidth { s = String(s.prefix(maxCellWidth - 1)) + "…" }
        return s
    }

    func row(_ i: Int) throws -> Value { .dict(try DictRef(zip(columns, rows[i]).map { (.string($0), $1) })) }

    func column(_ name: String) throws -> Value {
        guard let c = columns.firstIndex(of: name) else {
            throw FinchError(.runtime, "the table has no column \(Value.quote(name)) (columns: \(columns.joined(separator: ", ")))")
        }
        return .list(rows.map { $0[c] })
    }
}

/// A value as the MIME types a rich front end (Jupyter) can show: always text/plain, and
/// text/html for tables.
public enum RichOutput {
    public static func bundle(_ value: Value) -> [String: String] {
        var data = ["text/plain": value.repr]
        if case .object(let o) = value, let table = o.value as? Table { data["text/html"] = table.html }
        return data
    }
}

enum TableBindings {
    static let type: NativeType = {
        let t = NativeType(name: "Table", doc: "Rows with named columns: t[i] is a row (a dict), t[\"name\"] a column (a list).")
        define(t)
        return t
    }()

    static func wrap(_ t: Table) -> Value { .object(NativeObject(type: type, value: t)) }

    static func register(in r: Registry) { r.register(type) }

    private static func define(_ t: NativeType) {
        t.describe = { ($0.value as! Table).rendered }
        t.length = { ($0.value as! Table).rows.count }
        t.getIndex = { o, idx in
            let table = o.value as! Table
            guard idx.count == 1, case .index(let key) = idx[0] else { throw FinchError(.runtime, "index a table with one row number or a column name") }
            switch key {
            case .string(let name): return try table.column(name)
            case .number:
                return try table.row(Checked.position(key, count: table.rows.count, what: "row"))
            default: throw FinchError(.runtime, "index a table with a row number or a column name, not \(article(key.typeName))")
            }
        }
        t.property("columns", doc: "The column names.") { o in .list((o.value as! Table).columns.map { .string($0) }) }
        t.method("to_list", on: Table.self, [], returns: "list", "The rows as a list of dicts.", "m.params.to_list()[0]") { table, _ in
            .list(try (0..<table.rows.count).map { try table.row($0) })
        }
    }
}
