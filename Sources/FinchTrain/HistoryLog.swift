import FinchIO
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
            return v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(format: "%.6g", v)
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
