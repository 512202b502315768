import Foundation

/// The kernelspec Jupyter reads to start Finch (kernel.json).
public enum KernelSpec {
    /// kernel.json for the finch executable at `executable`.
    public static func json(executable: String) throws -> String {
        let spec: JSONObject = [
            "argv": [executable, "kernel", "-f", "{connection_file}"],
            "display_name": "Finch",
            "language": "finch",
            "interrupt_mode": "signal",
            "metadata": ["debugger": false],
        ]
        let data = try JSONSerialization.data(withJSONObject: spec, options: [.prettyPrinted, .sortedKeys])
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
