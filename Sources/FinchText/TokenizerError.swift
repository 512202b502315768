/// A tokenizer file or argument that cannot be used, with what is wrong and where.
public struct TokenizerError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
