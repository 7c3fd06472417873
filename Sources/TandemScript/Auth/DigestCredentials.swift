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

    /// Parses a header value; nil if it is not Digest or lacks a required field.
    public init?(parsing value: String) {
        var text = Substring(value)
        while text.first == " " || text.first == "\t" { text = text.dropFirst() }
        guard text.count > 6, text.prefix(6).lowercased() == "digest" else { return nil }
        text = text.dropFirst(6)
        var fields: [String: String] = [:]
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count {
            while i < bytes.count, bytes[i] == 32 || bytes[i] == 9 || bytes[i] == 44 { i += 1 }
            let nameStart = i
            while i < bytes.count, bytes[i] != 61, bytes[i] != 44 { i += 1 }
            let name = String(decoding: bytes[nameStart..<i], as: UTF8.self).trimmingSpaces().lowercased()
            guard i < bytes.count, bytes[i] == 61 else { continue }
            i += 1
            while i < bytes.count, bytes[i] == 32 || bytes[i] == 9 { i += 1 }
            var fieldValue: [UInt8] = []
            if i < bytes.count, bytes[i] == 34 {
                i += 1
                while i < bytes.count, bytes[i] != 34 {
                    if bytes[i] == 92, i + 1 < bytes.count { i += 1 }
                    fieldValue.append(bytes[i])
                    i += 1
                }
                i += 1
            } else {
                while i < bytes.count, bytes[i] != 44 { fieldValue.append(bytes[i]); i += 1 }
            }
            if !name.isEmpty {
                fields[name] = String(decoding: fieldValue, as: UTF8.self).trimmingSpaces()
            }
        }
        guard let username = fields["username"], let realm = fields["realm"], let nonce = fields["nonce"],
              let uri = fields["uri"], let response = fields["response"] else { return nil }
        guard let algorithm = DigestAlgorithm(name: fields["algorithm"] ?? "MD5") else { return nil }
        self.username = username
        self.realm = realm
        self.nonce = nonce
        self.uri = uri
        self.response = response.lowercased()
        self.algorithm = algorithm
        self.qop = fields["qop"]
        self.nc = fields["nc"]
        self.cnonce = fields["cnonce"]
        self.opaque = fields["opaque"]
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
