import FinchLang
import FinchTensor

/// Tensors in the language: creation functions, the Tensor type's methods and
/// attributes, operators (+ - * / ** @ and comparisons, with numbers on
/// either side), indexing and slicing.
enum TensorBindings {
    /// Built once (Swift runs a static initializer exactly once, whatever the threads):
    /// registries made in parallel share it and never mutate it.
    static let type: NativeType = {
        let t = NativeType(name: "Tensor", doc: "An n-dimensional array of float32 with autograd. Create with tensor(), zeros(), randn() ...")
        defineType(t)
        return t
    }()

    static func wrap(_ t: Tensor) -> Value { .object(NativeObject(type: type, value: t)) }
    static func wrap(_ ts: [Tensor]) -> Value { .list(ts.map(wrap)) }

    static func register(in r: Registry) {
        r.section("Tensors")
        let shape = Param("shape", .oneOf([.int, .list]), doc: "an integer or a list of integers")
        r.register(NativeFunction("tensor", [Param("data", .any, doc: "a number, a (nested) list of numbers, or a tensor"),
                                             Param("requires_grad", .bool, default: .bool(false))], returns: "Tensor",
                                  doc: "A tensor holding the data; nested lists give its shape.",
                                  example: "tensor([[1, 2], [3, 4]])") { a in
            let t = try Convert.tensor(a["data"], "data")
            // A tensor argument is copied: the new tensor must not share (and later change) its storage.
            let fresh = try t.copy().detached()
            fresh.requiresGrad = a.bool("requires_grad")
            return wrap(fresh)
        })
        r.register(NativeFunction("zeros", [shape], returns: "Tensor", doc: "A tensor of zeros.", example: "zeros([2, 3])") { a in
            wrap(try Tensor.zeros(Convert.shape(a["shape"])))
        })
        r.register(NativeFunction("ones", [shape], returns: "Tensor", doc: "A tensor of ones.", example: "ones(3)") { a in
            wrap(try Tensor.ones(Convert.shape(a["shape"])))
        })
        r.register(NativeFunction("full", [shape, Param("value", .number)], returns: "Tensor", doc: "A tensor with every element `value`.",
                                  example: "full([2, 2], 7)") { a in wrap(try Tensor.full(Convert.shape(a["shape"]), Float(a.number("value")))) })
        r.register(NativeFunction("arange", [Param("start", .number), Param("end", .optional(.number), default: .nil),
                                             Param("step", .number, default: .number(1))], returns: "Tensor",
                                  doc: "start, start+step, ... below end; arange(n) is 0..n-1.", example: "arange(0, 1, step: 0.25)") { a in
            let (lo, hi) = a.optionalNumber("end").map { (a.number("start"), $0) } ?? (0, a.number("start"))
            return wrap(try Tensor.arange(Float(lo), Float(hi), step: Float(a.number("step"))))
        })
        r.register(NativeFunction("linspace", [Param("start", .number), Param("end", .number), Param("count", .int)], returns: "Tensor",
                                  doc: "`count` evenly spaced values from start to end, both included.", example: "linspace(0, 1, 5)") { a in
            wrap(try Tensor.linspace(Float(a.number("start")), Float(a.number("end")), count: a.int("count")))
        })
        r.register(NativeFunction("eye", [Param("n", .int)], returns: "Tensor", doc: "The n×n identity matrix.", example: "eye(3)") { a in
            wrap(try Tensor.eye(a.int("n")))
        })
        r.register(NativeFunction("rand", [shape], returns: "Tensor", doc: "Uniform random numbers in [0, 1) from the seeded generator (see seed).",
                                  example: "rand([2, 2])") { a in wrap(try Tensor.rand(Convert.shape(a["shape"]))) })
        r.register(NativeFunction("randn", [shape], returns: "Tensor", doc: "Standard normal random numbers from the seeded generator (see seed).",
                                  example: "randn([3])") { a in wrap(try Tensor.randn(Convert.shape(a["shape"]))) })
        r.register(NativeFunction("seed", [Param("n", .int)], doc: "Reseeds the generator behind rand and randn: same seed, same numbers, on every machine.",
                                  example: "seed(42)") { a in
            guard a.int("n") >= 0 else { throw a.error("the seed must be non-negative") }
            DefaultRNG.manualSeed(UInt64(a.int("n")))
            return .nil
        })
        r.register(NativeFunction("no_grad", [Param("body", .function)], returns: "any",
                                  doc: "Calls body() without recording operations for autograd (evaluation, weight updates).",
                                  example: "no_grad(fn() { w - 0.1 * w.grad })") { a in
            try GradMode.noGrad { try a.interpreter.call(a["body"], []) }
        })
        r.register(NativeFunction("matmul", [Param("a"), Param("b")], returns: "Tensor", doc: "Matrix product (also written a @ b); batch axes broadcast.",
                                  example: "matmul(eye(2), ones([2, 3]))") { a in
            wrap(try Convert.tensor(a["a"], "a").matmul(Convert.tensor(a["b"], "b")))
        })
        r.register(NativeFunction("concat", [Param("tensors", .list), Param("axis", .int, default: .number(0))], returns: "Tensor",
                                  doc: "Joins tensors along an existing axis.", example: "concat([ones([1, 2]), zeros([1, 2])])") { a in
            wrap(try Tensor.concat(a.list("tensors").map { try Convert.tensor($0, "each tensor") }, axis: a.int("axis")))
        })
        r.register(NativeFunction("stack", [Param("tensors", .list), Param("axis", .int, default: .number(0))], returns: "Tensor",
                                  doc: "Joins equally shaped tensors along a new axis.", example: "stack([ones(2), zeros(2)])") { a in
            wrap(try Tensor.stack(a.list("tensors").map { try Convert.tensor($0, "each tensor") }, axis: a.int("axis")))
        })
        r.register(NativeFunction("where", [Param("condition"), Param("a"), Param("b")], returns: "Tensor",
                                  doc: "Elements of a where condition is non-zero, else of b; all three broadcast.",
                                  example: "where(tensor([1, 0]), tensor([1, 2]), tensor([9, 9]))") { a in
            wrap(try Convert.tensor(a["condition"], "condition").where_(Convert.tensor(a["a"], "a"), Convert.tensor(a["b"], "b")))
        })
        r.register(NativeFunction("cross_entropy", [Param("logits", .object("Tensor")), Param("targets"),
                                                    Param("ignore_index", .int, default: .number(-100)),
                                                    Param("reduction", .string, default: .string("mean"), doc: "\"mean\" or \"sum\"")],
                                  returns: "Tensor",
                                  doc: "Cross-entropy of logits [..., C] against class ids [...]; positions equal to ignore_index count for nothing.",
                                  example: "cross_entropy(tensor([[2, 0.5, 0.1]]), [0])") { a in
            guard let reduction = Reduction(rawValue: a.string("reduction")) else { throw a.error("reduction must be \"mean\" or \"sum\", got \(Value.quote(a.string("reduction")))") }
            return wrap(try tensorArg(a, "logits").crossEntropy(Convert.tensor(a["targets"], "targets"), ignoreIndex: a.int("ignore_index"), reduction: reduction))
        })
        r.register(type)
    }

    static func tensorArg(_ a: Arguments, _ name: String) throws -> Tensor { try Convert.tensor(a[name]) }

    private static func defineType(_ t: NativeType) {
        let me = Param("self", .object("Tensor"))
        func method(_ name: String, _ params: [Param], _ doc: String, _ example: String, returns: String = "Tensor",
                    _ body: @escaping (Tensor, Arguments) throws -> Value) {
            t.method(NativeFunction(name, [me] + params, returns: returns, doc: doc, example: example) { a in
                try body(try tensorArg(a, "self"), a)
            })
        }
        func unary(_ name: String, _ doc: String, _ f: @escaping (Tensor) throws -> Tensor) {
            method(name, [], doc, "tensor([-1, 0, 2]).\(name)()") { x, _ in wrap(try f(x)) }
        }
        unary("exp", "e^x elementwise.") { try $0.exp() }
        unary("log", "Natural logarithm elementwise.") { try $0.log() }
        unary("sqrt", "Square root elementwise.") { try $0.sqrt() }
        unary("tanh", "Hyperbolic tangent elementwise.") { try $0.tanh() }
        unary("sigmoid", "1 / (1 + e^-x) elementwise.") { try $0.sigmoid() }
        unary("relu", "max(x, 0) elementwise.") { try $0.relu() }
        unary("gelu", "Gaussian error linear unit (exact erf form) elementwise.") { try $0.gelu() }
        unary("silu", "x·sigmoid(x) elementwise (SwiGLU's activation).") { try $0.silu() }
        unary("abs", "|x| elementwise.") { try $0.abs() }
        unary("detach", "The same values, cut from the autograd graph.") { $0.detached() }
        unary("contiguous", "A row-major copy when the tensor is a strided view; itself otherwise.") { try $0.contiguous() }
        unary("copy", "A copy that shares nothing with this tensor.") { try $0.copy() }
        unary("flatten", "All elements in one axis.") { try $0.flatten() }

        let axis = Param("axis", .optional(.oneOf([.int, .list])), default: .nil, doc: "an axis, a list of axes, or nil for all")
        let keepdims = Param("keepdims", .bool, default: .bool(false))
        method("sum", [axis, keepdims], "Sum over axes (all when nil).", "ones([2, 3]).sum(axis: 1)") { x, a in
            wrap(try x.sum(axes: Convert.axes(a["axis"]), keepdims: a.bool("keepdims")))
        }
        method("mean", [axis, keepdims], "Mean over axes (all when nil).", "ones([2, 3]).mean()") { x, a in
            wrap(try x.mean(axes: Convert.axes(a["axis"]), keepdims: a.bool("keepdims")))
        }
        method("var", [axis, Param("correction", .int, default: .number(1)), keepdims],
               "Variance over axes: Σ(x − mean)² / (n − correction); correction 1 is the unbiased estimate, as in PyTorch.",
               "tensor([1, 2, 3, 4]).var()") { x, a in
            wrap(try x.variance(axes: Convert.axes(a["axis"]), correction: a.int("correction"), keepdims: a.bool("keepdims")))
        }
        let oneAxis = Param("axis", .optional(.int), default: .nil, doc: "an axis, or nil for all elements")
        method("max", [oneAxis, keepdims], "Largest element over an axis (all when nil).", "tensor([1, 5, 2]).max()") { x, a in
            wrap(try x.max(axis: a.optionalInt("axis"), keepdims: a.bool("keepdims")))
        }
        method("min", [oneAxis, keepdims], "Smallest element over an axis (all when nil).", "tensor([1, 5, 2]).min()") { x, a in
            wrap(try x.min(axis: a.optionalInt("axis"), keepdims: a.bool("keepdims")))
        }
        method("argmax", [oneAxis, keepdims], "Index of the first largest element over an axis (of the flattened tensor when nil).",
               "tensor([1, 5, 2]).argmax()") { x, a in
            wrap(try x.argmax(axis: a.optionalInt("axis"), keepdims: a.bool("keepdims")))
        }
        method("softmax", [Param("axis", .int, default: .number(-1))], "Softmax along an axis (the last by default).",
               "tensor([1, 2, 3]).softmax()") { x, a in wrap(try x.softmax(axis: a.int("axis"))) }
        method("log_softmax", [Param("axis", .int, default: .number(-1))], "Log-softmax along an axis, computed stably.",
               "tensor([1, 2, 3]).log_softmax()") { x, a in wrap(try x.logSoftmax(axis: a.int("axis"))) }
        method("reshape", [Param("shape", .oneOf([.int, .list]))], "The same elements in a new shape; one dimension may be -1.",
               "arange(6).reshape([2, -1])") { x, a in wrap(try x.reshape(Convert.intList(a["shape"]))) }
        method("transpose", [Param("a", .int, default: .number(-2)), Param("b", .int, default: .number(-1))],
               "Swaps two axes (the last two by default); a view.", "ones([2, 3]).transpose()") { x, a in
            wrap(try x.transpose(a.int("a"), a.int("b")))
        }
        method("permute", [Param("axes", .list)], "Reorders the axes; a view.", "ones([2, 3, 4]).permute([2, 0, 1])") { x, a in
            wrap(try x.permute(Convert.intList(a["axes"])))
        }
        method("squeeze", [Param("axis", .optional(.int), default: .nil)], "Removes size-1 axes (all, or one).", "ones([1, 3]).squeeze()") { x, a in
            wrap(try x.squeeze(a.optionalInt("axis")))
        }
        method("unsqueeze", [Param("axis", .int)], "Adds a size-1 axis.", "ones(3).unsqueeze(0)") { x, a in wrap(try x.unsqueeze(a.int("axis"))) }
        method("expand", [Param("shape", .list)], "A broadcast view in a larger shape.", "ones([3, 1]).expand([3, 4])") { x, a in
            wrap(try x.expand(Convert.intList(a["shape"])))
        }
        method("split", [Param("sizes", .oneOf([.int, .list])), Param("axis", .int, default: .number(0))],
               "Pieces along an axis: a list of sizes, or a number of equal parts.", "arange(6).split([2, 4])", returns: "list") { x, a in
            if case .number = a["sizes"] { return wrap(try x.chunk(a.int("sizes"), axis: a.int("axis"))) }
            return wrap(try x.split(Convert.intList(a["sizes"]), axis: a.int("axis")))
        }
        method("gather", [Param("axis", .int), Param("index")], "Elements picked along an axis by an index tensor (torch.gather).",
               "tensor([[1, 2], [3, 4]]).gather(1, [[1], [0]])") { x, a in
            wrap(try x.gather(axis: a.int("axis"), Convert.tensor(a["index"], "index")))
        }
        method("matmul", [Param("other")], "Matrix product (also written a @ b).", "eye(2).matmul(ones([2, 2]))") { x, a in
            wrap(try x.matmul(Convert.tensor(a["other"], "other")))
        }
        method("pow", [Param("exponent")], "Elementwise power (also written a ** b).", "tensor([1, 2, 3]).pow(2)") { x, a in
            wrap(try x.pow(Convert.tensor(a["exponent"], "exponent")))
        }
        method("maximum", [Param("other")], "Elementwise maximum, broadcasting.", "tensor([1, 5]).maximum(3)") { x, a in
            wrap(try x.maximum(Convert.tensor(a["other"], "other")))
        }
        method("minimum", [Param("other")], "Elementwise minimum, broadcasting.", "tensor([1, 5]).minimum(3)") { x, a in
            wrap(try x.minimum(Convert.tensor(a["other"], "other")))
        }
        method("embedding", [Param("ids")], "Rows of this [V, D] table picked by integer ids: shape ids.shape + [D].",
               "randn([10, 4]).embedding([1, 7])") { x, a in wrap(try x.embedding(Convert.tensor(a["ids"], "ids"))) }
        method("rmsnorm", [Param("weight", .optional(.object("Tensor")), default: .nil), Param("eps", .number, default: .number(1e-5))],
               "RMSNorm over the last axis: x / sqrt(mean(x²) + eps) · weight.", "randn([2, 4]).rmsnorm()") { x, a in
            wrap(try x.rmsNorm(weight: a.object("weight", as: Tensor.self), eps: Float(a.number("eps"))))
        }
        method("layernorm", [Param("weight", .optional(.object("Tensor")), default: .nil), Param("bias", .optional(.object("Tensor")), default: .nil),
                             Param("eps", .number, default: .number(1e-5))],
               "LayerNorm over the last axis: (x − mean) / sqrt(var + eps) · weight + bias.", "randn([2, 4]).layernorm()") { x, a in
            wrap(try x.layerNorm(weight: a.object("weight", as: Tensor.self), bias: a.object("bias", as: Tensor.self), eps: Float(a.number("eps"))))
        }
        method("cross_entropy", [Param("targets"), Param("ignore_index", .int, default: .number(-100))],
               "Mean cross-entropy of these logits against class ids (see cross_entropy).", "randn([2, 5]).cross_entropy([1, 3])") { x, a in
            wrap(try x.crossEntropy(Convert.tensor(a["targets"], "targets"), ignoreIndex: a.int("ignore_index")))
        }
        method("backward", [Param("gradient", .optional(.object("Tensor")), default: .nil)],
               "Backpropagates from this scalar (or with an explicit gradient); leaves that require gradients get .grad.",
               "loss.backward()", returns: "nil") { x, a in
            try x.backward(a.object("gradient", as: Tensor.self))
            return .nil
        }
        method("zero_grad", [], "Clears the accumulated gradient.", "w.zero_grad()", returns: "nil") { x, _ in x.zeroGrad(); return .nil }
        method("item", [], "The value of a one-element tensor, as a number.", "tensor([3]).item()", returns: "number") { x, _ in
            .number(Double(try x.item()))
        }
        method("tolist", [], "The elements as (nested) lists of numbers.", "eye(2).tolist()", returns: "list") { x, _ in Convert.list(x) }

        t.property("shape", doc: "The size of each axis, as a list.") { o in .list((o.value as! Tensor).shape.map { .number(Double($0)) }) }
        t.property("ndim", doc: "The number of axes.") { o in .number(Double((o.value as! Tensor).rank)) }
        t.property("size", doc: "The number of elements.") { o in .number(Double((o.value as! Tensor).count)) }
        t.property("T", doc: "The transpose of the last two axes (a view).") { o in wrap(try (o.value as! Tensor).transpose()) }
        t.property("grad", doc: "The gradient accumulated by backward(), or nil.") { o in (o.value as! Tensor).grad.map(wrap) ?? .nil }
        t.property("requires_grad", doc: "Whether autograd tracks this tensor; set it on parameters.",
                   get: { o in .bool((o.value as! Tensor).requiresGrad) },
                   set: { o, v in
                       guard case .bool(let b) = v else { throw FinchError(.runtime, "requires_grad must be true or false, got \(v.repr)") }
                       (o.value as! Tensor).requiresGrad = b
                   })

        t.describe = { o in (o.value as! Tensor).description }
        t.length = { o in
            let x = o.value as! Tensor
            guard x.rank > 0 else { throw FinchError(.runtime, "a 0-dimensional tensor has no length") }
            return x.shape[0]
        }
        t.binaryOperator = { op, l, r in
            let a = try Convert.tensor(l, "left operand"), b = try Convert.tensor(r, "right operand")
            switch op {
            case "+": return wrap(try a + b)
            case "-": return wrap(try a - b)
            case "*": return wrap(try a * b)
            case "/": return wrap(try a / b)
            case "**": return wrap(try a.pow(b))
            case "@": return wrap(try a.matmul(b))
            case "<": return wrap(try a.lt(b))
            case "<=": return wrap(try a.le(b))
            case ">": return wrap(try a.gt(b))
            case ">=": return wrap(try a.ge(b))
            case "==": return wrap(try a.eq(b))
            case "!=": return wrap(try a.ne(b))
            default: return nil
            }
        }
        t.unaryOperator = { op, v in
            let x = try Convert.tensor(v)
            return op == "-" ? wrap(try x.negated()) : wrap(x)
        }
        t.getIndex = { o, parts in wrap(try view(o.value as! Tensor, parts)) }
        t.setIndex = { o, parts, v in
            let target = try GradMode.noGrad { try view((o.value as! Tensor).detached(), parts) }
            try target.assign(Convert.tensor(v, "value"))
        }
    }

    /// t[i, a:b, ...]: integers select (dropping the axis), slices keep it; negative indices count from the end.
    static func view(_ t: Tensor, _ parts: [IndexArgument]) throws -> Tensor {
        guard parts.count <= t.rank else {
            throw FinchError(.runtime, "too many indices (\(parts.count)) for a tensor of shape \(t.shape)")
        }
        var out = t
        var axis = 0
        for part in parts {
            switch part {
            case .index(let v):
                guard case .number(let n) = v, let i = Checked.int(n) else { throw FinchError(.runtime, "a tensor index must be an integer, got \(v.repr)") }
                out = try out.select(axis: axis, i)
            case let .slice(start, end, step):
                guard (step ?? 1) > 0 else { throw FinchError(.runtime, "tensor slices need a positive step") }
                out = try out.slice(axis: axis, start: start, end: end, step: step ?? 1)
                axis += 1
            }
        }
        return out
    }
}
