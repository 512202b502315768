import ArgumentParser
import FinchModel
import FinchServe
import Foundation

/// `finch serve`: a model behind OpenAI's HTTP API, for any OpenAI client (the openai package,
/// lm-evaluation-harness's local-completions, chat front ends).
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a model over an OpenAI-compatible HTTP API (/v1/models, /v1/completions, /v1/chat/completions).",
        discussion: """
        Clients use http://HOST:PORT/v1 as their base URL and the model's name as `model`. Requests \
        are answered a token each in turn, so several clients share the CPU fairly. Ctrl-C stops the server.

        Examples:
          finch serve                                   SmolLM2-135M-Instruct as "smollm2-135m" on 127.0.0.1:8000
          finch serve tuned.gguf --port 8080            a saved model, as "tuned"
          finch serve --adapter docs=runs/docs-lora     the base and a LoRA adapter, as two models
        """
    )

    @Argument(help: "\"smollm2-135m\", a .gguf file or a Hugging Face directory.") var model = "smollm2-135m"
    @Option(help: "The name clients ask for (default: the file name without .gguf).") var name: String?
    @Option(help: ArgumentHelp("Also serve the base with a LoRA adapter (a PEFT folder or GGUF adapter file, as m.save_adapter writes them) as another model.", valueName: "name=path"))
    var adapter: [String] = []
    @Option(help: "Address to listen on; 0.0.0.0 is every interface (then set --api-key).") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0 picks a free one).") var port = 8000
    @Option(help: "Require Authorization: Bearer KEY on every request (or set FINCH_API_KEY).") var apiKey: String?
    @Option(help: "Decoding weights: q8_0 (fast), q4_1 (faster, coarser) or f32 (exact).") var weights = WeightFormat.q8_0

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0...65535, got \(port)") }
    }

    func run() throws {
        let server: OpenAIServer
        do {
            let served = try ServedModel.load(model: model, name: name, adapters: adapter, decodeWeights: weights)
            server = try OpenAIServer(models: served, apiKey: apiKey ?? ProcessInfo.processInfo.environment["FINCH_API_KEY"])
            try server.start(host: host, port: port)
        } catch let e as ModelError {
            throw ValidationError(e.description)
        }
        StopSignals.install { server.stop() }
        print("serving \(server.models.map(\.name).joined(separator: ", ")) at \(server.url) (Ctrl-C stops)")
        fflush(nil)
        try server.wait()
        print("stopped after \(server.requestsFinished) generation requests")
    }
}

/// SIGINT and SIGTERM stop the server cleanly (connections closed, the port freed): the handler
/// only writes a byte to a pipe, since little is safe inside a signal handler; a thread reading
/// the pipe does the stopping.
enum StopSignals {
    nonisolated(unsafe) private static var pipeFDs: [Int32] = [-1, -1]

    static func install(_ stop: @escaping @Sendable () -> Void) {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return }
        pipeFDs = fds
        for sig in [SIGINT, SIGTERM] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { _ in
                var byte: UInt8 = 1
                _ = write(StopSignals.pipeFDs[1], &byte, 1)
            }
            sigaction(sig, &action, nil)
        }
        // Whoever started us may have blocked them (the mask is inherited): take them on this thread.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        let reader = fds[0]
        Thread {
            var byte: UInt8 = 0
            while read(reader, &byte, 1) < 0 && errno == EINTR {}
            stop()
        }.start()
    }
}

/// `--weights q8_0|q4_1|f32`: ArgumentParser names the choices when the value is none of them.
extension WeightFormat: ExpressibleByArgument {}
