import Foundation

/// JSON string literals as Python's json.dumps writes them (the short escapes, other control
/// characters as \u00XX, everything else as it is unless `ensureASCII`): one writer for chat
/// templates' `tojson` and for the JSONL files Finch writes.
public enum JSONString {
    /// `s` as a JSON string literal, appended to `out`.
    public static func quote(_ s: String, to out: inout String, ensureASCII: Bool = false) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if u.value < 0x20 || (ensureASCII && u.value > 0x7E) {
                    if u.value > 0xFFFF {
                        let v = u.value - 0x10000
                        out += String(format: "\\u%04x\\u%04x", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF))
                    } else {
                        out += String(format: "\\u%04x", u.value)
                    }
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        out += "\""
    }
}
