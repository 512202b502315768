import Foundation

/// How `finch test` decides that a replayed output matches the recorded one: both are
/// sanitized (times, speeds and memory sizes cannot repeat), then compared with numbers
/// within a relative tolerance and everything else exactly.
public struct OutputComparison: Sendable {
    /// Relative tolerance for numbers written with a decimal point or exponent; integers compare exactly.
    public var rtol: Double
    /// Absolute slack for numbers near zero.
    public var atol: Double = 1e-6
    /// Regular expressions whose matches are replaced by `<…>` on both sides.
    public var sanitizers: [NSRegularExpression]

    /// What cannot repeat from run to run: durations, clock times, speeds, memory sizes.
    public static let builtInSanitizers = [
        #"\b\d+(\.\d+)?\s?(tokens|tok|examples|requests|items|steps|it|samples)/s\b"#,
        #"\b\d+(\.\d+)?\s?(ms|s|sec|seconds|min|minutes)\b"#,
        #"\b\d+:\d\d(:\d\d)?\b"#,
        #"\b\d+(\.\d+)?\s?(KB|MB|GB|KiB|MiB|GiB)\b"#,
    ]

    public init(rtol: Double = 1e-2, extraSanitizers: [String] = []) throws {
        self.rtol = rtol
        sanitizers = try (Self.builtInSanitizers + extraSanitizers).map { try NSRegularExpression(pattern: $0) }
    }

    public func sanitize(_ text: String) -> String {
        var s = text
        for r in sanitizers {
            s = r.stringByReplacingMatches(in: s, range: NSRange(s.startIndex..., in: s), withTemplate: "<…>")
        }
        return s
    }

    /// Whether two lines agree: the same text around the numbers, the numbers within tolerance.
    /// Trailing whitespace does not count: editors strip it from Markdown files.
    public func matches(_ recorded: String, _ replayed: String) -> Bool {
        agree(comparable(recorded), comparable(replayed))
    }

    /// A line as it is compared: trailing space dropped, sanitized, cut into text and numbers.
    func comparable(_ line: String) -> [Piece] { Self.pieces(sanitize(Self.trimmingTrailingSpace(line))) }

    func agree(_ a: [Piece], _ b: [Piece]) -> Bool {
        guard a.count == b.count else { return false }
        for (x, y) in zip(a, b) {
            switch (x, y) {
            case (.text(let s), .text(let t)): if s != t { return false }
            case (.number(let m, let p), .number(let n, let q)):
                if !Self.isDecimal(p) && !Self.isDecimal(q) {
                    if m != n { return false }
                } else if !(abs(m - n) <= atol + rtol * max(abs(m), abs(n))) {
                    return false
                }
            default: return false
            }
        }
        return true
    }

    static func trimmingTrailingSpace(_ s: String) -> String {
        var t = Substring(s)
        while let last = t.last, last == " " || last == "\t" { t = t.dropLast() }
        return String(t)
    }

    static func isDecimal(_ s: String) -> Bool { s.contains(".") || s.contains("e") || s.contains("E") }

    enum Piece: Equatable { case text(String), number(Double, String) }

    static let numberPattern = try! NSRegularExpression(pattern: #"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?"#)

    static func pieces(_ s: String) -> [Piece] {
        var out: [Piece] = [], last = s.startIndex
        for m in numberPattern.matches(in: s, range: NSRange(s.startIndex..., in: s)) {
            let r = Range(m.range, in: s)!
            if last < r.lowerBound { out.append(.text(String(s[last..<r.lowerBound]))) }
            let t = String(s[r])
            out.append(.number(Double(t) ?? .nan, t))
            last = r.upperBound
        }
        if last < s.endIndex { out.append(.text(String(s[last...]))) }
        return out
    }

    /// The lines of both outputs, paired by a longest common subsequence of matching lines:
    /// nil when they match, otherwise a diff (`-` recorded, `+` replayed, two lines of context).
    public func diff(recorded: String, replayed: String) -> String? {
        var a = recorded.components(separatedBy: "\n"), b = replayed.components(separatedBy: "\n")
        if a.last == "" { a.removeLast() }
        if b.last == "" { b.removeLast() }
        // Each line is sanitized once; the table below compares every pair.
        let pa = a.map(comparable), pb = b.map(comparable)
        let n = a.count, m = b.count
        var lcs = [[Int]](repeating: [Int](repeating: 0, count: m + 1), count: n + 1)
        for i in stride(from: n - 1, through: 0, by: -1) {
            for j in stride(from: m - 1, through: 0, by: -1) {
                lcs[i][j] = agree(pa[i], pb[j]) ? lcs[i + 1][j + 1] + 1 : max(lcs[i + 1][j], lcs[i][j + 1])
            }
        }
        var ops: [(Character, String)] = []
        var i = 0, j = 0
        while i < n || j < m {
            if i < n, j < m, agree(pa[i], pb[j]) { ops.append((" ", b[j])); i += 1; j += 1 }
            else if i < n, j == m || lcs[i + 1][j] >= lcs[i][j + 1] { ops.append(("-", a[i])); i += 1 }
            else { ops.append(("+", b[j])); j += 1 }
        }
        guard ops.contains(where: { $0.0 != " " }) else { return nil }
        var keep = Set<Int>()
        for (k, op) in ops.enumerated() where op.0 != " " { for c in max(0, k - 2)...min(ops.count - 1, k + 2) { keep.insert(c) } }
        var out: [String] = [], skipped = false
        for (k, op) in ops.enumerated() {
            if keep.contains(k) { out.append("\(op.0) \(op.1)"); skipped = false } else if !skipped { out.append("  ..."); skipped = true }
        }
        return out.joined(separator: "\n")
    }
}
