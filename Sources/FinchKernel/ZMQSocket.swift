import CZMQ
import Foundation

/// A failed ZeroMQ call, with what was being done and libzmq's reason.
public struct ZMQError: Error, CustomStringConvertible {
    public let description: String
    init(_ what: String) { description = "\(what): \(String(cString: zmq_strerror(zmq_errno())))" }
}

/// One ZeroMQ context per kernel: it owns the I/O thread every socket shares.
final class ZMQContext: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer

    init() throws {
        guard let h = zmq_ctx_new() else { throw ZMQError("zmq_ctx_new") }
        handle = h
    }

    /// Ends the context; sockets still open make their blocked calls return ETERM.
    func shutdown() { zmq_ctx_shutdown(handle) }

    deinit { zmq_ctx_term(handle) }
}

/// A ZeroMQ socket sending and receiving multipart messages (a Jupyter message is one).
/// A socket belongs to one thread at a time; IOPub, which several threads publish on, is
/// guarded by its own lock in the kernel.
final class ZMQSocket: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer

    init(_ context: ZMQContext, type: Int32) throws {
        guard let h = zmq_socket(context.handle, type) else { throw ZMQError("zmq_socket") }
        handle = h
        var linger: Int32 = 1000  // at close, give unsent replies a second, then drop them
        zmq_setsockopt(handle, ZMQ_LINGER, &linger, MemoryLayout<Int32>.size)
    }

    /// Binds to `endpoint` ("tcp://127.0.0.1:5555"); port 0 is not used: Jupyter names the ports.
    func bind(_ endpoint: String) throws {
        guard zmq_bind(handle, endpoint) == 0 else { throw ZMQError("cannot listen on \(endpoint)") }
    }

    func close() { zmq_close(handle) }

    /// Sends the frames as one multipart message.
    func send(_ frames: [Data]) throws {
        for (i, frame) in frames.enumerated() {
            let flags = i < frames.count - 1 ? ZMQ_SNDMORE : 0
            var rc: Int32
            repeat { rc = frame.withUnsafeBytes { zmq_send(handle, $0.baseAddress, frame.count, flags) } } while rc < 0 && zmq_errno() == EINTR
            guard rc >= 0 else { throw ZMQError("zmq_send") }
        }
    }

    /// Waits for a multipart message (up to `timeoutMilliseconds`, or for ever with -1); nil
    /// when none came in time. Throws when the context has been shut down.
    func receive(timeoutMilliseconds: Int = -1) throws -> [Data]? {
        var item = zmq_pollitem_t(socket: handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0)
        let ready = zmq_poll(&item, 1, timeoutMilliseconds)
        // A signal (Jupyter's interrupt is SIGINT) cuts a wait short: nothing came, wait again.
        if ready < 0 && zmq_errno() == EINTR { return nil }
        guard ready >= 0 else { throw ZMQError("zmq_poll") }
        if ready == 0 { return nil }
        var frames: [Data] = []
        while true {
            var message = zmq_msg_t()
            zmq_msg_init(&message)
            defer { zmq_msg_close(&message) }
            var rc = zmq_msg_recv(&message, handle, 0)
            while rc < 0 && zmq_errno() == EINTR { rc = zmq_msg_recv(&message, handle, 0) }
            guard rc >= 0 else { throw ZMQError("zmq_msg_recv") }
            frames.append(Data(bytes: zmq_msg_data(&message), count: zmq_msg_size(&message)))
            if zmq_msg_more(&message) == 0 { return frames }
        }
    }
}
