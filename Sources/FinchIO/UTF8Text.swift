/// Text that arrives as bytes a piece at a time (generated tokens, a child process's output).
public enum UTF8Text {
    /// The largest end ≤ `limit` that does not split a UTF-8 character of `bytes`: step back over
    /// continuation bytes to the lead byte, and keep it only if its character is whole.
    public static func wholeCharacters(_ bytes: [UInt8], upTo limit: Int) -> Int {
        var lead = limit - 1, back = 0
        while lead >= 0, back < 4, bytes[lead] & 0xC0 == 0x80 { lead -= 1; back += 1 }
        guard lead >= 0 else { return limit }
        let b = bytes[lead]
        let length = b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1
        return limit - lead < length ? lead : limit
    }
}
