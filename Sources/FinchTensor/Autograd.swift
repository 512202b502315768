import Synchronization

/// One recorded operation on the tape: the inputs it read and how to turn the
/// gradient of its output into gradients of those inputs. Nodes are numbered
/// in the order they ran, so replaying them in reverse order is a valid
/// backward pass.
final class Node {
    let inputs: [Tensor]
    /// (gradient of the output, which inputs need a gradient) -> gradient per input.
    let backward: (Tensor, [Bool]) throws -> [Tensor?]
    let sequence: Int
    let name: String

    private static let counter = Atomic<Int>(0)

    init(name: String, inputs: [Tensor], backward: @escaping (Tensor, [Bool]) throws -> [Tensor?]) {
        self.name = name
        self.inputs = inputs
        self.backward = backward
        self.sequence = Node.counter.add(1, ordering: .relaxed).newValue
    }
}

/// Whether operations record themselves for backward. Task-local, so a
/// `noGrad` scope in one task (or test) never switches recording off in another.
public enum GradMode {
    @TaskLocal static var enabled = true

    /// Whether operations are being recorded now.
    public static var isEnabled: Bool { enabled }

    /// Runs `body` without recording operations (no graph, no gradients).
    public static func noGrad<T>(_ body: () throws -> T) rethrows -> T {
        try $enabled.withValue(false) { try body() }
    }
}

extension Tensor {
    /// Attaches a backward function to `out` when any input tracks gradients.
    @discardableResult
    func recorded(_ name: String, _ inputs: [Tensor], _ backward: @escaping (Tensor, [Bool]) throws -> [Tensor?]) -> Tensor {
        guard GradMode.enabled, inputs.contains(where: { $0.requiresGrad }) else { return self }
        node = Node(name: name, inputs: inputs, backward: backward)
        return self
    }

    /// Backpropagates from this tensor: a scalar, or any tensor with an explicit
    /// `gradient` of its shape. Leaves that require gradients accumulate into `grad`.
    /// The graph is released afterwards unless `retainGraph` is set.
    public func backward(_ gradient: Tensor? = nil, retainGraph: Bool = false) throws {
        guard let root = node else {
            throw TensorError.invalidArgument(op: "backward", "this tensor was not computed from anything that requires a gradient")
        }
        let seed: Tensor
        if let g = gradient {
            guard g.shape == shape else { throw TensorError.shapeMismatch(op: "backward", shape.shapeText, g.shape.shapeText) }
            seed = g
        } else {
            guard count == 1 else {
                throw TensorError.invalidArgument(op: "backward", "needs a gradient for a non-scalar tensor of shape \(shape.shapeText)")
            }
            seed = try Tensor.full(shape, 1)
        }

        // Collect the nodes reachable from the root; run them newest first.
        var seen = Set<ObjectIdentifier>()
        var order: [Node] = []
        var stack = [root]
        while let n = stack.popLast() {
            guard seen.insert(ObjectIdentifier(n)).inserted else { continue }
            order.append(n)
            for input in n.inputs { if let m = input.node { stack.append(m) } }
        }
        order.sort { $0.sequence > $1.sequence }

        var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(root): seed]
        try GradMode.noGrad {
            for n in order {
                guard let g = grads.removeValue(forKey: ObjectIdentifier(n)) else { continue }
                let needs = n.inputs.map { $0.requiresGrad }
                let inputGrads = try n.backward(g, needs)
                for (input, ig) in zip(n.inputs, inputGrads) {
                    guard let ig, input.requiresGrad else { continue }
                    guard ig.shape == input.shape else {
                        throw TensorError.shapeMismatch(op: "backward of \(n.name)", input.shape.shapeText, ig.shape.shapeText)
                    }
                    if let m = input.node {
                        let key = ObjectIdentifier(m)
                        grads[key] = try grads[key].map { try $0.adding(ig) } ?? ig
                    } else {
                        input.grad = try input.grad.map { try $0.adding(ig) } ?? ig.contiguousNoGrad()
                    }
                }
            }
        }
        if !retainGraph { node = nil }
    }
}
