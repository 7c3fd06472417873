/// `%HH` escaping helpers for URI components (RFC 3261 §19.1.2, §25.1).
public enum URIEscaping {
    /// Decodes `%HH` escapes; a `%` not followed by two hex digits is kept literally.
    public static func unescape(_ s: String) -> String { makeString(unescapeBytes(Array(s.utf8)[...])) }

    static func unescapeBytes(_ v: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(v.count)
        var i = v.startIndex
        while i < v.endIndex {
            let b = v[i]
            if b == ASCII.percent, i + 2 < v.endIndex, isHex(v[i + 1]), isHex(v[i + 2]) {
                out.append(hexValue(v[i + 1]) << 4 | hexValue(v[i + 2]))
                i += 3
                continue
            }
            out.append(b)
            i += 1
        }
        return out
    }

    /// Escapes every byte for which `allowed` is false.
    static func escape(_ s: String, allowed: (UInt8) -> Bool) -> String {
        let hex: [UInt8] = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for b in s.utf8 {
            if allowed(b) {
                out.append(b)
            } else {
                out.append(ASCII.percent)
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 15)])
            }
        }
        return makeString(out)
    }

    /// RFC 3261 `unreserved` (alphanum / mark).
    static func isUnreserved(_ b: UInt8) -> Bool {
        if isAlnum(b) { return true }
        switch b {
        case 45, 95, 46, 33, 126, 42, 39, 40, 41: return true
        default: return false
        }
    }

    /// Characters allowed unescaped in the user part: unreserved / user-unreserved.
    static func isUserChar(_ b: UInt8) -> Bool {
        if isUnreserved(b) { return true }
        switch b {
        case 38, 61, 43, 36, 44, 59, 63, 47: return true // & = + $ , ; ? /
        default: return false
        }
    }

    /// Characters allowed unescaped in the password: unreserved / & = + $ ,
    static func isPasswordChar(_ b: UInt8) -> Bool {
        if isUnreserved(b) { return true }
        switch b {
        case 38, 61, 43, 36, 44: return true
        default: return false
        }
    }

    /// Characters allowed in a URI parameter or header (escapes accepted separately).
    static func isParamChar(_ b: UInt8) -> Bool {
        if isUnreserved(b) { return true }
        switch b {
        case 91, 93, 47, 58, 38, 43, 36, 63, 37: return true // [ ] / : & + $ ? %
        default: return false
        }
    }
}
