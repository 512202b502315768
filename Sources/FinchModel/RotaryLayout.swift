import FinchTensor

/// GGUF files store llama's q and k projections with each head's rows reordered so
/// that rotary pairs are adjacent (llama.cpp rotates (x[2i], x[2i+1])); the Hugging
/// Face layout, which Finch uses, rotates halves (x[i], x[i + d/2]). Within a head of
/// d rows:  pairs row 2i + s  <->  halves row s·d/2 + i   (s = 0 or 1, i < d/2).
public enum RotaryLayout {
    /// Rows of a [heads·d, ...] tensor reordered from the GGUF (pairs) layout to the halves layout.
    public static func pairsToHalves(_ t: Tensor, heads: Int) throws -> Tensor { try reorder(t, heads: heads, toHalves: true) }

    /// Rows of a [heads·d, ...] tensor reordered from the halves layout to the GGUF (pairs) layout.
    public static func halvesToPairs(_ t: Tensor, heads: Int) throws -> Tensor { try reorder(t, heads: heads, toHalves: false) }

    /// Within a head, pairs rows are [d/2, 2] groups of one row and halves rows [2, d/2]: a transposition of row groups.
    private static func reorder(_ t: Tensor, heads: Int, toHalves: Bool) throws -> Tensor {
        let rows = t.shape[0]
        guard heads > 0, rows % (2 * heads) == 0 else {
            throw ModelError("cannot reorder \(t.shape) for rotary pairs: \(rows) rows are not \(heads) heads of an even size")
        }
        let half = rows / heads / 2
        return try RowGroups.reorder(t, blocks: heads, outer: toHalves ? half : 2, inner: toHalves ? 2 : half)
    }
}
