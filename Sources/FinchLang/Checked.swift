/// Numbers from Finch code or from a file turned into Swift integers and sizes without a
/// runtime trap: a value that does not fit is an error that names it, never a crash.
public enum Checked {
    /// The largest integer a Double holds exactly (2^53): beyond it, consecutive integers merge.
    static let exactLimit = 9_007_199_254_740_992.0

    /// `x` as an Int when it is a whole number a Double holds exactly, else nil (NaN, ±inf, fractions, |x| > 2^53).
    @inline(__always) public static func int(_ x: Double) -> Int? {
        x == x.rounded() && Swift.abs(x) <= exactLimit ? Int(x) : nil
    }

    /// `x` truncated toward zero, or an error when it is NaN, infinite or beyond 2^53.
    public static func truncated(_ x: Double, _ what: String) throws -> Int {
        guard x.isFinite, Swift.abs(x) <= exactLimit else { throw FinchError(.runtime, "\(what) must be a finite number below 2^53, got \(Value.format(x))") }
        return Int(x.rounded(.towardZero))
    }
}

extension Checked {
    /// An index into `count` items called `what` (negative ones count from the end), or an error:
    /// "row 9 is out of range for 3 rows".
    public static func position(_ v: Value, count: Int, what: String) throws -> Int {
        let (i, k) = try index(v, count: count, what: what)
        guard let i else { throw FinchError(.runtime, "\(what) \(k) is out of range for \(count) \(what)s") }
        return i
    }

    /// `v` as a whole number `k` (an error when it is not one) and its position among `count` items,
    /// nil when out of range: the check every index shares, each caller wording the range error.
    @inline(__always) static func index(_ v: Value, count: Int, what: String) throws -> (position: Int?, k: Int) {
        guard case .number(let x) = v, let k = int(x) else { throw FinchError(.runtime, "\(what) index must be an integer, got \(v.repr)") }
        let i = k < 0 ? k + count : k
        return (i >= 0 && i < count ? i : nil, k)
    }
}
