import CZMQ
import FinchLang
import Foundation
import Synchronization

/// A Jupyter kernel for Finch: the messaging protocol (5.3) on ZeroMQ's five sockets. Shell
/// requests run on the thread that calls `run()`, one at a time as Jupyter expects; control
/// requests (interrupt, shutdown) and the heartbeat each have a thread of their own, so they
/// are answered while a cell runs.
public final class JupyterKernel: @unchecked Sendable {
    let connection: ConnectionInfo
    let signer: MessageSigner
    let context: ZMQContext
    let shell: ZMQSocket, control: ZMQSocket, iopub: ZMQSocket, stdin: ZMQSocket, heartbeat: ZMQSocket
    let session = UUID().uuidString.lowercased()
    let executor: CellExecutor
    /// IOPub is published on by the shell and control threads.
    private let iopubLock = NSLock()
    private let stopping = Atomic<Bool>(false)
    /// Whether the shutdown asked for a restart (the client starts a new process either way).
    private(set) var restart = false
    /// Where a rejected message is reported (standard error; Jupyter shows it in its log).
    var log: (String) -> Void = { FileHandle.standardError.write(Data(("finch kernel: " + $0 + "\n").utf8)) }

    /// Binds the sockets the connection file names.
    public init(connectionFile: String, interpreter: Interpreter) throws {
        connection = try ConnectionInfo.read(connectionFile)
        signer = try MessageSigner(key: connection.key, scheme: connection.signatureScheme)
        context = try ZMQContext()
        shell = try ZMQSocket(context, type: ZMQ_ROUTER)
        control = try ZMQSocket(context, type: ZMQ_ROUTER)
        stdin = try ZMQSocket(context, type: ZMQ_ROUTER)
        iopub = try ZMQSocket(context, type: ZMQ_PUB)
        heartbeat = try ZMQSocket(context, type: ZMQ_REP)
        for (socket, port) in [(shell, connection.shellPort), (control, connection.controlPort), (stdin, connection.stdinPort),
                               (iopub, connection.iopubPort), (heartbeat, connection.hbPort)] {
            try socket.bind(connection.endpoint(port))
        }
        executor = CellExecutor(interpreter: interpreter)
    }

    /// Serves until a shutdown request; returns then (the caller exits).
    public func run() throws {
        Thread { [self] in beat() }.start()
        let controlDone = DispatchSemaphore(value: 0)
        Thread { [self] in serve(control, isControl: true); controlDone.signal() }.start()
        publishStatus("starting", parent: nil)
        serve(shell, isControl: false)
        controlDone.wait()
        for s in [shell, control, stdin, iopub, heartbeat] { s.close() }
        context.shutdown()
    }

    /// The heartbeat: every ping comes straight back.
    private func beat() {
        while !stopping.load(ordering: .relaxed) {
            do {
                if let frames = try heartbeat.receive(timeoutMilliseconds: 100) { try heartbeat.send(frames) }
            } catch {
                return
            }
        }
    }

    /// Reads requests from a ROUTER socket until shutdown; a message that cannot be read is
    /// logged and dropped, never fatal.
    private func serve(_ socket: ZMQSocket, isControl: Bool) {
        while !stopping.load(ordering: .relaxed) {
            let frames: [Data]
            do {
                guard let f = try socket.receive(timeoutMilliseconds: 100) else { continue }
                frames = f
            } catch {
                log("\(error)")
                return
            }
            let request: JupyterMessage
            do { request = try JupyterMessage(frames: frames, signer: signer) } catch {
                log("rejected a message on \(isControl ? "control" : "shell"): \(error)")
                continue
            }
            publishStatus("busy", parent: request)
            handle(request, on: socket)
            publishStatus("idle", parent: request)
        }
    }

    private func handle(_ request: JupyterMessage, on socket: ZMQSocket) {
        let c = request.content
        switch request.type {
        case "kernel_info_request":
            reply(request, on: socket, "kernel_info_reply", KernelInfo.content)
        case "execute_request":
            execute(request, on: socket)
        case "is_complete_request":
            reply(request, on: socket, "is_complete_reply", executor.isComplete(c["code"] as? String ?? ""))
        case "complete_request":
            let code = c["code"] as? String ?? ""
            reply(request, on: socket, "complete_reply", executor.complete(code, cursor: c["cursor_pos"] as? Int ?? code.unicodeScalars.count))
        case "inspect_request":
            let code = c["code"] as? String ?? ""
            reply(request, on: socket, "inspect_reply", executor.inspect(code, cursor: c["cursor_pos"] as? Int ?? code.unicodeScalars.count))
        case "history_request":
            reply(request, on: socket, "history_reply", ["status": "ok", "history": executor.history.map { [0, $0.count, $0.code] as [Any] }])
        case "comm_info_request":
            reply(request, on: socket, "comm_info_reply", ["status": "ok", "comms": JSONObject()])
        case "interrupt_request":
            Interrupt.request()
            reply(request, on: socket, "interrupt_reply", ["status": "ok"])
        case "shutdown_request":
            restart = c["restart"] as? Bool ?? false
            reply(request, on: socket, "shutdown_reply", ["status": "ok", "restart": restart])
            Interrupt.request()  // a cell still running stops as at Ctrl-C
            stopping.store(true, ordering: .relaxed)
        default:
            log("ignored a \(request.type) message (not a request this kernel knows)")
        }
    }

    /// execute_request: the input echoed on IOPub, the cell's output streamed as it comes, its
    /// value as execute_result, an error as `error`; then the reply.
    private func execute(_ request: JupyterMessage, on socket: ZMQSocket) {
        let code = request.content["code"] as? String ?? ""
        let silent = request.content["silent"] as? Bool ?? false
        let store = (request.content["store_history"] as? Bool ?? true) && !silent
        let count = executor.nextCount(storing: store)
        if !silent { publish("execute_input", ["code": code, "execution_count": count], parent: request) }
        let outcome = executor.run(code, count: count, store: store) { [self] event in
            guard !silent else { return }
            switch event {
            case .stream(let text): publish("stream", ["name": "stdout", "text": text], parent: request)
            case .display(let data): publish("display_data", ["data": data, "metadata": JSONObject(), "transient": JSONObject()], parent: request)
            case .live(let id, let data, let update):
                publish(update ? "update_display_data" : "display_data",
                        ["data": data, "metadata": JSONObject(), "transient": ["display_id": id]], parent: request)
            }
        }
        switch outcome {
        case .value(let data):
            if !silent, let data { publish("execute_result", ["execution_count": count, "data": data, "metadata": JSONObject()], parent: request) }
            reply(request, on: socket, "execute_reply", ["status": "ok", "execution_count": count, "user_expressions": JSONObject(), "payload": [Any]()])
        case .error(let name, let value, let traceback):
            let error: JSONObject = ["ename": name, "evalue": value, "traceback": traceback]
            if !silent { publish("error", error, parent: request) }
            reply(request, on: socket, "execute_reply", error.merging(["status": "error", "execution_count": count]) { $1 })
        }
    }

    private func reply(_ request: JupyterMessage, on socket: ZMQSocket, _ type: String, _ content: JSONObject) {
        let message = JupyterMessage(type: type, session: session, content: content, parent: request)
        do { try socket.send(message.frames(signer: signer)) } catch { log("could not send \(type): \(error)") }
    }

    func publish(_ type: String, _ content: JSONObject, parent: JupyterMessage?) {
        var message = JupyterMessage(type: type, session: session, content: content, parent: parent)
        message.identities = [Data(type.utf8)]  // IOPub's topic
        iopubLock.lock()
        defer { iopubLock.unlock() }
        do { try iopub.send(message.frames(signer: signer)) } catch { log("could not publish \(type): \(error)") }
    }

    private func publishStatus(_ state: String, parent: JupyterMessage?) {
        publish("status", ["execution_state": state], parent: parent)
    }
}
