/// A chart to draw: its kind, its labels and its data, independent of where it goes.
public struct Figure: Sendable {
    /// How the series are drawn.
    public enum Kind: Sendable, Equatable {
        /// Connected points (loss curves).
        case lines
        /// Unconnected points.
        case scatter
        /// Counts of each series' values in `bins` equal-width bins over their common range.
        case histogram(bins: Int)
        /// One bar per category (the series' x are indices into `categories`), series side by side.
        case bars
    }

    /// One named set of points.
    public struct Series: Sendable {
        public var name: String
        public var x: [Double]
        public var y: [Double]
        /// Drawn thin and pale behind the others (the raw curve under a smoothed one).
        public var faint: Bool

        public init(name: String, x: [Double], y: [Double], faint: Bool = false) {
            precondition(x.count == y.count, "a series needs as many x as y values")
            self.name = name
            self.x = x
            self.y = y
            self.faint = faint
        }

        /// y against 1, 2, 3, ...
        public init(name: String, y: [Double]) {
            self.init(name: name, x: y.indices.map { Double($0 + 1) }, y: y)
        }
    }

    public var kind: Kind
    public var title: String
    public var xlabel: String
    public var ylabel: String
    public var series: [Series]
    /// Category names of a bar chart, in order.
    public var categories: [String] = []
    public var logX = false
    public var logY = false
    /// Whether the legend is shown (by default when there is more than one series to tell apart).
    public var legend: Bool?
    /// Lines only: draw each series' moving average over this many points, the raw curve faint behind it.
    public var smooth = 1

    public init(_ kind: Kind = .lines, title: String = "", xlabel: String = "", ylabel: String = "", series: [Series] = []) {
        self.kind = kind
        self.title = title
        self.xlabel = xlabel
        self.ylabel = ylabel
        self.series = series
    }

    /// Where a figure goes. Sizes are characters for `dumb`, pixels for files.
    public enum Output: Sendable, Equatable {
        case dumb(width: Int, height: Int)
        case png(path: String, width: Int, height: Int)
        case svg(path: String, width: Int, height: Int)

        /// The file written, if any.
        public var path: String? {
            switch self {
            case .dumb: nil
            case let .png(path, _, _), let .svg(path, _, _): path
            }
        }

        /// A file output chosen by the path's extension (.png or .svg), or nil for any other.
        public static func file(_ path: String, width: Int = 800, height: Int = 500) -> Output? {
            let lower = path.lowercased()
            if lower.hasSuffix(".png") { return .png(path: path, width: width, height: height) }
            if lower.hasSuffix(".svg") { return .svg(path: path, width: width, height: height) }
            return nil
        }
    }
}

/// The moving average of `values` over `window` points (fewer at the start), the usual
/// smoothing of a noisy loss curve: point i is the mean of points max(0, i-window+1)...i.
public func movingAverage(_ values: [Double], window: Int) -> [Double] {
    guard window > 1 else { return values }
    var out: [Double] = []
    out.reserveCapacity(values.count)
    var sum = 0.0
    for i in values.indices {
        sum += values[i]
        if i >= window { sum -= values[i - window] }
        out.append(sum / Double(min(i + 1, window)))
    }
    return out
}
