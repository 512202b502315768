/// Which end of a sequence padding or truncation works on.
public enum Side: String, Sendable { case left, right }

/// Token ids for several texts made the same length, with masks saying which
/// positions are real (1) and which are padding (0).
public struct BatchEncoding: Sendable, Equatable {
    public var ids: [[Int]]
    public var attentionMask: [[Int]]
}

extension Tokenizer {
    /// Encodes texts together. Truncation keeps `maxLength` tokens, dropping from
    /// `truncationSide`; padding extends every row to the longest (or to `maxLength`
    /// with `padToMaxLength`) with `padId` (the pad token, else EOS) on `paddingSide`.
    public func batch(_ texts: [String], padding: Bool = true, padToMaxLength: Bool = false, paddingSide: Side = .right,
                      truncation: Bool = false, maxLength: Int? = nil, truncationSide: Side = .right,
                      addSpecial: Bool = true, padId: Int? = nil) throws -> BatchEncoding {
        if truncation || padToMaxLength {
            guard let m = maxLength, m > 0 else { throw TokenizerError("truncation and padding to max_length need a max_length above 0") }
        }
        var rows = texts.map { encode($0, addSpecial: addSpecial) }
        if truncation, let m = maxLength {
            rows = rows.map { r in r.count <= m ? r : (truncationSide == .right ? Array(r.prefix(m)) : Array(r.suffix(m))) }
        }
        var masks = rows.map { [Int](repeating: 1, count: $0.count) }
        if padding {
            guard let pad = padId ?? self.padId ?? eosId else {
                throw TokenizerError("padding needs a pad token: this tokenizer has neither a pad nor an end-of-sequence token")
            }
            let width = padToMaxLength ? maxLength! : (rows.map(\.count).max() ?? 0)
            for i in rows.indices where rows[i].count < width {
                let fill = width - rows[i].count
                if paddingSide == .right {
                    rows[i] += [Int](repeating: pad, count: fill)
                    masks[i] += [Int](repeating: 0, count: fill)
                } else {
                    rows[i] = [Int](repeating: pad, count: fill) + rows[i]
                    masks[i] = [Int](repeating: 0, count: fill) + masks[i]
                }
            }
        }
        return BatchEncoding(ids: rows, attentionMask: masks)
    }
}
