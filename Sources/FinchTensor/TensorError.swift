import Foundation

/// What went wrong in a tensor operation, phrased for the person who called it.
public enum TensorError: Error, CustomStringConvertible, Equatable {
    /// Two shapes that an operation cannot combine.
    case shapeMismatch(op: String, String, String)
    /// A shape that an operation cannot accept, with the reason.
    case invalidShape(op: String, String)
    /// An index past the end of an axis.
    case indexOutOfRange(op: String, index: Int, size: Int)
    /// An axis that the tensor does not have.
    case axisOutOfRange(op: String, axis: Int, rank: Int)
    /// An allocation larger than the machine's memory.
    case outOfMemory(requestedGB: Double, availableGB: Double)
    /// A call that is not valid in this state (e.g. backward on a tensor without a graph).
    case invalidArgument(op: String, String)

    public var description: String {
        switch self {
        case let .shapeMismatch(op, a, b):
            return "\(op): shapes \(a) and \(b) do not match"
        case let .invalidShape(op, why):
            return "\(op): \(why)"
        case let .indexOutOfRange(op, index, size):
            return "\(op): index \(index) is out of range for size \(size)"
        case let .axisOutOfRange(op, axis, rank):
            return "\(op): axis \(axis) is out of range for a tensor of rank \(rank)"
        case let .outOfMemory(requested, available):
            return String(format: "cannot allocate %.2f GB: %.2f GB of memory is available", requested, available)
        case let .invalidArgument(op, why):
            return "\(op): \(why)"
        }
    }
}

extension Array where Element == Int {
    /// A shape written the way users read it: [2, 3].
    var shapeText: String { "[" + map(String.init).joined(separator: ", ") + "]" }
}
