import Reactor
import SIPCore
import TandemProxy
import TandemScript

/// A SIP message as the routing script reads and changes it (`$ru`, `$hdr(...)`, `append_hf`, …):
/// the part common to requests and replies. Subclasses say where the message lives and add the
/// pseudo-variables of their context. One per route run, on the worker running it.
class SIPMessageAdapter: ScriptMessage {
    /// The listen address the message arrived on (`$Ri`, `$Rp`).
    let local: SocketAddress?
    /// Where it came from (`$si`, `$sp`).
    let source: SocketAddress
    /// The transport it came over (`$proto`, `$socket_in(proto)`): `udp`, `tcp` or `tls`.
    let proto: String

    init(local: SocketAddress?, source: SocketAddress, proto: String = "udp") {
        self.local = local
        self.source = source
        self.proto = proto
    }

    /// The message the script works on (overridden).
    var message: SIPMessage {
        get { preconditionFailure("SIPMessageAdapter.message must be overridden") }
        set { preconditionFailure("SIPMessageAdapter.message must be overridden") }
    }

    /// To and From as this run last parsed them (the adapter lives for one route run), each with the
    /// header bytes it came from: a read compares the bytes and parses again only when the header
    /// changed. Kept here, not in the message, so that stored messages do not grow.
    private var parsedTo: ParsedAddress?
    private var parsedFrom: ParsedAddress?

    /// A parsed To/From value (nil parts: it does not parse) and the bytes it was parsed from.
    struct ParsedAddress {
        let raw: ArraySlice<UInt8>
        let nameAddr: NameAddr?
        let sipURI: SIPURI?

        init(_ raw: ArraySlice<UInt8>) {
            self.raw = raw
            if let parsed = try? NameAddr.parsed(raw) {
                nameAddr = parsed.nameAddr
                sipURI = parsed.uri.sipURI
            } else {
                nameAddr = nil
                sipURI = nil
            }
        }
    }

    /// The To header as `message.to()` reads it (nil when absent or malformed), parsed once per change.
    var toAddress: ParsedAddress? {
        guard let raw = message.firstValueBytes(.to) else { return nil }
        if let cached = parsedTo, cached.raw == raw { return cached }
        let parsed = ParsedAddress(raw)
        parsedTo = parsed
        return parsed
    }

    /// The From header as `message.from()` reads it, parsed once per change.
    var fromAddress: ParsedAddress? {
        guard let raw = message.firstValueBytes(.from) else { return nil }
        if let cached = parsedFrom, cached.raw == raw { return cached }
        let parsed = ParsedAddress(raw)
        parsedFrom = parsed
        return parsed
    }

    var isRequest: Bool { message.isRequest }
    var method: String { message.method?.name ?? (try? message.cseq())?.method.name ?? "" }
    /// `toAddress?.nameAddr?.tag != nil`, read from the header bytes unless this run parsed To already.
    var hasToTag: Bool {
        guard let raw = message.firstValueBytes(.to) else { return false }
        if let cached = parsedTo, cached.raw == raw { return cached.nameAddr?.tag != nil }
        return NameAddr.hasTag(raw)
    }
    /// The top Via branch (subclasses use the transaction's key when they have one).
    var transactionBranch: String? { (try? message.topVia())?.branch }
    var flags: UInt64 {
        get { 0 }
        set {}
    }

    func get(_ pv: MessagePV, name: String?, index: Int?) -> ScriptValue {
        switch pv {
        case .requestURI: return text(message.requestURIText)
        case .requestUser: return text(requestSIPURI?.user)
        case .requestDomain: return text(requestSIPURI.map { String($0.bareHost) })
        case .requestPort: return requestSIPURI?.port.map { .int(Int($0)) } ?? .null
        case .destinationURI: return .null
        case .originalURI: return text(message.requestURIText)
        case .fromURI: return text(fromAddress?.nameAddr?.uriText)
        case .fromUser: return text(fromAddress?.sipURI?.user)
        case .fromDomain: return text(fromAddress?.sipURI.map { String($0.bareHost) })
        case .fromTag: return text(fromAddress?.nameAddr?.tag)
        case .toURI: return text(toAddress?.nameAddr?.uriText)
        case .toUser: return text(toAddress?.sipURI?.user)
        case .toDomain: return text(toAddress?.sipURI.map { String($0.bareHost) })
        case .toTag: return text(toAddress?.nameAddr?.tag)
        case .callID: return text(message.callID)
        case .cseq: return (try? message.cseq()).map { .int(Int($0.number)) } ?? .null
        case .method: return text(message.method?.name ?? (try? message.cseq())?.method.name)
        case .replyStatus: return message.statusCode.map { .int($0) } ?? .null
        case .replyReason: return text(message.reasonPhrase)
        case .sourceIP: return .string(source.ip)
        case .sourcePort: return .int(Int(source.port))
        case .receivedIP: return text(local?.ip)
        case .receivedPort: return local.map { .int(Int($0.port)) } ?? .null
        case .proto: return .string(proto)
        case .userAgent: return text(message.header(.userAgent))
        case .body: return .string(String(decoding: message.body, as: UTF8.self))
        case .message: return .string(String(decoding: message.serialize(), as: UTF8.self))
        case .contact: return text(message.header(.contact))
        case .header:
            guard let name else { return .null }
            let header = HeaderName(name)
            // The first value of a header that is not a comma list is its first line, as headerValues
            // would give it: read without building the array (mf_process_maxfwd_header on every request).
            if !header.isList, index == nil || index == 0 { return text(message.header(header)) }
            let values = message.headerValues(header)
            guard !values.isEmpty else { return .null }
            guard let index else { return .string(values[0]) }
            let i = index >= 0 ? index : values.count + index
            return i >= 0 && i < values.count ? .string(values[i]) : .null
        case .replyCode: return message.statusCode.map { .int($0) } ?? .int(0)
        case .branchIndex: return .int(0)
        case .addressFamily: return .string(source.family == .ipv6 ? "INET6" : "INET")
        case .headerCount:
            guard let name else { return .int(0) }
            return .int(message.headerLineCount(HeaderName(name)))
        case .socketIn: return socketIn(field: name)
        case .contactField: return contactField(name ?? "")
        case .branch: return .null
        case .authUser, .authRealm, .authURI:
            let values = message.headerValues(.proxyAuthorization) + message.headerValues(.authorization)
            guard let credentials = DigestCredentials.find(in: values, realm: nil) else { return .null }
            return .string(pv == .authUser ? credentials.username
                           : pv == .authRealm ? credentials.realm : credentials.uri)
        }
    }

    /// `$socket_in` (`udp:IP:PORT`) or one of its fields.
    func socketIn(field: String?) -> ScriptValue {
        guard let local else { return .null }
        switch field {
        case nil: return .string("\(proto):\(local.description)")
        case "ip"?, "advertised_ip"?: return .string(local.ip)
        case "port"?, "advertised_port"?: return .int(Int(local.port))
        case "proto"?: return .string(proto)
        case "af"?: return .string(local.family == .ipv6 ? "INET6" : "INET")
        case "anycast"?: return .int(0)
        default: return .null
        }
    }

    /// `$ct.fields(uri|name|expires|q|params)` of the first Contact.
    func contactField(_ field: String) -> ScriptValue {
        guard let contact = (try? message.contacts())?.first else { return .null }
        switch field {
        case "uri": return .string(contact.uriText)
        case "name": return text(contact.displayName)
        case "expires": return text(contact.parameters.value(of: "expires") ?? nil)
        case "q": return text(contact.parameters.value(of: "q") ?? nil)
        case "params":
            let params = contact.parameters.map { $0.description }.joined(separator: ";")
            return params.isEmpty ? .null : .string(params)
        default: return .null
        }
    }

    var rawText: String { String(decoding: message.serialize(), as: UTF8.self) }

    /// Takes the text back as the message (textops `subst`); refused when it no longer parses. The
    /// Content-Length is set from the body the text has now (a substitution may have resized it).
    func replaceRaw(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        var headEnd = bytes.count
        var i = 0
        while i + 3 < bytes.count {
            if bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 { headEnd = i; break }
            i += 1
        }
        let body = headEnd + 4 <= bytes.count ? Array(bytes[(headEnd + 4)...]) : []
        var lines = String(decoding: bytes[..<headEnd], as: UTF8.self)
            .split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
        lines.removeAll {
            let lower = $0.lowercased()
            return lower.hasPrefix("content-length:") || lower.hasPrefix("l:")
        }
        lines.append("Content-Length: \(body.count)")
        let rebuilt = Array((lines.joined(separator: "\r\n") + "\r\n\r\n").utf8) + body
        guard let parsed = try? SIPMessage(parsing: rebuilt) else { return false }
        message = parsed
        return true
    }

    func replaceBody(_ text: String) -> Bool {
        message.setBody(Array(text.utf8))
        return true
    }

    func set(_ pv: MessagePV, value: ScriptValue) -> Bool { false }

    func appendHeader(_ raw: String) {
        for (name, value) in Self.headerLines(raw) { message.appendHeader(HeaderName(name), value) }
    }

    func insertHeader(_ raw: String) {
        for (name, value) in Self.headerLines(raw).reversed() { message.prependHeader(HeaderName(name), value) }
    }

    func removeHeader(named name: String) -> Int {
        let header = HeaderName(name)
        let count = message.headerLineCount(header)
        if count > 0 { message.removeHeaders(header) }
        return count
    }

    func isHeaderPresent(named name: String) -> Bool { message.hasHeader(HeaderName(name)) }

    func headerValues(named name: String) -> [String] { message.headerValues(HeaderName(name)) }

    /// The credentials this run last looked up, with the header values they were found in (auth_db's
    /// arguments and the verdict each ask for them: parsed once while the header stays the same).
    private var lastCredentials: (header: String, realm: String?, values: [String], found: DigestCredentials?)?

    func credentials(header: String, realm: String?) -> DigestCredentials? {
        let values = Array(headerValues(named: header).prefix(16))
        if let last = lastCredentials, last.header == header, last.realm == realm, last.values == values {
            return last.found
        }
        let found = DigestCredentials.find(in: values, realm: realm)
        lastCredentials = (header, realm, values, found)
        return found
    }

    var headerNames: [String] { message.allHeaders.map { $0.name.description } }

    func replaceHeader(named name: String, value: String) -> Bool {
        let header = HeaderName(name)
        guard message.hasHeader(header) else { return false }
        message.setHeader(header, value)
        return true
    }

    var requestSIPURI: SIPURI? { (try? message.requestURI())?.sipURI }

    func text(_ value: String?) -> ScriptValue { value.map { .string($0) } ?? .null }

    /// Splits `Name: value\r\n` lines as a script writes them for append_hf/insert_hf.
    static func headerLines(_ raw: String) -> [(String, String)] {
        var result: [(String, String)] = []
        for line in raw.split(whereSeparator: \.isNewline) {  // "\r\n" is one Character
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].trimmingCharacters(in: " \t")
            let value = line[line.index(after: colon)...].trimmingCharacters(in: " \t")
            guard !name.isEmpty else { continue }
            result.append((name, value))
        }
        return result
    }
}

extension Substring {
    func trimmingCharacters(in set: String) -> String {
        var s = self
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
