import FinchIO
import Foundation
import Testing

/// `finch kernel` driven by Jupyter's own client: jupyter_client's KernelManager (pinned, in a
/// virtualenv under /tmp that scripts/client-venv.sh makes once) starts the installed kernelspec,
/// runs cells, asks for completions, help and history, interrupts a loop, sends bad messages,
/// restarts and shuts the kernel down (Tests/FinchKernelTests/kernel_client.py).
@Suite(.serialized) struct KernelProtocolTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let finch = repository.appendingPathComponent(".build/release/finch").path

    /// Jupyter's client packages (pinned), in a virtualenv under /tmp made once; its python.
    static func jupyterPython() throws -> String {
        let venv = try Spawn.output("/bin/sh", [repository.appendingPathComponent("scripts/client-venv.sh").path, "jupyter",
                                                "jupyter_client==8.10.0", "nbclient==0.11.0", "nbformat==5.11.1"])
        let python = try #require(venv.text.split(separator: "\n").last.map(String.init), "\(venv.text)")
        #expect(venv.status == 0 && python.hasSuffix("/bin/python"), "\(venv.text)")
        return python
    }

    @Test func jupyterClientSpeaksWithTheKernel() throws {
        let python = try Self.jupyterPython()

        let prefix = FileManager.default.temporaryDirectory.appendingPathComponent("finch-kernelspec-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: prefix) }
        let install = try Spawn.output(Self.finch, ["kernel", "install", "--prefix", prefix])
        #expect(install.status == 0 && install.text.contains("installed the Finch kernel in \(prefix)/share/jupyter/kernels/finch"), "\(install.text)")
        let spec = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: prefix + "/share/jupyter/kernels/finch/kernel.json"))) as? [String: Any])
        #expect(spec["argv"] as? [String] == [Self.finch, "kernel", "-f", "{connection_file}"] && spec["language"] as? String == "finch")

        let script = Self.repository.appendingPathComponent("Tests/FinchKernelTests/kernel_client.py").path
        let r = try Spawn.output(python, [script, prefix + "/share/jupyter"])
        #expect(r.status == 0, "\(r.text)")
        let line = r.text.split(separator: "\n").last.map(String.init) ?? ""
        let out = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(r.text)")

        #expect(out["kernel_info"] as? [String] == ["kernel_info_reply", "5.3", "finch", ".finch"])
        #expect(out["one_plus_one"] as? NSArray == ["ok", 1, ["2"], [1]] as NSArray)
        #expect(out["streams"] as? String == "hello\n2\n")
        #expect((out["no_result_for_nil"] as? [Any])?.isEmpty == true)
        let error = out["error"] as? [Any] ?? []
        #expect(error.first as? String == "error" && error.dropFirst().first as? String == "Error")
        #expect((error.dropFirst(2).first as? String)?.contains("missing_name") == true, "\(error)")
        let traceback = (error.last as? [String]) ?? []
        #expect(traceback.contains { $0.contains("^") } && traceback.contains { $0.contains("in f") || $0.contains("f(") }, "\(traceback)")
        #expect(out["is_complete"] as? [String] == ["complete", "incomplete", "invalid"])
        #expect(out["complete_global"] as? NSArray == [true, 0, 3] as NSArray)
        #expect(out["complete_member"] as? NSArray == [["push"], 2] as NSArray)
        #expect(out["complete_kwarg"] as? [String] == ["digits: "])
        #expect((out["inspect"] as? [Any])?.first as? Bool == true)
        #expect(out["inspect_missing"] as? Bool == false)
        #expect(out["history_has_print"] as? Bool == true)
        #expect(out["table_result_types"] as? [[String]] == [["text/html", "text/plain"]])
        let figure = (out["figure"] as? [[Any]])?.first
        #expect(figure?.first as? [String] == ["image/png", "text/plain"] && figure?.last as? String == "iVBORw0K", "\(out["figure"] ?? "")")
        #expect(out["interrupted"] as? [String] == ["error", "Interrupted"])
        #expect(out["after_interrupt"] as? [String] == ["true"])
        #expect(out["beating_after_interrupt"] as? Bool == true)
        #expect(out["control_after_interrupt"] as? NSArray == ["kernel_info_reply", true] as NSArray)
        let training = out["interrupted_training"] as? [Any] ?? []
        let steps = ((training.last as? [String])?.first).flatMap(Int.init) ?? 0
        #expect(training.first as? String == "ok" && steps > 0 && steps < 1_000_000, "\(training)")
        // Training's progress and curve update in place: the progress display ends with the lines
        // `finch run` prints (steps 1, 100, 200, 300), the curve is one display, a handful of messages in all.
        let live = out["live"] as? [String: Any] ?? [:]
        #expect(live["status"] as? String == "ok" && (live["streams"] as? [String])?.count == 1, "\(live)")
        #expect(live["displays"] as? [[String]] == [["text/plain"], ["image/png", "text/plain"]], "\(live)")
        #expect(live["progress"] as? [String] == ["step   1/300", "step 100/300", "step 200/300", "step 300/300"], "\(live)")
        #expect((live["updates"] as? Int ?? 0) >= 1 && (live["messages"] as? Int ?? 999) < 60, "\(live)")
        #expect(out["alive_after_bad_messages"] as? String == "kernel_info_reply")
        #expect(out["after_restart"] as? NSArray == [1, ["\"x1\""]] as NSArray)
        #expect(out["exited"] as? Bool == true)

        // The figures: start to kernel_info ≤ 0.5 s is the issue's; the test allows a loaded machine 4 s.
        let start = out["start_to_ready_s"] as? Double ?? .infinity, roundTrip = out["round_trip_median_ms"] as? Double ?? .infinity
        #expect(start < 4 && roundTrip < 50, "start \(start) s, 1 + 1 round trip \(roundTrip) ms")
        print("kernel start to ready: \(start) s; 1 + 1 round trip median: \(roundTrip) ms")
    }
}
