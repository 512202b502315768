import FinchDist
import FinchIO
import Testing

/// The world of one process: every collective gives back its input, and shares cover the work.
@Suite struct WorldTests {
    @Test func aloneEveryCollectiveIsTheIdentity() throws {
        let w = World.current
        #expect(w.rank == 0 && w.size == 1 && !w.isDistributed && w.isLeader)
        #expect(w.sum([1.5, -2]) == [1.5, -2])
        #expect(w.max(3) == 3)
        #expect(w.gather([7, 8] as [UInt64]) == [[7, 8]])
        #expect(try w.gather(["a", "b"]) == [["a", "b"]])
        #expect(w.share(of: 10) == 0..<10)
        try w.checkSame([("x", 1)])
    }

    @Test func fingerprintsSeeEveryBit() {
        var a = Fingerprint(), b = Fingerprint(), c = Fingerprint()
        let x: [Float] = [1, 2, 3], y: [Float] = [1, 2, 3.0000002]
        x.withUnsafeBufferPointer { a.add($0.baseAddress!, count: 3) }
        x.withUnsafeBufferPointer { b.add($0.baseAddress!, count: 3) }
        y.withUnsafeBufferPointer { c.add($0.baseAddress!, count: 3) }
        #expect(a.value == b.value && a.value != c.value)
        var d = Fingerprint(), e = Fingerprint()
        d.add([1, 2]); e.add([2, 1])
        #expect(d.value != e.value)
    }

    @Test func utf8IsCutOnlyBetweenCharacters() {
        #expect(UTF8Text.wholeCharacters(Array("ab".utf8), upTo: 2) == 2)
        let arrow = Array("a→".utf8)  // 1 + 3 bytes
        #expect(UTF8Text.wholeCharacters(arrow, upTo: 4) == 4)
        #expect(UTF8Text.wholeCharacters(Array(arrow.prefix(3)), upTo: 3) == 1)
        #expect(UTF8Text.wholeCharacters(Array(arrow.prefix(2)), upTo: 2) == 1)
    }
}
