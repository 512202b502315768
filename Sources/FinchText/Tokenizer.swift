/// A BPE tokenizer run as its files describe it: added tokens are cut out first,
/// the text between them is normalized and pre-tokenized into pieces, each piece
/// starts as bytes (byte-level models) or characters (SentencePiece-style, with
/// byte fallback) and is merged pair by pair, lowest merge rank first.
public final class Tokenizer: @unchecked Sendable {
    /// Token strings by id (byte-level form; added tokens as their text).
    public let tokens: [String]
    public let normalizer: Normalizer?
    public let preTokenizer: PreTokenizer
    public let decoder: TokenDecoder?
    public let options: BPEOptions
    public let addedTokens: [AddedToken]
    /// Ids added around every encoded text when special tokens are asked for (BOS, ...).
    public let postProcessor: PostProcessor
    public let bosId: Int?
    public let eosId: Int?
    public let unknownId: Int?
    public let padId: Int?
    /// The chat template text the model ships, if any.
    public let chatTemplate: String?
    /// The file it was read from (or what made it), for messages.
    public let source: String
    let chatCache = ChatTemplateCache()

    /// Ids of the added tokens that are special (skipped when decoding with skip_special), longest first.
    public var specialIds: [Int] { addedTokens.filter(\.special).sorted { $0.content.unicodeScalars.count > $1.content.unicodeScalars.count }.map(\.id) }
    public var addBOS: Bool { bosId.map { postProcessor.prefix.contains($0) } ?? false }
    public var addEOS: Bool { eosId.map { postProcessor.suffix.contains($0) } ?? false }
    public var vocabSize: Int { tokens.count }

    let ids: [String: Int]
    /// The token for each byte, -1 where the vocabulary has none (byte-level models).
    let byteIds: [Int32]
    /// The <0xAB> token for each byte, -1 where there is none (byte fallback).
    let fallbackIds: [Int32]
    /// (left id << 32 | right id) -> (rank << 32 | merged id)
    let merges: MergeTable
    let isSpecial: [Bool]
    let isAdded: [Bool]
    let byteLevel: Bool
    let rawMatcher: AddedTokenMatcher
    let normalizedMatcher: AddedTokenMatcher
    /// Byte-level tokens by their bytes, for ignore_merges (a whole piece in the vocabulary is one token).
    let wholeByteIds: [[UInt8]: Int32]
    /// The character decoding turns back into a space ("▁"), for streaming text a token at a time.
    let spaceMarker: UInt32?

    /// Builds a tokenizer from a vocabulary, its merges ("left right", rank = position) and its pipeline.
    public convenience init(tokens: [String], merges mergeList: [String], added: [AddedToken] = [], normalizer: Normalizer? = nil,
                            preTokenizer: PreTokenizer = .gpt2, decoder: TokenDecoder? = .byteLevel, options: BPEOptions = .init(),
                            postProcessor: PostProcessor = .init(), bosId: Int? = nil, eosId: Int? = nil, unknownId: Int? = nil, padId: Int? = nil,
                            chatTemplate: String? = nil, mergeRanks: [Int]? = nil, source: String = "tokenizer") throws {
        // Split at the first space scalar (a space before a combining mark is one Character, not two).
        let pairs = try mergeList.enumerated().map { rank, merge -> (String, String) in
            let scalars = Array(merge.unicodeScalars)
            guard let at = scalars.firstIndex(of: " "), !scalars[(at + 1)...].contains(" ") else {
                throw TokenizerError("\(source): merge \(rank) \(Tokenizer.show(merge)) is not two tokens separated by one space")
            }
            return (ByteFallback.string(scalars[..<at].map(\.value)), ByteFallback.string(scalars[(at + 1)...].map(\.value)))
        }
        try self.init(tokens: tokens, mergePairs: pairs, added: added, normalizer: normalizer, preTokenizer: preTokenizer, decoder: decoder,
                      options: options, postProcessor: postProcessor, bosId: bosId, eosId: eosId, unknownId: unknownId, padId: padId,
                      chatTemplate: chatTemplate, mergeRanks: mergeRanks, source: source)
    }

    /// Builds a tokenizer from a vocabulary, its merges as pairs (rank = position) and its pipeline.
    public init(tokens: [String], mergePairs mergeList: [(String, String)], added: [AddedToken] = [], normalizer: Normalizer? = nil,
                preTokenizer: PreTokenizer = .gpt2, decoder: TokenDecoder? = .byteLevel, options: BPEOptions = .init(),
                postProcessor: PostProcessor = .init(), bosId: Int? = nil, eosId: Int? = nil, unknownId: Int? = nil, padId: Int? = nil,
                chatTemplate: String? = nil, mergeRanks: [Int]? = nil, source: String = "tokenizer") throws {
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
        for a in added where a.id < 0 || a.id >= tokens.count {
            throw TokenizerError("\(source): added token id \(a.id) is out of range for \(tokens.count) tokens")
        }
        for id in postProcessor.prefix + postProcessor.suffix where id < 0 || id >= tokens.count {
            throw TokenizerError("\(source): the post-processor adds token id \(id), out of range for \(tokens.count) tokens")
        }
        let prefix = options.continuingSubwordPrefix ?? ""
        var table = MergeTable(capacity: mergeList.count)
        for (rank, (left, right)) in mergeList.enumerated() {
            guard let a = ids[left] else { throw TokenizerError("\(source): merge \(rank) names unknown token \(Tokenizer.show(left))") }
            guard let b = ids[right] else { throw TokenizerError("\(source): merge \(rank) names unknown token \(Tokenizer.show(right))") }
            let joined = left + (right.hasPrefix(prefix) ? String(right.dropFirst(prefix.count)) : right)
            guard let c = ids[joined] else {
                throw TokenizerError("\(source): merge \(rank) makes \(Tokenizer.show(joined)), which is not in the vocabulary")
            }
            let key = UInt64(a) << 32 | UInt64(b)
            table.insertIfAbsent(key, UInt64(mergeRanks?[rank] ?? rank) << 32 | UInt64(c))
        }
        self.tokens = tokens
        self.ids = ids
        self.merges = table
        self.byteIds = ByteLevel.byteToScalar.map { s in Int32(ids[String(s)] ?? -1) }
        self.fallbackIds = (0..<256).map { Int32(ids[ByteFallback.name(UInt8($0))] ?? -1) }
        self.normalizer = normalizer
        self.preTokenizer = preTokenizer
        self.decoder = decoder
        self.options = options
        self.addedTokens = added.sorted { $0.id < $1.id }
        self.postProcessor = postProcessor
        var isSpecial = [Bool](repeating: false, count: tokens.count)
        var isAdded = isSpecial
        for a in added {
            isAdded[a.id] = true
            if a.special { isSpecial[a.id] = true }
        }
        self.isSpecial = isSpecial
        self.isAdded = isAdded
        let byteLevel = preTokenizer.isByteLevel
        self.byteLevel = byteLevel
        let raw = normalizer == nil ? added : added.filter { !$0.normalized }
        rawMatcher = AddedTokenMatcher(raw, normalize: nil)
        normalizedMatcher = normalizer.map { n in AddedTokenMatcher(added.filter(\.normalized)) { n.apply($0.unicodeScalars.map(\.value)) } }
            ?? AddedTokenMatcher([], normalize: nil)
        var whole: [[UInt8]: Int32] = [:]
        if options.ignoreMerges && byteLevel {
            for (i, t) in tokens.enumerated() where !isAdded[i] { if let b = ByteLevel.bytes(of: t) { whole[b] = Int32(i) } }
        }
        wholeByteIds = whole
        spaceMarker = Tokenizer.spaceMarker(preTokenizer: preTokenizer, normalizer: normalizer)
        self.bosId = bosId
        self.eosId = eosId
        self.unknownId = unknownId
        self.padId = padId
        self.chatTemplate = chatTemplate
        self.source = source
    }

    /// A byte-level GPT-2-style tokenizer whose `specialIds` are matched before BPE (how Finch trains and how GGUF "gpt2" files read).
    public convenience init(tokens: [String], merges: [String], specialIds: [Int], preTokenizer: PreTokenizer = .gpt2,
                            bosId: Int? = nil, eosId: Int? = nil, unknownId: Int? = nil, padId: Int? = nil,
                            addBOS: Bool = false, addEOS: Bool = false, chatTemplate: String? = nil, source: String = "tokenizer") throws {
        for id in specialIds where id < 0 || id >= tokens.count {
            throw TokenizerError("\(source): special token id \(id) is out of range for \(tokens.count) tokens")
        }
        try self.init(tokens: tokens, merges: merges, added: specialIds.map { AddedToken(id: $0, content: tokens[$0]) },
                      preTokenizer: preTokenizer, decoder: .byteLevel,
                      postProcessor: PostProcessor(prefix: addBOS ? bosId.map { [$0] } ?? [] : [], suffix: addEOS ? eosId.map { [$0] } ?? [] : []),
                      bosId: bosId, eosId: eosId, unknownId: unknownId, padId: padId, chatTemplate: chatTemplate, source: source)
    }

    private static func spaceMarker(preTokenizer: PreTokenizer, normalizer: Normalizer?) -> UInt32? {
        func fromPre(_ p: PreTokenizer) -> UInt32? {
            switch p {
            case .metaspace(let r, _, _): return r
            case .sequence(let steps): return steps.lazy.compactMap(fromPre).first
            default: return nil
            }
        }
        func fromNormalizer(_ n: Normalizer) -> UInt32? {
            switch n {
            case .replace(.string(" "), let content) where content.unicodeScalars.count == 1: return content.unicodeScalars.first!.value
            case .sequence(let steps): return steps.lazy.compactMap(fromNormalizer).first
            default: return nil
            }
        }
        return fromPre(preTokenizer) ?? normalizer.flatMap(fromNormalizer)
    }

    static func show(_ token: String) -> String { "\"" + token.unicodeScalars.map { $0.escaped(asASCII: false) }.joined() + "\"" }

    /// The id of a token string, if it is in the vocabulary.
    public func id(of token: String) -> Int? { ids[token] }

    /// The merges as "left right" strings, in rank order (as GGUF lists them).
    public var mergeList: [String] { mergePairs.map { $0.0 + " " + $0.1 } }

    /// The merges as pairs, in rank order (as tokenizer.json lists them).
    public var mergePairs: [(String, String)] {
        merges.entries.sorted { ($0.value >> 32, $0.value & 0xFFFF_FFFF) < ($1.value >> 32, $1.value & 0xFFFF_FFFF) }.map { entry in
            (tokens[Int(entry.key >> 32)], tokens[Int(entry.key & 0xFFFF_FFFF)])
        }
    }

    // MARK: Encoding

    /// Token ids for `text`; `addSpecial` adds what the post-processor adds (BOS ...).
    public func encode(_ text: String, addSpecial: Bool = true) -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(text.utf8.count / 3 + 2)
        if addSpecial { out += postProcessor.prefix }
        let scalars = text.unicodeScalars.map(\.value)
        var state = EncodeState()
        scalars.withUnsafeBufferPointer { s in
            if rawMatcher.isEmpty {
                encodeSegment(s, 0..<s.count, into: &out, state: &state)
            } else {
                for (range, token) in rawMatcher.split(s, 0..<s.count) {
                    if let token { out.append(token.id) } else { encodeSegment(s, range, into: &out, state: &state) }
                }
            }
        }
        if addSpecial { out += postProcessor.suffix }
        return out
    }

    /// Scratch space one encode call reuses.
    struct EncodeState {
        /// Pieces repeat (words, spaces, punctuation): each distinct one is merged once per call.
        var cache = PieceCache()
        var bytes: [UInt8] = []
        var stack: [Regex.Backtrack] = []
    }

    private func encodeSegment(_ s: UnsafeBufferPointer<UInt32>, _ range: Range<Int>, into out: inout [Int], state: inout EncodeState) {
        var text = Array(s[range])
        let atTextStart = range.lowerBound == 0
        if let normalizer {
            text = normalizer.apply(text)
            if !normalizedMatcher.isEmpty {
                let parts = text.withUnsafeBufferPointer { normalizedMatcher.split($0, 0..<$0.count) }
                for (r, token) in parts {
                    if let token { out.append(token.id); continue }
                    var piece = Array(text[r])
                    pieces(&piece, atTextStart: atTextStart && r.lowerBound == 0, into: &out, state: &state)
                }
                return
            }
        }
        pieces(&text, atTextStart: atTextStart, into: &out, state: &state)
    }

    private func pieces(_ text: inout [UInt32], atTextStart: Bool, into out: inout [Int], state: inout EncodeState) {
        var pieces = [0..<text.count]
        preTokenizer.apply(&text, &pieces, atTextStart: atTextStart, stack: &state.stack)
        text.withUnsafeBufferPointer { s in
            for piece in pieces where !piece.isEmpty {
                state.bytes.removeAll(keepingCapacity: true)
                for k in piece { Tokenizer.appendUTF8(s[k], to: &state.bytes) }
                if state.bytes.withUnsafeBufferPointer({ state.cache.lookup($0, into: &out) }) { continue }
                let ids = byteLevel ? bytePiece(state.bytes) : charPiece(s, piece)
                if state.bytes.count <= 64 { state.bytes.withUnsafeBufferPointer { state.cache.insert($0, ids) } }
                for id in ids { out.append(Int(id)) }
            }
        }
    }

    @inline(__always)
    static func appendUTF8(_ v: UInt32, to bytes: inout [UInt8]) {
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

    /// A byte-level piece: one symbol per byte, then merges.
    func bytePiece(_ bytes: [UInt8]) -> [Int32] {
        if options.ignoreMerges, let whole = wholeByteIds[bytes] { return [whole] }
        var symbols: [Int32] = []
        symbols.reserveCapacity(bytes.count)
        for b in bytes {
            let id = byteIds[Int(b)]
            if id >= 0 { symbols.append(id) } else { appendUnknown(&symbols) }
        }
        merge(&symbols)
        return symbols
    }

    /// A character-level piece: one symbol per character (with the subword prefix and word suffix
    /// where the model has them), characters outside the vocabulary as <0xAB> bytes or the unknown token.
    func charPiece(_ s: UnsafeBufferPointer<UInt32>, _ piece: Range<Int>) -> [Int32] {
        if options.ignoreMerges, let whole = ids[ByteFallback.string(Array(s[piece]))] { return [Int32(whole)] }
        var symbols: [Int32] = []
        symbols.reserveCapacity(piece.count)
        var bytes: [UInt8] = []
        for k in piece {
            var text = ByteFallback.string([s[k]])
            if k > piece.lowerBound, let p = options.continuingSubwordPrefix { text = p + text }
            if k == piece.upperBound - 1, let sfx = options.endOfWordSuffix { text += sfx }
            if let id = ids[text] { symbols.append(Int32(id)); continue }
            if options.byteFallback {
                bytes.removeAll(keepingCapacity: true)
                Tokenizer.appendUTF8(s[k], to: &bytes)
                let fallback = bytes.map { fallbackIds[Int($0)] }
                if !fallback.contains(-1) { symbols += fallback; continue }
            }
            appendUnknown(&symbols)
        }
        merge(&symbols)
        return symbols
    }

    private func appendUnknown(_ symbols: inout [Int32]) {
        guard let u = unknownId.map(Int32.init) else { return }  // no unknown token: the reference drops the character
        if options.fuseUnknown, symbols.last == u { return }
        symbols.append(u)
    }

    /// Merges a word's symbols: repeatedly join the adjacent pair with the lowest rank (leftmost among equals).
    func merge(_ symbols: inout [Int32]) {
        if symbols.count > 48 { return mergeLong(&symbols) }
        while symbols.count > 1 {
            var best = UInt64.max
            var at = -1
            for k in 0..<(symbols.count - 1) {
                // Ranks only: equal ranks (SentencePiece scores) go to the leftmost pair.
                if let m = merges[pairKey(symbols[k], symbols[k + 1])], m >> 32 < best >> 32 {
                    best = m
                    at = k
                }
            }
            if at < 0 { break }
            symbols[at] = Int32(truncatingIfNeeded: best & 0xFFFF_FFFF)
            symbols.remove(at: at + 1)
        }
    }

    @inline(__always) private func pairKey(_ a: Int32, _ b: Int32) -> UInt64 { UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b)) }

    /// The same merges for a long word (SentencePiece models see whole texts as one word): a heap of
    /// candidate pairs keyed by (rank, position) over a linked list, O(n log n) instead of O(n²).
    private func mergeLong(_ symbols: inout [Int32]) {
        let n = symbols.count
        var next = Array(1...n)  // n: none
        var prev = Array(-1..<(n - 1))
        var alive = [Bool](repeating: true, count: n)
        var heap = MinHeap()
        for k in 0..<(n - 1) {
            if let m = merges[pairKey(symbols[k], symbols[k + 1])] { heap.push((m >> 32) << 32 | UInt64(k)) }
        }
        while let top = heap.pop() {
            let k = Int(top & 0xFFFF_FFFF)
            let rank = top >> 32
            guard alive[k], next[k] < n else { continue }
            let r = next[k]
            guard let m = merges[pairKey(symbols[k], symbols[r])], m >> 32 == rank else { continue }
            symbols[k] = Int32(truncatingIfNeeded: m & 0xFFFF_FFFF)
            alive[r] = false
            next[k] = next[r]
            if next[r] < n { prev[next[r]] = k }
            if prev[k] >= 0, let p = merges[pairKey(symbols[prev[k]], symbols[k])] { heap.push((p >> 32) << 32 | UInt64(prev[k])) }
            if next[k] < n, let q = merges[pairKey(symbols[k], symbols[next[k]])] { heap.push((q >> 32) << 32 | UInt64(k)) }
        }
        var out: [Int32] = []
        var k = 0
        while k < n { out.append(symbols[k]); k = next[k] }
        symbols = out
    }

    // MARK: Decoding

    /// The text of a sequence of ids, through the model's decoder. Never fails: unknown ids are
    /// skipped, and bytes that do not form valid UTF-8 become U+FFFD, as in the reference.
    public func decode(_ ids: [Int], skipSpecial: Bool = false) -> String {
        if byteLevel, case .byteLevel? = decoder { return String(decoding: decodeBytes(ids, skipSpecial: skipSpecial), as: UTF8.self) }
        let strings = ids.filter { $0 >= 0 && $0 < tokens.count && !(skipSpecial && isSpecial[$0]) }.map { tokens[$0] }
        guard let decoder else { return strings.joined(separator: " ") }
        return decoder.apply(strings).joined()
    }

    /// The bytes of a sequence of ids as they read in the middle of a text (streaming output joins
    /// them before turning them into text, since one character can span tokens).
    public func decodeBytes(_ ids: [Int], skipSpecial: Bool = false) -> [UInt8] {
        var bytes: [UInt8] = []
        for id in ids where id >= 0 && id < tokens.count {
            if skipSpecial && isSpecial[id] { continue }
            let t = tokens[id]
            if byteLevel || isAdded[id] {
                if !isAdded[id], let b = ByteLevel.bytes(of: t) { bytes += b } else { bytes += t.utf8 }
            } else if options.byteFallback, let b = ByteFallback.byte(of: t) {
                bytes.append(b)
            } else {
                var scalars = t.unicodeScalars.map(\.value)
                if let marker = spaceMarker { scalars = scalars.map { $0 == marker ? 0x20 : $0 } }
                var text = ByteFallback.string(scalars)
                if let p = options.continuingSubwordPrefix, text.hasPrefix(p) { text.removeFirst(p.count) }
                if let sfx = options.endOfWordSuffix, text.hasSuffix(sfx) { text = String(text.dropLast(sfx.count)) + " " }
                bytes += text.utf8
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
            return String(decoding: decodeBytes([id]), as: UTF8.self)
        }
    }
}

/// The BPE model's options (tokenizer.json's "model").
public struct BPEOptions: Sendable, Equatable {
    /// Characters outside the vocabulary become their UTF-8 bytes as <0xAB> tokens.
    public var byteFallback = false
    /// A piece that is a token is that token, merges or not (Llama 3).
    public var ignoreMerges = false
    /// Consecutive unknown characters become one unknown token.
    public var fuseUnknown = false
    public var continuingSubwordPrefix: String?
    public var endOfWordSuffix: String?

    public init(byteFallback: Bool = false, ignoreMerges: Bool = false, fuseUnknown: Bool = false,
                continuingSubwordPrefix: String? = nil, endOfWordSuffix: String? = nil) {
        self.byteFallback = byteFallback
        self.ignoreMerges = ignoreMerges
        self.fuseUnknown = fuseUnknown
        self.continuingSubwordPrefix = continuingSubwordPrefix
        self.endOfWordSuffix = endOfWordSuffix
    }
}

/// Tokens put around every encoded text (tokenizer.json's TemplateProcessing for a single sequence).
public struct PostProcessor: Sendable, Equatable {
    public var prefix: [Int]
    public var suffix: [Int]
    public init(prefix: [Int] = [], suffix: [Int] = []) {
        self.prefix = prefix
        self.suffix = suffix
    }
}

/// A binary min-heap of UInt64 keys.
struct MinHeap {
    var items: [UInt64] = []

    mutating func push(_ x: UInt64) {
        items.append(x)
        var i = items.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            if items[p] <= items[i] { break }
            items.swapAt(p, i)
            i = p
        }
    }

    mutating func pop() -> UInt64? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < items.count && items[l] < items[m] { m = l }
                if r < items.count && items[r] < items[m] { m = r }
                if m == i { break }
                items.swapAt(m, i)
                i = m
            }
        }
        return top
    }
}
