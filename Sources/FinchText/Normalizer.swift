import Foundation

/// A pattern as tokenizer.json gives one: a literal string or a regular expression.
public enum TextPattern: Sendable {
    case string(String)
    case regex(Regex)

    /// The non-overlapping occurrences in `s[range]`, leftmost first.
    func ranges(in s: UnsafeBufferPointer<UInt32>, _ range: Range<Int>, stack: inout [Regex.Backtrack], into out: inout [Range<Int>]) {
        switch self {
        case .regex(let r): r.matches(s, range, stack: &stack, into: &out)
        case .string(let literal):
            let needle = literal.unicodeScalars.map(\.value)
            guard let first = needle.first else { return }
            var i = range.lowerBound
            while i + needle.count <= range.upperBound {
                if s[i] == first {
                    var k = 1
                    while k < needle.count && s[i + k] == needle[k] { k += 1 }
                    if k == needle.count { out.append(i..<(i + k)); i += k; continue }
                }
                i += 1
            }
        }
    }

    /// `text` with every occurrence replaced by `content`.
    func replacing(in text: [UInt32], with content: [UInt32]) -> [UInt32] {
        var found: [Range<Int>] = []
        var stack: [Regex.Backtrack] = []
        text.withUnsafeBufferPointer { ranges(in: $0, 0..<$0.count, stack: &stack, into: &found) }
        if found.isEmpty { return text }
        var out: [UInt32] = []
        out.reserveCapacity(text.count)
        var at = 0
        for r in found {
            out += text[at..<r.lowerBound]
            out += content
            at = r.upperBound
        }
        out += text[at...]
        return out
    }
}

/// How text is cleaned before it is split (tokenizer.json's "normalizer").
public indirect enum Normalizer: Sendable {
    case nfc, nfd, nfkc, nfkd
    case lowercase
    /// Adds the string in front of non-empty text.
    case prepend(String)
    case replace(TextPattern, String)
    case strip(left: Bool, right: Bool)
    case sequence([Normalizer])

    /// Scalars that NFC leaves as they are wherever they stand: no combining mark, nothing that
    /// composes with what precedes it, no singleton or excluded decomposition (NFC_QC=Yes and
    /// combining class 0) — Latin-1, Cyrillic letters, general punctuation, currency signs, box
    /// drawing, kana and the CJK ideographs, which is most text; the rest goes through Foundation.
    @inline(__always)
    static func unchangedByNFC(_ v: UInt32) -> Bool {
        if v < 0x300 { return true }
        switch v {
        case 0x0400..<0x0483, 0x2010..<0x2028, 0x2030..<0x205F, 0x20A0..<0x20C0, 0x2500..<0x2600,
             0x3040..<0x3099, 0x30A0..<0x3100, 0x4E00..<0xA000: return true
        default: return false
        }
    }

    /// The normalized form of `text` (unicode scalar values).
    public func apply(_ text: [UInt32]) -> [UInt32] {
        switch self {
        case .sequence(let steps): return steps.reduce(text) { $1.apply($0) }
        case .prepend(let p): return text.isEmpty ? text : p.unicodeScalars.map(\.value) + text
        case .replace(let pattern, let content): return pattern.replacing(in: text, with: content.unicodeScalars.map(\.value))
        case .strip(let left, let right):
            var lo = 0, hi = text.count
            if left { while lo < hi, UnicodeTable.lookup(text[lo]) & 0x80 != 0 { lo += 1 } }
            if right { while hi > lo, UnicodeTable.lookup(text[hi - 1]) & 0x80 != 0 { hi -= 1 } }
            return Array(text[lo..<hi])
        case .nfc where text.allSatisfy(Normalizer.unchangedByNFC):
            return text
        case .nfc, .nfd, .nfkc, .nfkd, .lowercase:
            var view = String.UnicodeScalarView()
            for v in text { if let s = Unicode.Scalar(v) { view.append(s) } }
            let s = String(view)
            let out: String
            switch self {
            case .nfc: out = s.precomposedStringWithCanonicalMapping
            case .nfd: out = s.decomposedStringWithCanonicalMapping
            case .nfkc: out = s.precomposedStringWithCompatibilityMapping
            case .nfkd: out = s.decomposedStringWithCompatibilityMapping
            default: out = s.lowercased()
            }
            return out.unicodeScalars.map(\.value)
        }
    }
}
