/// Unicode general categories and White_Space as regular expressions ask for them
/// (\p{L}, \p{N}, \s ...): one byte per scalar of the Basic Multilingual Plane,
/// filled once, so a class test is a table load and a mask instead of a property lookup.
enum UnicodeTable {
    /// Bit 7: White_Space; bits 0-4: the general category's index in `categories`.
    static let bmp: [UInt8] = {
        var t = [UInt8](repeating: 0, count: 0x10000)
        for v in 0..<0x10000 {
            guard let s = Unicode.Scalar(UInt32(v)) else { t[v] = UInt8(index(of: .surrogate)); continue }
            t[v] = entry(s)
        }
        return t
    }()

    static let categories: [Unicode.GeneralCategory] = [
        .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
        .nonspacingMark, .spacingMark, .enclosingMark,
        .decimalNumber, .letterNumber, .otherNumber,
        .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
        .initialPunctuation, .finalPunctuation, .otherPunctuation,
        .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol,
        .spaceSeparator, .lineSeparator, .paragraphSeparator,
        .control, .format, .surrogate, .privateUse, .unassigned,
    ]

    static func index(of c: Unicode.GeneralCategory) -> Int { categories.firstIndex(of: c)! }

    static func entry(_ s: Unicode.Scalar) -> UInt8 {
        UInt8(index(of: s.properties.generalCategory)) | (s.properties.isWhitespace ? 0x80 : 0)
    }

    /// The table entry for any scalar (beyond the BMP it is computed).
    @inline(__always) static func lookup(_ v: UInt32) -> UInt8 {
        if v < 0x10000 { return bmp[Int(v)] }
        guard let s = Unicode.Scalar(v) else { return UInt8(index(of: .unassigned)) }
        return entry(s)
    }

    /// The categories a property name stands for (L, Lu, N, Nd, P, S, Z, M, C ...), as a mask over `categories`.
    static func mask(property name: String) -> UInt32? {
        let groups: [String: [Int]] = [
            "L": [0, 1, 2, 3, 4], "Lu": [0], "Ll": [1], "Lt": [2], "Lm": [3], "Lo": [4], "LC": [0, 1, 2], "L&": [0, 1, 2],
            "M": [5, 6, 7], "Mn": [5], "Mc": [6], "Me": [7],
            "N": [8, 9, 10], "Nd": [8], "Nl": [9], "No": [10],
            "P": [11, 12, 13, 14, 15, 16, 17], "Pc": [11], "Pd": [12], "Ps": [13], "Pe": [14], "Pi": [15], "Pf": [16], "Po": [17],
            "S": [18, 19, 20, 21], "Sm": [18], "Sc": [19], "Sk": [20], "So": [21],
            "Z": [22, 23, 24], "Zs": [22], "Zl": [23], "Zp": [24],
            "C": [25, 26, 27, 28, 29], "Cc": [25], "Cf": [26], "Cs": [27], "Co": [28], "Cn": [29],
        ]
        let long: [String: String] = [
            "Letter": "L", "Uppercase_Letter": "Lu", "Lowercase_Letter": "Ll", "Mark": "M", "Number": "N",
            "Decimal_Number": "Nd", "Punctuation": "P", "Symbol": "S", "Separator": "Z", "Other": "C", "Control": "Cc",
        ]
        guard let list = groups[long[name] ?? name] else { return nil }
        return list.reduce(0) { $0 | (1 << UInt32($1)) }
    }
}
