/// A byte-level BPE tokenizer with GPT-2 semantics: special tokens are cut out
/// first, the rest is split by the pre-tokenizer, each piece's UTF-8 bytes
/// start as byte tokens and are merged pair by pair, lowest merge rank first.
public final class Tokenizer: @unchecked Sendable {
    /// Token strings by id (byte-level form; special tokens as their text).
    public let tokens: [String]
    public let preTokenizer: PreTokenizer
    /// Ids of tokens matched literally before BPE (`<|im_start|>` ...), longest first.
    public let specialIds: [Int]
    public let bosId: Int?
    public let eosId: Int?
    public let unknownId: Int?
    public let padId: Int?
    public let addBOS: Bool
    public let addEOS: Bool
    /// The chat template text the model ships, if any.
    public let chatTemplate: String?

    let ids: [String: Int]
    /// The token for each byte, -1 where the vocabulary has none.
    let byteIds: [Int32]
    /// (left id << 32 | right id) -> (rank << 32 | merged id)
    let merges: [UInt64: UInt64]
    let specialPieces: [(text: [Unicode.Scalar], id: Int)]
    /// Whether each id is a special token (decode asks once per token).
    let isSpecial: [Bool]
    /// The scalars special tokens start with: only there can one begin. ASCII starts
    /// sit in a table, since the check runs for every character of the text.
    let specialStarts: Set<Unicode.Scalar>
    let specialStartsASCII: [Bool]

    public var vocabSize: Int { tokens.count }

    /// Builds a tokenizer from a vocabulary and its merges ("left right", rank = position).
    public init(tokens: [String], merges mergeList: [String], specialIds: [Int] = [], preTokenizer: PreTokenizer = .gpt2,
                bosId: Int? = nil, eosId: Int? = nil, unknownId: Int? = nil, padId: Int? = nil,
                addBOS: Bool = false, addEOS: Bool = false, chatTemplate: String? = nil, source: String = "tokenizer") throws {
        var ids: [String: Int] = [:]
        ids.reserveCapacity(tokens.count)
        for (i, t) in tokens.enumerated() {
            if let previous = ids[t] {
                throw TokenizerError("\(source): token \(i) \(Tokenizer.show(t)) duplicates token \(previous)")
            }
            ids[t] = i
        }
        for (name, id) in [("bos", bosId), ("eos", eosId), ("unknown", unknownId), ("padding", padId)] {
            if let id, id < 0 || id >= tokens.count {
                throw TokenizerError("\(source): the \(name) token id \(id) is out of range for \(tokens.count) tokens")
            }
        }
        for id in specialIds where id < 0 || id >= tokens.count {
            throw TokenizerError("\(source): special token id \(id) is out of range for \(tokens.count) tokens")
        }
        var table: [UInt64: UInt64] = [:]
        table.reserveCapacity(mergeList.count)
        for (rank, merge) in mergeList.enumerated() {
            let parts = merge.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw TokenizerError("\(source): merge \(rank) \(Tokenizer.show(merge)) is not two tokens separated by one space")
            }
            let left = String(parts[0]), right = String(parts[1])
            guard let a = ids[left] else { throw TokenizerError("\(source): merge \(rank) names unknown token \(Tokenizer.show(left))") }
            guard let b = ids[right] else { throw TokenizerError("\(source): merge \(rank) names unknown token \(Tokenizer.show(right))") }
            guard let c = ids[left + right] else {
                throw TokenizerError("\(source): merge \(rank) makes \(Tokenizer.show(left + right)), which is not in the vocabulary")
            }
            let key = UInt64(a) << 32 | UInt64(b)
            if table[key] == nil { table[key] = UInt64(rank) << 32 | UInt64(c) }
        }
        self.tokens = tokens
        self.ids = ids
        self.merges = table
        self.byteIds = ByteLevel.byteToScalar.map { s in Int32(ids[String(s)] ?? -1) }
        self.preTokenizer = preTokenizer
        self.specialIds = specialIds.sorted { tokens[$0].unicodeScalars.count > tokens[$1].unicodeScalars.count }
        self.specialPieces = self.specialIds.map { (Array(tokens[$0].unicodeScalars), $0) }
        var isSpecial = [Bool](repeating: false, count: tokens.count)
        for id in specialIds { isSpecial[id] = true }
        self.isSpecial = isSpecial
        let starts = Set(specialPieces.compactMap { $0.text.first })
        self.specialStarts = starts
        self.specialStartsASCII = (0..<128).map { starts.contains(Unicode.Scalar(UInt8($0))) }
        self.bosId = bosId
        self.eosId = eosId
        self.unknownId = unknownId
        self.padId = padId
        self.addBOS = addBOS
        self.addEOS = addEOS
        self.chatTemplate = chatTemplate
    }

    static func show(_ token: String) -> String { "\"" + token.unicodeScalars.map { $0.escaped(asASCII: false) }.joined() + "\"" }

    /// The id of a token string, if it is in the vocabulary.
    public func id(of token: String) -> Int? { ids[token] }

    /// The merges as "left right" strings, in rank order (as GGUF and tokenizer.json list them).
    public var mergeList: [String] {
        merges.sorted { $0.value >> 32 < $1.value >> 32 }.map { entry in
            tokens[Int(entry.key >> 32)] + " " + tokens[Int(entry.key & 0xFFFF_FFFF)]
        }
    }

    // MARK: Encoding

    /// Token ids for `text`; `addSpecial` adds BOS/EOS as the model's metadata asks.
    public func encode(_ text: String, addSpecial: Bool = true) -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(text.utf8.count / 3 + 2)
        if addSpecial, addBOS, let b = bosId { out.append(b) }
        let scalars = Array(text.unicodeScalars)
        var start = 0
        var i = 0
        // Special tokens are found first; the text between them is pre-tokenized and merged.
        while i < scalars.count {
            if let (length, id) = special(at: i, in: scalars) {
                if start < i { encodeOrdinary(scalars, start..<i, into: &out) }
                out.append(id)
                i += length
                start = i
            } else {
                i += 1
            }
        }
        if start < scalars.count { encodeOrdinary(scalars, start..<scalars.count, into: &out) }
        if addSpecial, addEOS, let e = eosId { out.append(e) }
        return out
    }

    private func special(at i: Int, in s: [Unicode.Scalar]) -> (Int, Int)? {
        let c = s[i]
        guard c.value < 128 ? specialStartsASCII[Int(c.value)] : specialStarts.contains(c) else { return nil }
        for (text, id) in specialPieces where i + text.count <= s.count {
            var k = 0
            while k < text.count, s[i + k] == text[k] { k += 1 }
            if k == text.count { return (k, id) }
        }
        return nil
    }

    private func encodeOrdinary(_ s: [Unicode.Scalar], _ range: Range<Int>, into out: inout [Int]) {
        let slice = Array(s[range])
        // Pieces repeat (words, spaces, punctuation): merge each distinct one once per call.
        var cache: [[UInt8]: [Int32]] = [:]
        var bytes: [UInt8] = []
        for piece in preTokenizer.split(slice) {
            bytes.removeAll(keepingCapacity: true)
            for k in piece { Tokenizer.appendUTF8(slice[k], to: &bytes) }
            if let ids = cache[bytes] {
                for id in ids { out.append(Int(id)) }
                continue
            }
            let ids = bpe(bytes)
            if bytes.count <= 64 { cache[bytes] = ids }
            for id in ids { out.append(Int(id)) }
        }
    }

    @inline(__always)
    static func appendUTF8(_ s: Unicode.Scalar, to bytes: inout [UInt8]) {
        let v = s.value
        if v < 0x80 {
            bytes.append(UInt8(v))
        } else if v < 0x800 {
            bytes.append(UInt8(0xC0 | (v >> 6)))
            bytes.append(UInt8(0x80 | (v & 0x3F)))
        } else if v < 0x10000 {
            bytes.append(UInt8(0xE0 | (v >> 12)))
            bytes.append(UInt8(0x80 | ((v >> 6) & 0x3F)))
            bytes.append(UInt8(0x80 | (v & 0x3F)))
        } else {
            bytes.append(UInt8(0xF0 | (v >> 18)))
            bytes.append(UInt8(0x80 | ((v >> 12) & 0x3F)))
            bytes.append(UInt8(0x80 | ((v >> 6) & 0x3F)))
            bytes.append(UInt8(0x80 | (v & 0x3F)))
        }
    }

    /// Merges the bytes of one piece: repeatedly join the adjacent pair with the lowest rank.
    func bpe(_ bytes: [UInt8]) -> [Int32] {
        var symbols: [Int32] = []
        symbols.reserveCapacity(bytes.count)
        for b in bytes {
            let id = byteIds[Int(b)]
            if id >= 0 { symbols.append(id) } else if let u = unknownId { symbols.append(Int32(u)) }
        }
        while symbols.count > 1 {
            var best = UInt64.max
            var at = -1
            for k in 0..<(symbols.count - 1) {
                if let m = merges[UInt64(UInt32(bitPattern: symbols[k])) << 32 | UInt64(UInt32(bitPattern: symbols[k + 1]))], m < best {
                    best = m
                    at = k
                }
            }
            if at < 0 { break }
            symbols[at] = Int32(truncatingIfNeeded: best & 0xFFFF_FFFF)
            symbols.remove(at: at + 1)
        }
        return symbols
    }

    // MARK: Decoding

    /// The text of a sequence of ids. Never fails: unknown ids are skipped, and bytes
    /// that do not form valid UTF-8 become U+FFFD, as in the reference.
    public func decode(_ ids: [Int], skipSpecial: Bool = false) -> String {
        String(decoding: decodeBytes(ids, skipSpecial: skipSpecial), as: UTF8.self)
    }

    /// The bytes of a sequence of ids (streaming output joins them before turning them into text,
    /// since one character can span tokens).
    public func decodeBytes(_ ids: [Int], skipSpecial: Bool = false) -> [UInt8] {
        var bytes: [UInt8] = []
        for id in ids where id >= 0 && id < tokens.count {
            if isSpecial[id] {
                if !skipSpecial { bytes.append(contentsOf: tokens[id].utf8) }
            } else if let b = ByteLevel.bytes(of: tokens[id]) {
                bytes.append(contentsOf: b)
            } else {
                bytes.append(contentsOf: tokens[id].utf8)
            }
        }
        return bytes
    }

    /// The pieces of `text` as strings, one per token (for teaching).
    public func pieces(_ text: String) -> [String] { pieces(ids: encode(text, addSpecial: false)) }

    /// The text of each token id on its own (a piece that is part of a character shows U+FFFD).
    public func pieces(ids: [Int]) -> [String] {
        ids.map { id in
            guard id >= 0, id < tokens.count else { return "" }
            return isSpecial[id] ? tokens[id] : ByteLevel.bytes(of: tokens[id]).map { String(decoding: $0, as: UTF8.self) } ?? tokens[id]
        }
    }
}
