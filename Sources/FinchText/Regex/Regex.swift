/// A compiled regular expression, run by a backtracking machine over unicode
/// scalars with leftmost-first alternation (Perl/Oniguruma semantics, which
/// tokenizer patterns are written for). A run of one class (`\p{L}+`, `\s*`,
/// `\p{N}{1,3}`) is one instruction that backs off a scalar at a time, so the
/// common patterns push one backtrack entry per run, not per character.
public final class Regex: @unchecked Sendable {
    public let pattern: String

    struct Inst {
        var op: Op
        var a: Int32 = 0
        var b: Int32 = 0
        var c: Int32 = 0
    }

    enum Op: UInt8 {
        case char         // a = scalar
        case set          // a = set index
        case run          // a = set index, b = min, c = max (-1: unbounded); greedy
        case runPossessive
        case split        // try a, on failure b
        case jump         // a
        case look         // a = end of the sub-program, b = 1 when negated
        case succeed      // end of a lookahead's sub-program
        case anchor       // a = kind
        case match
    }

    var program: [Inst] = []
    var sets: [CharSet] = [] {
        didSet { asciiBits = sets.flatMap { [$0.asciiLow, $0.asciiHigh] } }
    }
    /// Each set's ASCII membership (two words per set), read without touching the set itself.
    var asciiBits: [UInt64] = []
    /// Gives up on a start position after this many steps (a pathological pattern from a file must not hang).
    static let stepLimit = 1 << 22

    /// Parses and compiles `pattern`; an unsupported or malformed pattern is an error naming it.
    public init(_ pattern: String) throws {
        self.pattern = pattern
        var parser = RegexParser(pattern)
        let tree = try parser.parse()
        // A top-level alternation is compiled one alternative at a time, each ending in a match, so that
        // matching can go straight to the alternatives whose first scalar fits (tried in order, which
        // is leftmost-first alternation).
        let alternatives: [RegexNode]
        if case .alternation(let alts) = tree { alternatives = alts } else { alternatives = [tree] }
        var firstSets: [[Int32]?] = []
        for alt in alternatives {
            entries.append(program.count)
            let first = alt.nullable ? nil : RegexNode.firstSets(alt)
            firstSets.append(first.map { sets in sets.map { addSet($0) } })
            try compile(alt)
            program.append(Inst(op: .match))
        }
        // Which alternatives each ASCII scalar can begin (a bit per alternative), and for the rest the
        // sets to test; past 64 alternatives every one is tried, in order.
        let count = min(entries.count, 64)
        startSets = firstSets.prefix(count).map { $0 ?? [] }
        anyStart = firstSets.prefix(count).enumerated().reduce(0) { m, e in e.element == nil ? m | 1 << UInt64(e.offset) : m }
        asciiStart = (0..<128).map { v in
            var mask = anyStart
            for (k, sets) in startSets.enumerated() where sets.contains(where: { contains(Int($0), UInt32(v)) }) { mask |= 1 << UInt64(k) }
            return mask
        }
    }

    /// Where each top-level alternative starts.
    var entries: [Int] = []
    /// The sets an alternative's first scalar must be in (empty when it can match the empty string).
    var startSets: [[Int32]] = []
    /// Alternatives that may match without consuming a scalar (tried wherever they come).
    var anyStart: UInt64 = 0
    /// For each ASCII scalar, the alternatives it can begin.
    var asciiStart: [UInt64] = []

    // MARK: Compiling

    private func addSet(_ s: CharSet) -> Int32 {
        sets.append(s)
        return Int32(sets.count - 1)
    }

    private func emit(_ inst: Inst) -> Int {
        program.append(inst)
        return program.count - 1
    }

    private func singleSet(_ node: RegexNode) -> CharSet? {
        switch node {
        case .set(let s): return s
        case .char(let v):
            var s = CharSet(items: [.range(v, v)])
            s.finish()
            return s
        default: return nil
        }
    }

    private func compile(_ node: RegexNode) throws {
        if program.count > 100_000 { throw RegexError(description: "regular expression \(Tokenizer.show(pattern)): too large once repeats are expanded") }
        switch node {
        case .empty: break
        case .char(let v): _ = emit(Inst(op: .char, a: Int32(bitPattern: v)))
        case .set(let s): _ = emit(Inst(op: .set, a: addSet(s)))
        case .concat(let parts): for p in parts { try compile(p) }
        case .alternation(let alts):
            var jumps: [Int] = []
            for (k, alt) in alts.enumerated() {
                if k < alts.count - 1 {
                    let split = emit(Inst(op: .split))
                    program[split].a = Int32(program.count)
                    try compile(alt)
                    jumps.append(emit(Inst(op: .jump)))
                    program[split].b = Int32(program.count)
                } else {
                    try compile(alt)
                }
            }
            for j in jumps { program[j].a = Int32(program.count) }
        case .lookahead(let inner, let negate):
            let look = emit(Inst(op: .look, b: negate ? 1 : 0))
            try compile(inner)
            _ = emit(Inst(op: .succeed))
            program[look].a = Int32(program.count)
        case .anchor(let kind):
            let kinds: [RegexNode.Anchor] = [.lineStart, .lineEnd, .textStart, .textEnd, .textEndBeforeNewline, .wordBoundary, .notWordBoundary]
            _ = emit(Inst(op: .anchor, a: Int32(kinds.firstIndex(of: kind)!)))
        case .repeatNode(let inner, let min, let max, let greedy, let possessive):
            if let s = singleSet(inner), greedy {
                _ = emit(Inst(op: possessive ? .runPossessive : .run, a: addSet(s), b: Int32(min), c: Int32(max)))
                return
            }
            if possessive { throw RegexError(description: "regular expression \(Tokenizer.show(pattern)): a possessive repeat of a group is not supported") }
            for _ in 0..<min { try compile(inner) }
            if max < 0 {
                // L: split(body, out); body; jump L
                let split = emit(Inst(op: .split))
                let body = program.count
                try compile(inner)
                _ = emit(Inst(op: .jump, a: Int32(split)))
                let out = Int32(program.count)
                program[split].a = greedy ? Int32(body) : out
                program[split].b = greedy ? out : Int32(body)
            } else if max > min {
                var splits: [Int] = []
                for _ in min..<max {
                    let split = emit(Inst(op: .split))
                    splits.append(split)
                    program[split].a = Int32(program.count)
                    try compile(inner)
                }
                let out = Int32(program.count)
                for s in splits {
                    let body = program[s].a
                    program[s].a = greedy ? body : out
                    program[s].b = greedy ? out : body
                }
            }
        }
    }

    // MARK: Matching

    struct Backtrack {
        var pc: Int32
        var pos: Int32
        /// For a run: the lowest position it may back off to; -1 for a plain alternative.
        var low: Int32
    }

    /// The end of the match starting at `start`, or -1.
    func match(_ s: UnsafeBufferPointer<UInt32>, at start: Int, end: Int, stack: inout [Backtrack]) -> Int {
        if entries.count > 64 {
            for entry in entries {
                let e = run(s, pc: entry, at: start, end: end, stack: &stack)
                if e >= 0 { return e }
            }
            return -1
        }
        var mask = anyStart
        if start < end {
            let v = s[start]
            if v < 128 {
                mask = asciiStart[Int(v)]
            } else {
                for (k, sets) in startSets.enumerated() where sets.contains(where: { contains(Int($0), v) }) { mask |= 1 << UInt64(k) }
            }
        }
        // Lowest bit first: the alternatives in the pattern's order (leftmost-first).
        while mask != 0 {
            let k = mask.trailingZeroBitCount
            mask &= mask - 1
            let e = run(s, pc: entries[k], at: start, end: end, stack: &stack)
            if e >= 0 { return e }
        }
        return -1
    }

    @inline(__always) private func contains(_ k: Int, _ v: UInt32) -> Bool {
        if v < 64 { return asciiBits[2 * k] >> UInt64(v) & 1 != 0 }
        if v < 128 { return asciiBits[2 * k + 1] >> UInt64(v - 64) & 1 != 0 }
        return sets[k].slowContains(v)
    }

    private func run(_ s: UnsafeBufferPointer<UInt32>, pc startPC: Int, at start: Int, end: Int, stack: inout [Backtrack]) -> Int {
        let base = stack.count
        defer { stack.removeSubrange(base...) }
        var pc = startPC
        var pos = start
        var steps = 0
        return program.withUnsafeBufferPointer { prog in
            asciiBits.withUnsafeBufferPointer { bits in
            sets.withUnsafeBufferPointer { sets in
                @inline(__always) func inSet(_ k: Int, _ v: UInt32) -> Bool {
                    if v < 64 { return bits[2 * k] >> UInt64(v) & 1 != 0 }
                    if v < 128 { return bits[2 * k + 1] >> UInt64(v - 64) & 1 != 0 }
                    return sets[k].slowContains(v)
                }
                while true {
                    steps += 1
                    var ok = true
                    let inst = prog[pc]
                    switch inst.op {
                    case .char:
                        if pos < end && s[pos] == UInt32(bitPattern: inst.a) { pos += 1; pc += 1 } else { ok = false }
                    case .set:
                        if pos < end && inSet(Int(inst.a), s[pos]) { pos += 1; pc += 1 } else { ok = false }
                    case .run, .runPossessive:
                        let set = Int(inst.a)
                        let limit = inst.c < 0 ? end : Swift.min(end, pos + Int(inst.c))
                        var k = pos
                        while k < limit && inSet(set, s[k]) { k += 1 }
                        let low = pos + Int(inst.b)
                        if k < low { ok = false; break }
                        if k > low && inst.op == .run { stack.append(Backtrack(pc: Int32(pc + 1), pos: Int32(k - 1), low: Int32(low))) }
                        pos = k
                        pc += 1
                    case .split:
                        stack.append(Backtrack(pc: inst.b, pos: Int32(pos), low: -1))
                        pc = Int(inst.a)
                    case .jump:
                        pc = Int(inst.a)
                    case .look:
                        // The sub-program backtracks above this run's entries and removes its own.
                        let found = run(s, pc: pc + 1, at: pos, end: end, stack: &stack) >= 0
                        if found == (inst.b == 1) { ok = false } else { pc = Int(inst.a) }
                    case .succeed, .match:
                        return pos
                    case .anchor:
                        if anchorHolds(Int(inst.a), s, pos, end) { pc += 1 } else { ok = false }
                    }
                    if ok { continue }
                    // Back off to the latest alternative.
                    if stack.count == base || steps > Regex.stepLimit { return -1 }
                    let b = stack.removeLast()
                    pc = Int(b.pc)
                    pos = Int(b.pos)
                    if b.low >= 0 && b.pos > b.low { stack.append(Backtrack(pc: b.pc, pos: b.pos - 1, low: b.low)) }
                }
            }
            }
        }
    }

    private func anchorHolds(_ kind: Int, _ s: UnsafeBufferPointer<UInt32>, _ pos: Int, _ end: Int) -> Bool {
        switch kind {
        case 0: return pos == 0 || s[pos - 1] == 0x0A
        case 1: return pos == end || s[pos] == 0x0A
        case 2: return pos == 0
        case 3: return pos == end
        case 4: return pos == end || (pos == end - 1 && s[pos] == 0x0A)
        default:
            let before = pos > 0 && CharSet.isWord(s[pos - 1])
            let after = pos < end && CharSet.isWord(s[pos])
            return (before != after) == (kind == 5)
        }
    }

    /// The non-overlapping matches in `s[range]`, leftmost first, as ranges (empty matches are skipped).
    func matches(_ s: UnsafeBufferPointer<UInt32>, _ range: Range<Int>, stack: inout [Backtrack], into out: inout [Range<Int>]) {
        var pos = range.lowerBound
        while pos < range.upperBound {
            let e = match(s, at: pos, end: range.upperBound, stack: &stack)
            if e > pos {
                out.append(pos..<e)
                pos = e
            } else {
                pos += 1
            }
        }
    }

    /// The matches in a string, as substrings (for tests and the REPL).
    public func matches(in text: String) -> [String] {
        let scalars = text.unicodeScalars.map(\.value)
        var ranges: [Range<Int>] = []
        var stack: [Backtrack] = []
        scalars.withUnsafeBufferPointer { matches($0, 0..<$0.count, stack: &stack, into: &ranges) }
        let all = Array(text.unicodeScalars)
        return ranges.map { r in var s = String.UnicodeScalarView(); s.append(contentsOf: all[r]); return String(s) }
    }
}
