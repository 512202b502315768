import FinchText

/// A value in a dataset row, as JSON has them (objects keep their key order).
public enum DataValue: Sendable, Equatable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([DataValue])
    case object([Field])

    /// One named field of an object or a row.
    public struct Field: Sendable, Equatable, Hashable {
        public var name: String
        public var value: DataValue
        public init(_ name: String, _ value: DataValue) {
            self.name = name
            self.value = value
        }
    }

    public var string: String? { if case .string(let s) = self { return s }; return nil }

    /// The field of an object, if this is one and has it.
    public subscript(_ name: String) -> DataValue? {
        if case .object(let fields) = self { return fields.first { $0.name == name }?.value }
        return nil
    }

    /// The name of the kind of value, for messages.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    /// The value as a chat template reads it.
    public var jinja: JinjaValue {
        switch self {
        case .null: return .none
        case .bool(let b): return .bool(b)
        case .number(let n): return .number(n)
        case .string(let s): return .string(s)
        case .array(let a): return .list(a.map(\.jinja))
        case .object(let fields): return .dict(JinjaDict(fields.map { ($0.name, $0.value.jinja) }))
        }
    }

    /// Text for templates: strings as they are, numbers without a needless ".0", others as JSON.
    public var text: String {
        switch self {
        case .string(let s): return s
        case .number(let n): return JSONWriter.number(n)
        default: return JSONWriter.write(self)
        }
    }
}

/// What went wrong reading data, with where: file, line and column when known.
public struct DataError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
