import FinchPlot
import Foundation
import Testing

/// The gnuplot bridge draws real figures and reports failures as errors.
@Suite struct GnuplotTests {
    @Test func gnuplotErrorsComeBackWithTheirMessage() throws {
        let gp = try Gnuplot()
        try gp.setOutput(terminal: "dumb", path: nil)
        try gp.command("plot sin(x) with nonsense")
        do {
            try gp.finish()
            Issue.record("a bad script was accepted")
        } catch let error as PlotError {
            #expect(error.kind == .gnuplot)
            #expect(error.message.contains("nonsense"))
        }
    }

    @Test func missingGnuplotNamesThePackages() throws {
        do {
            _ = try Gnuplot(executable: "gnuplot-that-is-not-installed")
            Issue.record("a missing gnuplot was started")
        } catch let error as PlotError {
            #expect(error.kind == .missing)
            #expect(error.message.contains("apt-get install gnuplot-nox libgnuplot-iostream-dev"))
            #expect(error.message.contains("make setup"))
        }
    }
}
