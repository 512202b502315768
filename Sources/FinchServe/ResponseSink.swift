import FinchData
import Synchronization

/// Where an answer goes: a whole JSON response, or server-sent events. The HTTP handler
/// implements it over a connection; tests collect what is sent. Safe to call from any thread.
protocol ResponseSink: AnyObject, Sendable {
    func respond(status: Int, json: DataValue)
    /// Sends the headers of an event stream.
    func startEvents()
    /// Sends `data: <json>` and a blank line.
    func event(_ json: DataValue)
    /// Sends `data: [DONE]` and ends the response.
    func endEvents()
}

extension ResponseSink {
    func fail(_ error: ServeError) { respond(status: error.status, json: error.json) }
}

extension ServeError {
    /// OpenAI's error object.
    var json: DataValue {
        .object([.init("error", .object([
            .init("message", .string(message)), .init("type", .string(type)),
            .init("param", param.map(DataValue.string) ?? .null), .init("code", .null),
        ]))])
    }
}

/// An object from name/value pairs, in order.
func object(_ pairs: KeyValuePairs<String, DataValue>) -> DataValue {
    .object(pairs.map { DataValue.Field($0.key, $0.value) })
}

func number(_ n: Int) -> DataValue { .number(Double(n)) }
func number(_ x: Float) -> DataValue { .number(Double(x)) }

/// Counts a generation request as answered just before its last bytes go out, so that a client
/// holding its answer never sees a count that leaves it out.
final class CountingSink: ResponseSink {
    /// A count shared by every request's sink.
    final class Counter: Sendable {
        private let value = Atomic<Int>(0)
        func add() { value.add(1, ordering: .relaxed) }
        var count: Int { value.load(ordering: .relaxed) }
    }

    private let sink: ResponseSink
    private let counter: Counter

    init(_ sink: ResponseSink, _ counter: Counter) {
        self.sink = sink
        self.counter = counter
    }

    func respond(status: Int, json: DataValue) {
        counter.add()
        sink.respond(status: status, json: json)
    }

    func startEvents() { sink.startEvents() }
    func event(_ json: DataValue) { sink.event(json) }

    func endEvents() {
        counter.add()
        sink.endEvents()
    }
}
