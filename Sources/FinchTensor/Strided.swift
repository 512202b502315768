/// Walking strided tensors row by row: the outer dimensions are counted with an
/// index vector, the last dimension is a tight loop the caller writes.
enum Strided {
    /// Strides of `t` broadcast to `shape` (0 where t has size 1 or lacks the axis).
    static func broadcastStrides(_ t: Tensor, to shape: [Int]) -> [Int] {
        let pad = shape.count - t.rank
        var out = [Int](repeating: 0, count: shape.count)
        for i in 0..<t.rank where t.shape[i] != 1 || shape[i + pad] == 1 {
            out[i + pad] = t.shape[i] == 1 ? 0 : t.strides[i]
        }
        return out
    }

    /// For rows `rows` of `shape` (a row = all but the last axis), calls
    /// body(row, offsetA, offsetB) with element offsets under strides `sa`, `sb`.
    @inline(__always)
    static func rows2(_ shape: [Int], _ sa: [Int], _ sb: [Int], rows: Range<Int>, _ body: (Int, Int, Int) -> Void) {
        let outer = shape.count - 1
        if outer <= 0 {
            if !rows.isEmpty { body(0, 0, 0) }
            return
        }
        var index = [Int](repeating: 0, count: outer)
        var r = rows.lowerBound
        var oa = 0, ob = 0
        for d in stride(from: outer - 1, through: 0, by: -1) {
            index[d] = r % shape[d]
            r /= shape[d]
            oa += index[d] * sa[d]
            ob += index[d] * sb[d]
        }
        for row in rows {
            body(row, oa, ob)
            var d = outer - 1
            while d >= 0 {
                index[d] += 1
                oa += sa[d]
                ob += sb[d]
                if index[d] < shape[d] { break }
                oa -= sa[d] * shape[d]
                ob -= sb[d] * shape[d]
                index[d] = 0
                d -= 1
            }
        }
    }

    /// Number of rows (product of all but the last axis).
    static func rowCount(_ shape: [Int]) -> Int { shape.isEmpty ? 1 : Shape.product(shape.dropLast()) }

    /// Copies `src` into `dst` (same shape, any strides).
    static func copy(from src: Tensor, into dst: Tensor) {
        let shape = src.shape
        let n = shape.last ?? 1
        let ss = src.strides.last ?? 1, ds = dst.strides.last ?? 1
        let ps = src.pointer, pd = dst.pointer
        let rows = rowCount(shape)
        parallelRanges(rows, grain: max(1, 65536 / max(n, 1))) { range in
            rows2(shape, src.strides, dst.strides, rows: range) { _, os, od in
                let s = ps + os, d = pd + od
                if ss == 1 && ds == 1 {
                    d.update(from: s, count: n)
                } else {
                    for i in 0..<n { d[i &* ds] = s[i &* ss] }
                }
            }
        }
    }
}
