/// Minimal host/port extraction from a SIP URI or `host[:port]` text (for is_myself / `== myself`).
enum URIHost {
    static func split(_ text: String) -> (host: String, port: Int) {
        var text = text
        return text.withUTF8 { b -> (String, Int) in
            var i = 0
            let n = b.count
            if let lt = b.firstIndex(of: UInt8(ascii: "<")) { i = lt + 1 }
            // scheme
            var j = i
            while j < n && j - i < 5 && b[j] != UInt8(ascii: ":") && b[j] != UInt8(ascii: "@") { j += 1 }
            if j < n && b[j] == UInt8(ascii: ":") {
                let len = j - i
                let isScheme = (len == 3 || len == 4) && (lower(b[i]) == UInt8(ascii: "s") || lower(b[i]) == UInt8(ascii: "t"))
                if isScheme { i = j + 1 }
            }
            // user part ends at the last '@' before any ';', '?' or '>'
            var end = i
            while end < n && b[end] != UInt8(ascii: ">") && b[end] != UInt8(ascii: "?") { end += 1 }
            var at = -1
            var k = i
            while k < end { if b[k] == UInt8(ascii: "@") { at = k }; k += 1 }
            if at >= 0 { i = at + 1 }
            var hostStart = i
            var hostEnd: Int
            if i < n && b[i] == UInt8(ascii: "[") {
                hostStart = i + 1
                hostEnd = hostStart
                while hostEnd < n && b[hostEnd] != UInt8(ascii: "]") { hostEnd += 1 }
                i = min(n, hostEnd + 1)
            } else {
                hostEnd = i
                while hostEnd < n {
                    let c = b[hostEnd]
                    if c == UInt8(ascii: ":") || c == UInt8(ascii: ";") || c == UInt8(ascii: ">") || c == UInt8(ascii: "?") { break }
                    hostEnd += 1
                }
                i = hostEnd
            }
            var port = 0
            if i < n && b[i] == UInt8(ascii: ":") {
                i += 1
                while i < n && b[i] >= 48 && b[i] <= 57 {
                    port = port &* 10 &+ Int(b[i] - 48)
                    if port > 65535 { port = 0; break }
                    i += 1
                }
            }
            let host = String(decoding: UnsafeBufferPointer(rebasing: b[hostStart..<hostEnd]), as: UTF8.self)
            return (host, port)
        }
    }

    private static func lower(_ c: UInt8) -> UInt8 { c >= 65 && c <= 90 ? c + 32 : c }
}
