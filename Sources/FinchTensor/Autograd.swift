import Synchronization

/// Where an input's gradient goes: on to the node that computed it, into a leaf's `grad`,
/// or nowhere (an input that tracks no gradient).
enum Edge {
    case node(Node)
    case leaf(Tensor)
    case none
}

/// One recorded operation on the tape: where its inputs came from and how to turn the
/// gradient of its output into gradients of those inputs. Nodes are numbered in the
/// order they ran, so replaying them in reverse order is a valid backward pass.
///
/// A node holds its inputs' producers, not the inputs themselves (as PyTorch's grad_fn
/// does): an intermediate tensor's memory is freed as soon as no backward closure needs
/// its values — the q, k, v before rotation, residual sums and the like cost nothing.
final class Node {
    let edges: [Edge]
    /// Each input's shape, to check the gradients a backward returns.
    let shapes: [[Int]]
    /// (gradient of the output, which inputs need a gradient) -> gradient per input.
    let backward: (Tensor, [Bool]) throws -> [Tensor?]
    let sequence: Int
    let name: String

    private static let counter = Atomic<Int>(0)

    init(name: String, inputs: [Tensor], backward: @escaping (Tensor, [Bool]) throws -> [Tensor?]) {
        self.name = name
        self.edges = inputs.map { t in
            if let n = t.node { return .node(n) }
            return t.requiresGrad ? .leaf(t) : .none
        }
        self.shapes = inputs.map(\.shape)
        self.backward = backward
        self.sequence = Node.counter.add(1, ordering: .relaxed).newValue
    }

    /// Which inputs need a gradient.
    var needs: [Bool] { edges.map { if case .none = $0 { return false }; return true } }
}

/// Whether operations record themselves for backward. Task-local, so a
/// `noGrad` scope in one task (or test) never switches recording off in another.
public enum GradMode {
    @TaskLocal static var enabled = true

    /// Whether operations are being recorded now.
    public static var isEnabled: Bool { enabled }

    /// Whether this forward pass is one whose gradients will be taken: recorded now, or run by a
    /// gradient checkpoint that records it again in the backward pass (where training-only behaviour
    /// such as dropout must happen in both runs alike).
    public static var takesGradients: Bool { enabled || insideCheckpoint }
    @TaskLocal static var insideCheckpoint = false

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
            for case .node(let m) in n.edges { stack.append(m) }
        }
        order.sort { $0.sequence > $1.sequence }

        var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(root): seed]
        try GradMode.noGrad {
            for n in order {
                guard let g = grads.removeValue(forKey: ObjectIdentifier(n)) else { continue }
                let inputGrads = try n.backward(g, n.needs)
                for (i, ig) in inputGrads.enumerated() {
                    guard let ig else { continue }
                    guard ig.shape == n.shapes[i] else {
                        throw TensorError.shapeMismatch(op: "backward of \(n.name)", n.shapes[i].shapeText, ig.shape.shapeText)
                    }
                    switch n.edges[i] {
                    case .none: continue
                    case .node(let m):
                        let key = ObjectIdentifier(m)
                        grads[key] = try grads[key].map { try $0.adding(ig) } ?? ig
                    case .leaf(let input):
                        if input.grad == nil { input.grad = try ig.contiguousNoGrad() } else { try input.accumulateGrad(ig) }
                    }
                }
            }
        }
        if !retainGraph { node = nil }
    }
}

extension Tensor {
    /// Gradient checkpointing: `body(x)` runs without recording, so none of what it computes is kept,
    /// and the backward pass runs it again, recording, to get the gradients of `x` and of `parameters`
    /// (the trainable tensors `body` reads, whose gradients accumulate as usual). Memory then holds
    /// `x` instead of every activation inside `body`, for the price of a second forward pass. `body`
    /// must compute the same values both times (the caller replays any random draws).
    public static func checkpoint(_ x: Tensor, parameters: [Tensor], _ body: @escaping (Tensor) throws -> Tensor) throws -> Tensor {
        let trainable = parameters.filter(\.requiresGrad)
        guard GradMode.enabled, x.requiresGrad || !trainable.isEmpty else { return try body(x) }
        let out = try GradMode.$insideCheckpoint.withValue(true) { try GradMode.noGrad { try body(x) } }
        return out.recorded("checkpoint", [x] + trainable) { g, needs in
            let input = x.detached()
            input.requiresGrad = needs[0]
            let y = try GradMode.$enabled.withValue(true) { try body(input) }
            // The inner pass accumulates into the parameters' gradients itself.
            if y.node != nil { try y.backward(g) }
            return [needs[0] ? try input.grad ?? Tensor.zeros(x.shape) : nil] + trainable.map { _ in nil }
        }
    }
}
