import FinchTensor

/// A tensor a file writer makes only when it writes it, so one is in memory at a time (a weight
/// kept in blocks is widened then). Its shape is known up front, for the file's header.
public struct DeferredTensor {
    public let shape: [Int]
    private let make: () throws -> Tensor

    public init(shape: [Int], _ make: @escaping () throws -> Tensor) {
        self.shape = shape
        self.make = make
    }

    /// A tensor already made.
    public init(_ tensor: Tensor) { self.init(shape: tensor.shape) { tensor } }

    public var count: Int { shape.reduce(1, *) }

    /// The values, checked against the shape the header declared for them: a different count of
    /// values would shift every tensor after it. `failure` turns the message into the file's error.
    func made(_ name: String, failure: (String) -> any Error) throws -> Tensor {
        let t = try make()
        guard t.shape == shape else { throw failure("\(name) came out \(t.shape), not the \(shape) its header declared") }
        return t
    }
}
