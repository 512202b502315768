@preconcurrency import CGnuplot

/// A failure reported by gnuplot or by the pipe to it.
public struct PlotError: Error, CustomStringConvertible, Equatable {
    /// What kind of failure (see CGnuplot.h): gnuplot missing, cannot start, write failed, gnuplot
    /// reported an error; or, before gnuplot starts, a figure with nothing to draw.
    public enum Kind: Int32, Sendable { case missing = 1, spawn = 2, write = 3, gnuplot = 4, empty = 5, other = 99 }
    public let kind: Kind
    public let message: String
    public var description: String { message }

    init(_ error: finch_gnuplot_error) {
        var e = error
        kind = Kind(rawValue: e.code) ?? .other
        message = withUnsafeBytes(of: &e.message) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
    }
}

/// One gnuplot process, driven through CGnuplot's C API. Send commands and
/// data, then `finish()` to wait for the figure and learn whether gnuplot
/// accepted the script.
public final class Gnuplot {
    private let handle: OpaquePointer

    /// Starts gnuplot; with `captureOutput`, what it prints (dumb terminal) is returned by finish().
    public init(executable: String? = nil, captureOutput: Bool = true) throws {
        var error = finch_gnuplot_error()
        guard let h = finch_gnuplot_open(executable, captureOutput ? 1 : 0, &error) else { throw PlotError(error) }
        handle = h
    }

    deinit { finch_gnuplot_free(handle) }

    /// Sends one line of gnuplot script.
    public func command(_ line: String) throws {
        var error = finch_gnuplot_error()
        if finch_gnuplot_command(handle, line, &error) != 0 { throw PlotError(error) }
    }

    /// Sets the terminal ("dumb size 80,24", "pngcairo size 800,500", "svg") and the output file (nil: captured stdout).
    public func setOutput(terminal: String, path: String?) throws {
        var error = finch_gnuplot_error()
        if finch_gnuplot_set_output(handle, terminal, path, &error) != 0 { throw PlotError(error) }
    }

    /// Sends one inline data block for a `plot '-'` clause.
    public func sendSeries(x: [Double], y: [Double]) throws {
        precondition(x.count == y.count, "series needs as many x as y values")
        var error = finch_gnuplot_error()
        if finch_gnuplot_send_series(handle, x, y, x.count, &error) != 0 { throw PlotError(error) }
    }

    /// Ends the script, waits for gnuplot, and returns what it printed.
    @discardableResult
    public func finish() throws -> String {
        var error = finch_gnuplot_error()
        let rc = finch_gnuplot_finish(handle, &error)
        if rc != 0 { throw PlotError(error) }
        return String(cString: finch_gnuplot_stdout(handle))
    }
}

extension PlotError {
    init(kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }
}
