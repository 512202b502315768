import ArgumentParser
import FinchIO
import FinchKernel
import FinchLang
import Foundation

/// `finch kernel`: Finch as a Jupyter kernel. Jupyter starts it with a connection file
/// (`finch kernel -f {connection_file}`, as the kernelspec says); `finch kernel install` writes
/// that kernelspec.
struct Kernel: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run Finch as a Jupyter kernel (Jupyter starts it), or install its kernelspec.",
        discussion: """
        `finch kernel install --user` once, then choose "Finch" in JupyterLab, VS Code or nbclient.

        Examples:
          finch kernel install --user             for this user (~/.local/share/jupyter/kernels/finch)
          finch kernel install --prefix /tmp/env  into an environment's share/jupyter/kernels
          finch kernel -f connection.json         what Jupyter runs
        """,
        subcommands: [Install.self]
    )

    @Option(name: .shortAndLong, help: "The connection file Jupyter wrote (ports, key).") var file: String?

    func run() throws {
        guard let file else { throw ValidationError("finch kernel is started by Jupyter with -f CONNECTION_FILE; to set it up, run finch kernel install --user") }
        KernelInfo.finchVersion = FinchVersion.string
        // Jupyter interrupts with SIGINT (interrupt_mode signal), which the session takes as Ctrl-C.
        let interpreter = try Session.makeInterpreter()
        let kernel: JupyterKernel
        do { kernel = try JupyterKernel(connectionFile: file, interpreter: interpreter) } catch {
            throw ValidationError(String(describing: error))
        }
        try kernel.run()
    }

    struct Install: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write the Finch kernelspec where Jupyter looks for kernels.")

        @Flag(help: "For this user: ~/.local/share/jupyter/kernels/finch (the default).") var user = false
        @Option(help: "Into PREFIX/share/jupyter/kernels/finch (a virtualenv or conda environment).") var prefix: String?

        func validate() throws {
            if user && prefix != nil { throw ValidationError("choose --user or --prefix, not both") }
        }

        func run() throws {
            // Where Jupyter looks: PREFIX/share/jupyter, or the user's data directory.
            let environment = ProcessInfo.processInfo.environment
            let jupyter = prefix.map { $0 + "/share/jupyter" }
                ?? environment["XDG_DATA_HOME"].map { $0 + "/jupyter" }
                ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.local/share/jupyter"
            let directory = jupyter + "/kernels/finch"
            let executable = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try AtomicFile.write(KernelSpec.json(executable: executable), to: directory + "/kernel.json")
            print("installed the Finch kernel in \(directory)")
        }
    }
}
