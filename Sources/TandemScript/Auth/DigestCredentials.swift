/// The digest credentials of an `Authorization` or `Proxy-Authorization` header (RFC 7616 §3.4,
/// RFC 3261 §22.4): `Digest username="…", realm="…", nonce="…", uri="…", response="…", …`.
public struct DigestCredentials: Sendable, Equatable {
    public var username: String
    public var realm: String
    public var nonce: String
    public var uri: String
    public var response: String
    public var algorithm: DigestAlgorithm
    public var qop: String?
    public var nc: String?
    public var cnonce: String?
    public var opaque: String?

    /// Parses a header value; nil if it is not Digest or lacks a required field. One pass over the
    /// bytes: only the fields used here become strings (no dictionary; parsed for every authorized
    /// request and for `$au`/`$ar`).
    public init?(parsing value: String) {
        var username: String?, realm: String?, nonce: String?, uri: String?, response: String?
        var algorithm: String?, qop: String?, nc: String?, cnonce: String?, opaque: String?
        let ok: Bool? = value.utf8.withContiguousStorageIfAvailable { bytes -> Bool in
            let n = bytes.count
            var i = 0
            while i < n, bytes[i] == 32 || bytes[i] == 9 { i += 1 }
            guard n - i > 6 else { return false }
            let scheme: [UInt8] = Array("digest".utf8)
            for k in 0..<6 where bytes[i + k] | 0x20 != scheme[k] { return false }
            i += 6
            while i < n {
                while i < n, bytes[i] == 32 || bytes[i] == 9 || bytes[i] == 44 { i += 1 }
                let nameStart = i
                while i < n, bytes[i] != 61, bytes[i] != 44 { i += 1 }
                var nameEnd = i
                while nameEnd > nameStart, bytes[nameEnd - 1] == 32 || bytes[nameEnd - 1] == 9 { nameEnd -= 1 }
                guard i < n, bytes[i] == 61 else { continue }
                i += 1
                while i < n, bytes[i] == 32 || bytes[i] == 9 { i += 1 }
                var text: String
                if i < n, bytes[i] == 34 {
                    i += 1
                    let start = i
                    var escaped = false
                    while i < n, bytes[i] != 34 {
                        if bytes[i] == 92, i + 1 < n { escaped = true; i += 1 }
                        i += 1
                    }
                    if escaped {
                        var unescaped: [UInt8] = []
                        var j = start
                        while j < i {
                            if bytes[j] == 92, j + 1 < i { j += 1 }
                            unescaped.append(bytes[j])
                            j += 1
                        }
                        text = String(decoding: unescaped, as: UTF8.self)
                    } else {
                        text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<min(i, n)]), as: UTF8.self)
                    }
                    i += 1
                } else {
                    let start = i
                    while i < n, bytes[i] != 44 { i += 1 }
                    text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
                }
                let name = UnsafeBufferPointer(rebasing: bytes[nameStart..<nameEnd])
                func named(_ candidate: StaticString) -> Bool {
                    guard candidate.utf8CodeUnitCount == name.count else { return false }
                    let c = candidate.utf8Start
                    for k in 0..<name.count where name[k] | 0x20 != c[k] { return false }
                    return true
                }
                if text.utf8.first == 32 || text.utf8.last == 32 { text = text.trimmingSpaces() }
                switch name.count {
                case 2 where named("nc"): nc = text
                case 3 where named("uri"): uri = text
                case 3 where named("qop"): qop = text
                case 5 where named("realm"): realm = text
                case 5 where named("nonce"): nonce = text
                case 6 where named("cnonce"): cnonce = text
                case 6 where named("opaque"): opaque = text
                case 8 where named("username"): username = text
                case 8 where named("response"): response = text
                case 9 where named("algorithm"): algorithm = text
                default: break
                }
            }
            return true
        }
        if ok == nil {
            // Not contiguous (bridged): parse a native copy.
            var copy = value
            copy.makeContiguousUTF8()
            guard let parsed = DigestCredentials(parsing: copy) else { return nil }
            self = parsed
            return
        }
        guard ok == true, let username, let realm, let nonce, let uri, let response,
              let algorithm = DigestAlgorithm(name: algorithm ?? "MD5") else { return nil }
        self.username = username
        self.realm = realm
        self.nonce = nonce
        self.uri = uri
        self.response = response.lowercased()
        self.algorithm = algorithm
        self.qop = qop
        self.nc = nc
        self.cnonce = cnonce
        self.opaque = opaque
    }

    /// The credentials for `realm` among the values of an authorization header (all of them when
    /// `realm` is nil).
    public static func find(in values: [String], realm: String?) -> DigestCredentials? {
        for value in values {
            guard let credentials = DigestCredentials(parsing: value) else { continue }
            if realm == nil || credentials.realm == realm { return credentials }
        }
        return nil
    }
}
