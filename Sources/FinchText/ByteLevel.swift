/// GPT-2's byte-to-unicode map: every byte gets a printable character, so a
/// byte-level vocabulary can be written as text. Printable Latin-1 bytes map to
/// themselves; the other 68 map to U+0100 and up, in byte order.
public enum ByteLevel {
    /// The character for each byte value.
    public static let byteToScalar: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            let printable = (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b)
            if printable {
                table[b] = Unicode.Scalar(UInt32(b))!
            } else {
                table[b] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    /// The byte for each mapped character (nil for characters outside the map).
    public static func byte(for scalar: Unicode.Scalar) -> UInt8? { scalarToByte[scalar] }

    private static let scalarToByte: [Unicode.Scalar: UInt8] = {
        var map: [Unicode.Scalar: UInt8] = [:]
        for (b, s) in byteToScalar.enumerated() { map[s] = UInt8(b) }
        return map
    }()

    /// The byte-level form of a string: its UTF-8 bytes as mapped characters.
    public static func encode(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for b in text.utf8 { out.append(byteToScalar[Int(b)]) }
        return String(out)
    }

    /// The bytes a byte-level token stands for, or nil when it holds a character outside the map.
    public static func bytes(of token: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(token.unicodeScalars.count)
        for s in token.unicodeScalars {
            guard let b = scalarToByte[s] else { return nil }
            out.append(b)
        }
        return out
    }
}
