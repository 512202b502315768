import FinchLang
import FinchLib

/// Runs Finch code in a fresh interpreter with everything FinchLib binds; returns what the code
/// printed, and the interpreter for further runs (whose output is no longer collected).
func runFinch(_ code: String) throws -> (output: String, interpreter: Interpreter) {
    let interpreter = try FinchLibrary.makeInterpreter()
    var out = ""
    interpreter.output = { out += $0 }
    try interpreter.run(code)
    return (out, interpreter)
}
