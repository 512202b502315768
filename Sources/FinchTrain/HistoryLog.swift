import FinchIO
import FinchModel
import Foundation

/// The training history as a file: CSV with a header, or one JSON object per line.
public enum HistoryLog {
    public static let columns = ["step", "loss", "val_loss", "lr", "grad_norm", "tokens_per_s", "elapsed"]

    /// One record's values in `columns` order (nil: not measured on that step).
    public static func values(_ r: StepRecord) -> [Double?] {
        [Double(r.step), shortest(r.loss), r.valLoss.map(shortest), shortest(r.lr), shortest(r.gradNorm),
         (r.tokensPerSecond * 10).rounded() / 10, (r.elapsed * 1000).rounded() / 1000]
    }

    /// A float as the double its shortest decimal form names (3e-4, not 0.0003000000142).
    public static func shortest(_ f: Float) -> Double { Double("\(f)") ?? Double(f) }

    public static func write(_ history: [StepRecord], to path: String) throws {
        var out = ""
        func number(_ v: Double?) -> String {
            guard let v else { return path.hasSuffix(".csv") ? "" : "null" }
            if v.isNaN { return path.hasSuffix(".csv") ? "nan" : "\"nan\"" }
            if v.isInfinite { return path.hasSuffix(".csv") ? (v > 0 ? "inf" : "-inf") : (v > 0 ? "\"inf\"" : "\"-inf\"") }
            // The shortest digits that read back as the same number: a log read back (read_log,
            // pandas) holds the losses train() reported, not six-digit roundings of them.
            return v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : "\(v)"
        }
        if path.hasSuffix(".csv") {
            out = columns.joined(separator: ",") + "\n"
            for r in history { out += values(r).map(number).joined(separator: ",") + "\n" }
        } else {
            for r in history {
                out += "{" + zip(columns, values(r)).map { "\"\($0)\": \(number($1))" }.joined(separator: ", ") + "}\n"
            }
        }
        try AtomicFile.write(out, to: path)
    }
}

extension HistoryLog {
    /// A history file written by `write` (or by hand in its form): its columns and, per step, the
    /// values (nil where a cell is empty or null). Errors name the file and line.
    public static func read(_ path: String) throws -> (columns: [String], rows: [[Double?]]) {
        guard let data = FileManager.default.contents(atPath: path) else { throw ModelError("\(path): cannot read it") }
        guard let text = String(data: data, encoding: .utf8) else { throw ModelError("\(path): not UTF-8 text") }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.hasSuffix("\r") ? $0.dropLast() : $0 }
        func number(_ s: Substring, line: Int) throws -> Double? {
            let t = s.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            if t.isEmpty || t == "null" { return nil }
            switch t {
            case "nan": return .nan
            case "inf": return .infinity
            case "-inf": return -.infinity
            default:
                guard let v = Double(t) else { throw ModelError("\(path):\(line): \"\(t)\" is not a number") }
                return v
            }
        }
        var rows: [[Double?]] = []
        if path.hasSuffix(".csv") {
            guard let header = lines.first, !header.isEmpty else { throw ModelError("\(path): empty, not a training log") }
            let columns = header.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
            guard columns.contains("step") else { throw ModelError("\(path):1: no step column, not a training log (columns: \(columns.joined(separator: ", ")))") }
            for (i, line) in lines.enumerated().dropFirst() where !line.isEmpty {
                let cells = line.split(separator: ",", omittingEmptySubsequences: false)
                guard cells.count == columns.count else { throw ModelError("\(path):\(i + 1): \(cells.count) values, the header names \(columns.count)") }
                rows.append(try cells.map { try number($0, line: i + 1) })
            }
            return (columns, rows)
        }
        guard path.hasSuffix(".jsonl") else { throw ModelError("\(path): a training log is a .csv or .jsonl file") }
        var columns: [String] = []
        for (i, line) in lines.enumerated() where !line.isEmpty {
            guard let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else {
                throw ModelError("\(path):\(i + 1): not a JSON object")
            }
            if columns.isEmpty { columns = Self.columns.filter { object[$0] != nil } + object.keys.filter { !Self.columns.contains($0) }.sorted() }
            guard object["step"] != nil else { throw ModelError("\(path):\(i + 1): no step, not a training log") }
            rows.append(try columns.map { c in
                switch object[c] {
                case nil, is NSNull: return nil
                case let n as NSNumber: return n.doubleValue
                case let s as String: return try number(Substring(s), line: i + 1)
                default: throw ModelError("\(path):\(i + 1): \(c) is not a number")
                }
            })
        }
        return (columns, rows)
    }
}
