import FinchLang
import FinchLib
import Testing

/// Tensors as the language sees them.
@Suite struct TensorBindingTests {
    func run(_ code: String) throws -> String {
        let interpreter = try FinchLibrary.makeInterpreter()
        var out = ""
        interpreter.output = { out += $0 }
        if let v = try interpreter.run(code), !out.isEmpty || true {
            if case .nil = v {} else { out += v.repr }
        }
        return out
    }

    @Test func creationPrintingAndOperators() throws {
        #expect(try run("tensor([[1, 2], [3, 4]])") == "tensor([[1, 2],\n        [3, 4]], shape: [2, 2])")
        #expect(try run("(tensor([1, 2]) * 2 + 1).tolist()") == "[3, 5]")
        #expect(try run("(1 - tensor([1, 2])).tolist()") == "[0, -1]")
        #expect(try run("(eye(2) @ tensor([[1, 2], [3, 4]])).tolist()") == "[[1, 2], [3, 4]]")
        #expect(try run("(tensor([1, 2, 3]) > 1).tolist()") == "[0, 1, 1]")
        #expect(try run("tensor([0.123456]).tolist()[0] > 0.1234") == "true")
        #expect(try run("print(tensor([3.14159265]))") == "tensor([3.1416], shape: [1])\n")
        #expect(try run("arange(2000).reshape([40, 50])").contains("..."))
    }

    @Test func indexingSlicingAndAssignment() throws {
        #expect(try run("t = arange(12).reshape([3, 4])\n[t[1].tolist(), t[:, -1].tolist(), t[-1, 1:3].tolist(), t[::2, 0].tolist()]")
                == "[[4, 5, 6, 7], [3, 7, 11], [9, 10], [0, 8]]")
        #expect(try run("t = zeros([2, 2])\nt[0] = 5\nt[1, 1] = 7\nt.tolist()") == "[[5, 5], [0, 7]]")
        #expect(try run("len(zeros([4, 2]))") == "4")
    }

    @Test func autogradFromTheLanguage() throws {
        let out = try run("""
        w = tensor([1, 2, 3], requires_grad: true)
        loss = (w * w).sum()
        loss.backward()
        w.grad.tolist()
        """)
        #expect(out == "[2, 4, 6]")
        #expect(try run("w = tensor([1.0], requires_grad: true)\nno_grad(fn() { w * 2 }).requires_grad") == "false")
    }

    @Test func seededRandomnessRepeats() throws {
        #expect(try run("seed(7)\na = randn(3).tolist()\nseed(7)\nb = randn(3).tolist()\na == b") == "true")
    }

    @Test func errorsNameArgumentsAndShapes() throws {
        #expect(throws: FinchError.self) { try run("zeros([2, 3]) + zeros([4])") }
        do { _ = try run("zeros([2, 3]) + zeros([4])") } catch {
            #expect(String(describing: error).contains("add: shapes [2, 3] and [4] do not match"))
        }
        do { _ = try run("zeros(shap: 3)") } catch {
            #expect(String(describing: error).contains("zeros() has no argument 'shap'; did you mean 'shape'?"))
        }
        do { _ = try run("ones([2]).sum(axs: 0)") } catch {
            #expect(String(describing: error).contains("has no argument 'axs'; did you mean 'axis'?"))
        }
        do { _ = try run("tensor(\"abc\")") } catch {
            #expect(String(describing: error).contains("data must be a tensor, a number or a (nested) list of numbers, got a string"))
        }
        do { _ = try run("tensor([[1, 2], [3]])") } catch {
            #expect(String(describing: error).contains("ragged nested list"))
        }
    }

    /// Numbers a user types that fit no index or size: an error naming the value and the line (issue [10]).
    @Test func hugeAndNonFiniteNumbersAreErrorsNotTraps() throws {
        let cases = [
            ("t = tensor([1, 2, 3])\nt[1e19]", "<input>:2:2: error: a tensor index must be an integer, got 1e+19"),
            ("t = tensor([1, 2, 3])\nt[0 / 0]", "a tensor index must be an integer, got nan"),
            ("tensor([1, 2])[-1e400]", "a tensor index must be an integer, got -inf"),
            ("estimate(params: 1e400)", "estimate(): params must be a parameter count from 1000 to 1e15, got inf"),
            ("estimate(params: 1e9, batch: 4503599627370496, seq: 4503599627370496)[\"total_mb\"] > 0", nil),
            ("zeros([1e10, 1e10])", "has too many elements"),
            ("ones(4).sum(axis: 1e300)", "must be"),
            ("tensor(ones([2, 3]).T).tolist()", nil),
            ("model(vocab: 10, dim: 16, layers: 1, heads: 2, rope_theta: 1e400).summary", "rope theta and rms epsilon must be positive and finite"),
            ("hist([-1e308, 1e308])", "gnuplot"),
        ] as [(String, String?)]
        for (code, expected) in cases {
            do {
                _ = try run(code)
                #expect(expected == nil, "\(code): no error")
            } catch {
                let text = String(describing: error)
                #expect(expected.map { text.contains($0) } ?? false, "\(code): \(text)")
            }
        }
        #expect(try run("ones([2, 3]).T.tolist()") == "[[1, 1], [1, 1], [1, 1]]")
        // The fuzzer's find: an empty view's elements walked an axis of size 0 (a division by zero).
        #expect(try run("eye(0).tolist()") == "[]")
        #expect(try run("zeros([3, 0]).T.tolist()") == "[]")
        #expect(try run("x = arange(6).reshape([2, 3]).T\nx.tolist()") == "[[0, 3], [1, 4], [2, 5]]")
    }
}
