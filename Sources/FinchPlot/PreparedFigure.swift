/// A figure made ready to draw: what cannot be drawn taken out (and counted), histograms
/// binned, bars placed, smoothing applied. The script and the CSV are both made from this,
/// so the CSV holds exactly the data behind the picture.
struct PreparedFigure {
    enum Style { case line, faintLine, points, boxes(width: Double) }

    struct Drawn {
        var name: String
        var x: [Double]
        var y: [Double]
        var style: Style
    }

    var drawn: [Drawn] = []
    /// Bar charts: the category labels at their x positions.
    var xtics: [(label: String, x: Double)] = []
    /// What was left out and why, for the person reading the plot.
    var notes: [String] = []
    /// The CSV of the data: a header and rows.
    var csvHeader: [String] = []
    var csvRows: [[String]] = []

    var isEmpty: Bool { drawn.allSatisfy { $0.x.isEmpty } }

    init(_ f: Figure) {
        // Values a plot cannot show: NaN and infinities, and on a log axis zero and below.
        var skipped = 0, nonPositive = 0
        let clean: [Figure.Series] = f.series.map { s in
            var x: [Double] = [], y: [Double] = []
            for (a, b) in zip(s.x, s.y) {
                guard a.isFinite, b.isFinite else { skipped += 1; continue }
                if (f.logX && a <= 0) || (f.logY && b <= 0) { nonPositive += 1; continue }
                x.append(a); y.append(b)
            }
            return Figure.Series(name: s.name, x: x, y: y, faint: s.faint)
        }
        if skipped > 0 { notes.append("skipped \(skipped) NaN or infinite value\(skipped == 1 ? "" : "s")") }
        if nonPositive > 0 { notes.append("skipped \(nonPositive) value\(nonPositive == 1 ? "" : "s") ≤ 0 on the log scale") }

        let xName = f.xlabel.isEmpty ? "x" : f.xlabel, yName = f.ylabel.isEmpty ? "y" : f.ylabel
        switch f.kind {
        case .lines, .scatter:
            csvHeader = ["series", xName, yName]
            for s in clean {
                let style: Style = f.kind == .scatter ? .points : (s.faint ? .faintLine : .line)
                if f.kind == .lines, f.smooth > 1, s.y.count > 1 {
                    drawn.append(Drawn(name: s.name, x: s.x, y: s.y, style: .faintLine))
                    let avg = movingAverage(s.y, window: f.smooth)
                    drawn.append(Drawn(name: "\(s.name) (mean of \(f.smooth))", x: s.x, y: avg, style: .line))
                } else {
                    drawn.append(Drawn(name: s.name, x: s.x, y: s.y, style: style))
                }
            }
            for d in drawn { for (a, b) in zip(d.x, d.y) { csvRows.append([d.name, number(a), number(b)]) } }
        case let .histogram(bins):
            csvHeader = ["series", "bin_low", "bin_high", "count"]
            let all = clean.flatMap(\.y)
            guard let lo = all.min(), let hi = all.max() else { return }
            let n = max(1, bins)
            let width = hi > lo ? (hi - lo) / Double(n) : 1
            // Several series share the bins, their boxes side by side within each bin.
            let k = Double(max(1, clean.count))
            for (j, s) in clean.enumerated() {
                var counts = [Double](repeating: 0, count: n)
                for v in s.y {
                    // Clamped before it becomes an Int: for values near ±1.8e308, hi - lo overflows to inf
                    // and the position is inf / inf.
                    let position = (v - lo) / width
                    counts[position.isNaN ? n - 1 : Int(min(Double(n - 1), max(0, position)))] += 1
                }
                let centers = (0..<n).map { lo + width * (Double($0) + (Double(j) + 0.5) / k) }
                drawn.append(Drawn(name: s.name, x: centers, y: counts, style: .boxes(width: width / k)))
                for i in 0..<n {
                    csvRows.append([s.name, number(lo + width * Double(i)), number(lo + width * Double(i + 1)), number(counts[i])])
                }
            }
        case .bars:
            csvHeader = ["series", "category", "value"]
            let k = Double(max(1, clean.count))
            let width = 0.8 / k
            for (j, s) in clean.enumerated() {
                let x = s.x.map { $0 - 0.4 + width * (Double(j) + 0.5) }
                drawn.append(Drawn(name: s.name, x: x, y: s.y, style: .boxes(width: width)))
                for (c, v) in zip(s.x, s.y) {
                    let i = Int(c)
                    csvRows.append([s.name, f.categories.indices.contains(i) ? f.categories[i] : number(c), number(v)])
                }
            }
            xtics = f.categories.enumerated().map { ($0.element, Double($0.offset)) }
        }
    }
}

/// A number as the CSV and gnuplot read it: integers without a fraction, others in full precision.
func number(_ v: Double) -> String {
    if v == v.rounded(), abs(v) < 1e15 { return String(Int(v)) }
    return "\(v)"
}
