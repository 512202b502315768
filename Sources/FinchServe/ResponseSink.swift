import FinchData

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
