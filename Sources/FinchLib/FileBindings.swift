import FinchIO
import FinchLang
import Foundation

/// Text files in the language: read_text and write_text (atomic).
enum FileBindings {
    static func register(in r: Registry) {
        r.section("Files")
        r.register(NativeFunction("read_text", [Param("path", .string)], returns: "string",
                                  doc: "The contents of a UTF-8 text file.", example: "text = read_text(\"notes.txt\")") { a in
            let path = a.string("path")
            guard let data = FileManager.default.contents(atPath: path) else { throw a.error("cannot read \(path)") }
            guard let text = String(data: data, encoding: .utf8) else { throw a.error("\(path) is not valid UTF-8 text") }
            return .string(text)
        })
        r.register(NativeFunction("write_text", [Param("path", .string), Param("text", .string)], returns: "nil",
                                  doc: "Writes text to a file, atomically: a temporary file renamed into place, so an interruption never leaves half a file.",
                                  example: "write_text(\"notes.txt\", \"loss fell\\n\")") { a in
            do { try AtomicFile.write(a.string("text"), to: a.string("path")) } catch { throw a.error("\(error)") }
            return .nil
        })
    }
}
