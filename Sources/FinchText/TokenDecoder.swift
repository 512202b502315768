import Foundation

/// How token strings become text again (tokenizer.json's "decoder"). Each step
/// maps the list of token strings to a new list, as the `tokenizers` package
/// chains them; the result is joined.
public indirect enum TokenDecoder: Sendable {
    /// Byte-level characters back to bytes, the whole list at once (invalid UTF-8 becomes U+FFFD).
    case byteLevel
    /// The replacement character back to a space; in the first token it is dropped unless the scheme is "never".
    case metaspace(replacement: UInt32, prependScheme: PrependScheme)
    /// Runs of <0xAB> tokens back to the bytes they stand for.
    case byteFallback
    /// All tokens joined into one.
    case fuse
    /// Up to `start` leading and `stop` trailing copies of `content` removed from each token.
    case strip(content: UInt32, start: Int, stop: Int)
    case replace(TextPattern, String)
    /// BPE's end-of-word suffix back to a space (none after the last token).
    case bpeSuffix(String)
    case sequence([TokenDecoder])

    func apply(_ tokens: [String]) -> [String] {
        switch self {
        case .sequence(let steps): return steps.reduce(tokens) { $1.apply($0) }
        case .byteLevel:
            var bytes: [UInt8] = []
            for t in tokens {
                if let b = ByteLevel.bytes(of: t) { bytes += b } else { bytes += Array(t.utf8) }
            }
            return [String(decoding: bytes, as: UTF8.self)]
        case .metaspace(let replacement, let scheme):
            return tokens.enumerated().map { i, t in
                var view = String.UnicodeScalarView()
                for s in t.unicodeScalars {
                    if s.value == replacement {
                        if i == 0 && scheme != .never { continue }
                        view.append(" ")
                    } else {
                        view.append(s)
                    }
                }
                return String(view)
            }
        case .byteFallback:
            var out: [String] = []
            var pending: [UInt8] = []
            func flush() {
                guard !pending.isEmpty else { return }
                if let s = String(validating: pending, as: UTF8.self) { out.append(s) } else { out += Array(repeating: "\u{FFFD}", count: pending.count) }
                pending.removeAll()
            }
            for t in tokens {
                if let b = ByteFallback.byte(of: t) { pending.append(b) } else { flush(); out.append(t) }
            }
            flush()
            return out
        case .fuse: return [tokens.joined()]
        case .strip(let content, let start, let stop):
            return tokens.map { t in
                var s = Array(t.unicodeScalars)
                var cut = 0
                while cut < start, cut < s.count, s[cut].value == content { cut += 1 }
                s.removeFirst(cut)
                var end = 0
                while end < stop, end < s.count, s[s.count - 1 - end].value == content { end += 1 }
                s.removeLast(end)
                var view = String.UnicodeScalarView()
                view.append(contentsOf: s)
                return String(view)
            }
        case .replace(let pattern, let content):
            let c = content.unicodeScalars.map(\.value)
            return tokens.map { t in ByteFallback.string(pattern.replacing(in: t.unicodeScalars.map(\.value), with: c)) }
        case .bpeSuffix(let suffix):
            return tokens.enumerated().map { i, t in t.replacingOccurrences(of: suffix, with: i == tokens.count - 1 ? "" : " ") }
        }
    }
}

/// SentencePiece's byte tokens, written <0x41>.
enum ByteFallback {
    /// The byte a token like "<0x0A>" stands for.
    static func byte(of token: String) -> UInt8? {
        let u = Array(token.utf8)
        guard u.count == 6, u[0] == 0x3C, u[1] == 0x30, u[2] == 0x78, u[5] == 0x3E else { return nil }
        return UInt8(String(decoding: u[3..<5], as: UTF8.self), radix: 16)
    }

    static func name(_ b: UInt8) -> String {
        let hex = String(b, radix: 16, uppercase: true)
        return "<0x" + (hex.count == 1 ? "0" + hex : hex) + ">"
    }

    static func string(_ scalars: [UInt32]) -> String {
        var view = String.UnicodeScalarView()
        for v in scalars { if let s = Unicode.Scalar(v) { view.append(s) } }
        return String(view)
    }
}
