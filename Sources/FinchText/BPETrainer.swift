import Foundation

/// Learning a byte-level BPE vocabulary from text, as in pretraining: pieces are
/// counted once, every byte starts as a token, and the most frequent adjacent
/// pair is merged into a new token until the vocabulary has the asked size.
/// Ties go to the pair whose merged bytes sort first, so training is
/// deterministic.
public enum BPETrainer {
    /// Trains a tokenizer with `vocabSize` tokens: the special tokens first, then the 256 bytes, then merges.
    /// `progress(done, total)` is called every 100 merges; an error it throws (Ctrl-C) ends training.
    public static func train(texts: [String], vocabSize: Int, special: [String] = [], preTokenizer: PreTokenizer = .gpt2,
                             progress: ((Int, Int) throws -> Void)? = nil) throws -> Tokenizer {
        let base = special.count + 256
        guard vocabSize >= base else {
            throw TokenizerError("bpe_train: vocab \(vocabSize) is smaller than the \(special.count) special tokens plus 256 byte tokens")
        }
        guard Set(special).count == special.count else { throw TokenizerError("bpe_train: special tokens repeat") }

        // Count distinct pieces.
        var counts: [[UInt8]: Int] = [:]
        for text in texts {
            let scalars = Array(text.unicodeScalars)
            var bytes: [UInt8] = []
            for piece in preTokenizer.split(scalars) {
                bytes.removeAll(keepingCapacity: true)
                for k in piece { Tokenizer.appendUTF8(scalars[k].value, to: &bytes) }
                counts[bytes, default: 0] += 1
            }
        }
        var tokens = special + ByteLevel.byteToScalar.map { String($0) }
        var tokenBytes: [[UInt8]] = special.map { Array($0.utf8) } + (0..<256).map { [UInt8($0)] }
        var words: [[Int32]] = []
        var weights: [Int] = []
        for (bytes, n) in counts.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            words.append(bytes.map { Int32(special.count) + Int32($0) })
            weights.append(n)
        }

        @inline(__always) func key(_ a: Int32, _ b: Int32) -> UInt64 { UInt64(UInt32(a)) << 32 | UInt64(UInt32(b)) }
        var pairCounts: [UInt64: Int] = [:]
        var pairWords: [UInt64: Set<Int>] = [:]
        for (w, symbols) in words.enumerated() where symbols.count > 1 {
            for k in 0..<(symbols.count - 1) {
                let p = key(symbols[k], symbols[k + 1])
                pairCounts[p, default: 0] += weights[w]
                pairWords[p, default: []].insert(w)
            }
        }

        var merges: [String] = []
        let total = vocabSize - base
        while merges.count < total {
            // The most frequent pair; ties to the smaller merged byte string.
            var best: UInt64 = 0, bestCount = 0
            for (p, c) in pairCounts where c > 0 {
                if c > bestCount || (c == bestCount && isSmaller(p, than: best, tokenBytes)) { best = p; bestCount = c }
            }
            if bestCount == 0 { break }  // nothing left to merge: a smaller vocabulary than asked
            let a = Int32(truncatingIfNeeded: best >> 32), b = Int32(truncatingIfNeeded: best & 0xFFFF_FFFF)
            let merged = Int32(tokens.count)
            tokens.append(tokens[Int(a)] + tokens[Int(b)])
            tokenBytes.append(tokenBytes[Int(a)] + tokenBytes[Int(b)])
            merges.append(tokens[Int(a)] + " " + tokens[Int(b)])
            for w in pairWords[best] ?? [] {
                let old = words[w]
                for k in 0..<(old.count - 1) { pairCounts[key(old[k], old[k + 1]), default: 0] -= weights[w] }
                var new: [Int32] = []
                new.reserveCapacity(old.count)
                var k = 0
                while k < old.count {
                    if k + 1 < old.count, old[k] == a, old[k + 1] == b { new.append(merged); k += 2 } else { new.append(old[k]); k += 1 }
                }
                words[w] = new
                if new.count > 1 {
                    for k in 0..<(new.count - 1) {
                        let p = key(new[k], new[k + 1])
                        pairCounts[p, default: 0] += weights[w]
                        pairWords[p, default: []].insert(w)
                    }
                }
            }
            pairCounts[best] = nil
            pairWords[best] = nil
            if merges.count % 100 == 0 { try progress?(merges.count, total) }
        }
        try progress?(merges.count, total)
        return try Tokenizer(tokens: tokens, merges: merges, specialIds: Array(0..<special.count), preTokenizer: preTokenizer,
                             eosId: special.isEmpty ? nil : 0, source: "bpe_train")
    }

    private static func isSmaller(_ p: UInt64, than q: UInt64, _ bytes: [[UInt8]]) -> Bool {
        let pa = bytes[Int(p >> 32)] + bytes[Int(p & 0xFFFF_FFFF)]
        let qa = bytes[Int(q >> 32)] + bytes[Int(q & 0xFFFF_FFFF)]
        return pa.lexicographicallyPrecedes(qa)
    }
}
