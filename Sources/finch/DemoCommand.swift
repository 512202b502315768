import ArgumentParser
import FinchModel
import FinchPlot
import FinchText
import FinchTensor
import Foundation

/// `finch demo`: a small, real tour — a two-layer network learns sin(x) by
/// gradient descent with autograd, its gradient is checked against finite
/// differences, the loss curve is drawn by gnuplot; then SmolLM2-135M-Instruct
/// is loaded and answers questions, streaming its tokens.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Train a tiny network with Finch's autograd and plot its loss.")

    @Option(help: "Training steps.") var steps = 600
    @Option(help: "Random seed.") var seed: UInt64 = 0

    func run() throws {
        var rng = RNG(seed: seed)
        let threads = Threads.count  // first: sets OpenBLAS up
        let kernels = BLASKernels.pinned.map { " (\($0) kernels)" } ?? ""
        print("Finch \(FinchVersion.string) — tensors on OpenBLAS\(kernels), \(threads) thread(s)\n")

        // Data: 64 points of y = sin(x) on [-3, 3].
        let x = try Tensor.linspace(-3, 3, count: 64).reshape([64, 1])
        let y = try Tensor(x.scalars.map { sinf($0) }, shape: [64, 1])

        // A 1 → 32 → 1 network with tanh.
        let w1 = try (Tensor.normal([1, 32], rng: &rng) * 1.0), b1 = try Tensor.zeros([32])
        let w2 = try (Tensor.normal([32, 1], rng: &rng) * Float(1 / 32.0.squareRoot())), b2 = try Tensor.zeros([1])
        let params = [w1, b1, w2, b2]
        for p in params { p.requiresGrad = true }
        func forward(_ input: Tensor) throws -> Tensor {
            try input.matmul(w1).adding(b1).tanh().matmul(w2).adding(b2)
        }
        func loss() throws -> Tensor {
            let d = try forward(x).subtracting(y)
            return try d.multiplying(d).mean()
        }

        print("Model: y = tanh(x·W1 + b1)·W2 + b2, \(params.map(\.count).reduce(0, +)) parameters")
        print("Task: fit sin(x) at 64 points on [-3, 3] with Adam (lr 0.02)\n")

        // Check one gradient against a central finite difference before training.
        let l0 = try loss()
        try l0.backward()
        let analytic = try w1.grad!.element([0, 3])
        let h: Float = 1e-2
        let saved = try w1.element([0, 3])
        try w1.setElement([0, 3], saved + h)
        let up = try GradMode.noGrad { try loss().item() }
        try w1.setElement([0, 3], saved - h)
        let down = try GradMode.noGrad { try loss().item() }
        try w1.setElement([0, 3], saved)
        print(String(format: "gradient check dL/dW1[0,3]: autograd %.6f, finite difference %.6f", analytic, (up - down) / (2 * h)))

        var optimizer = DemoAdam(params: params, lr: 0.02)
        var history: [Double] = []
        for step in 1...steps {
            for p in params { p.zeroGrad() }
            let l = try loss()
            try l.backward()
            try optimizer.step()
            let value = try l.item()
            history.append(Double(value))
            if step == 1 || step % (steps / 6) == 0 || step == steps {
                print(String(format: "step %4d  loss %.5f", step, value))
            }
        }

        print("\nPredictions after training:")
        let probe = try Tensor([-2.5, -1, 0, 1, 2.5], shape: [5, 1])
        let predicted = try GradMode.noGrad { try forward(probe) }.scalars
        for (xi, yi) in zip(probe.scalars, predicted) {
            print(String(format: "  x = %5.2f   sin(x) = %7.4f   model = %7.4f", xi, sinf(xi), yi))
        }

        var figure = Figure(title: "Training loss (log scale)", xlabel: "step", ylabel: "MSE", series: [.init(name: "loss", y: history)])
        figure.logY = true
        do {
            print(try figure.render(to: .dumb(width: 78, height: 22)).text)
        } catch let error as PlotError {
            print("(no plot: \(error))")
        }
        try talkToSmolLM2()
    }

    /// Loads the pretrained model and asks it what the lessons will later teach it.
    func talkToSmolLM2() throws {
        print("\nA real pretrained model: SmolLM2-135M-Instruct")
        let path = try ModelStore.resolve("smollm2-135m")
        let start = BenchTiming.now()
        let model = try LanguageModel(gguf: path)
        let seconds = BenchTiming.now() - start
        print(model.summary)
        print(String(format: "  loaded in %.2f s\n", seconds))
        var options = GenerationOptions()
        options.maxTokens = 48
        for question in ["What is the capital of France?", "What is Finch, the finetuning lab?"] {
            print("Q: \(question)\nA:", terminator: " ")
            fflush(nil)
            let g = try model.chat([ChatTemplate.message(("user", question))], options: options, onText: { print($0, terminator: ""); fflush(nil) })
            print(String(format: "\n   (%d tokens, %.1f tokens/s, greedy)\n", g.ids.count, g.decodeTokensPerSecond))
        }
        print("It knows France; it cannot know Finch. Finetuning on finch_docs is what the lessons do next.")
    }
}

/// Adam for the demo (the real optimizers arrive with the trainer).
struct DemoAdam {
    let params: [Tensor]
    let lr: Float
    var m: [[Float]]
    var v: [[Float]]
    var t = 0

    init(params: [Tensor], lr: Float) {
        self.params = params
        self.lr = lr
        m = params.map { [Float](repeating: 0, count: $0.count) }
        v = m
    }

    mutating func step() throws {
        t += 1
        let c1 = 1 - powf(0.9, Float(t)), c2 = 1 - powf(0.999, Float(t))
        for (i, p) in params.enumerated() {
            guard let g = p.grad?.scalars else { continue }
            for j in 0..<p.count {
                m[i][j] = 0.9 * m[i][j] + 0.1 * g[j]
                v[i][j] = 0.999 * v[i][j] + 0.001 * g[j] * g[j]
                p.storage.base[p.offset + j] -= lr * (m[i][j] / c1) / ((v[i][j] / c2).squareRoot() + 1e-8)
            }
        }
    }
}
