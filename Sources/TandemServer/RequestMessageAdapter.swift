import Reactor
import SIPCore
import TandemProxy
import TandemScript

/// The request of a `RequestContext` as the routing script reads and changes it (`$ru`, `$hdr(...)`,
/// `append_hf`, …). One per route run, on the worker running it.
final class RequestMessageAdapter: ScriptMessage {
    let context: RequestContext
    /// The listen address the request arrived on (`$Ri`, `$Rp`).
    let local: SocketAddress?

    init(context: RequestContext, local: SocketAddress?) {
        self.context = context
        self.local = local
    }

    private var message: SIPMessage {
        get { context.message }
        set { context.message = newValue }
    }

    var isRequest: Bool { true }
    var method: String { message.method?.name ?? "" }
    var hasToTag: Bool { (try? message.to())?.tag != nil }
    var flags: UInt64 {
        get { context.flags }
        set { context.flags = newValue }
    }

    func get(_ pv: MessagePV, name: String?, index: Int?) -> ScriptValue {
        switch pv {
        case .requestURI: return text(message.requestURIText)
        case .requestUser: return text(requestSIPURI?.user)
        case .requestDomain: return text(requestSIPURI.map { String($0.bareHost) })
        case .requestPort: return requestSIPURI?.port.map { .int(Int($0)) } ?? .null
        case .destinationURI: return text(context.destinationURI)
        case .originalURI: return text(message.requestURIText)
        case .fromURI: return text((try? message.from())?.uriText)
        case .fromUser: return text((try? message.from())?.uri.sipURI?.user)
        case .fromDomain: return text((try? message.from())?.uri.sipURI.map { String($0.bareHost) })
        case .fromTag: return text((try? message.from())?.tag)
        case .toURI: return text((try? message.to())?.uriText)
        case .toUser: return text((try? message.to())?.uri.sipURI?.user)
        case .toDomain: return text((try? message.to())?.uri.sipURI.map { String($0.bareHost) })
        case .toTag: return text((try? message.to())?.tag)
        case .callID: return text(message.callID)
        case .cseq: return (try? message.cseq()).map { .int(Int($0.number)) } ?? .null
        case .method: return text(message.method?.name)
        case .replyStatus: return context.failureStatus > 0 ? .int(context.failureStatus) : .null
        case .replyReason: return .null
        case .sourceIP: return .string(context.source.ip)
        case .sourcePort: return .int(Int(context.source.port))
        case .receivedIP: return text(local?.ip)
        case .receivedPort: return local.map { .int(Int($0.port)) } ?? .null
        case .proto: return .string("udp")
        case .userAgent: return text(message.header(.userAgent))
        case .body: return .string(String(decoding: message.body, as: UTF8.self))
        case .message: return .string(String(decoding: message.serialize(), as: UTF8.self))
        case .contact: return text(message.header(.contact))
        case .header:
            guard let name else { return .null }
            let values = message.headerValues(HeaderName(name))
            guard !values.isEmpty else { return .null }
            guard let index else { return .string(values[0]) }
            let i = index >= 0 ? index : values.count + index
            return i >= 0 && i < values.count ? .string(values[i]) : .null
        case .replyCode: return .int(context.failureStatus)
        case .branchIndex: return .int(0)
        }
    }

    func set(_ pv: MessagePV, value: ScriptValue) -> Bool {
        switch pv {
        case .requestURI:
            guard case .string(let text) = value, (try? URI(parsing: text)) != nil else { return false }
            message.setRequestURI(text)
            return true
        case .destinationURI:
            context.destinationURI = value.isNull ? nil : value.stringValue
            return true
        case .requestUser, .requestDomain, .requestPort:
            guard var uri = requestSIPURI else { return false }
            switch pv {
            case .requestUser: uri.user = value.isNull ? nil : value.stringValue
            case .requestDomain:
                guard !value.isNull else { return false }
                uri.host = value.stringValue
            default:
                if value.isNull { uri.port = nil } else {
                    guard let port = value.intValue, let p = UInt16(exactly: port) else { return false }
                    uri.port = p
                }
            }
            message.setRequestURI(uri.description)
            return true
        default:
            return false
        }
    }

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

    func replaceHeader(named name: String, value: String) -> Bool {
        let header = HeaderName(name)
        guard message.hasHeader(header) else { return false }
        message.setHeader(header, value)
        return true
    }

    private var requestSIPURI: SIPURI? { (try? message.requestURI())?.sipURI }

    private func text(_ value: String?) -> ScriptValue { value.map { .string($0) } ?? .null }

    /// Splits `Name: value\r\n` lines as a script writes them for append_hf/insert_hf.
    static func headerLines(_ raw: String) -> [(String, String)] {
        var result: [(String, String)] = []
        for line in raw.split(whereSeparator: { $0 == "\r" || $0 == "\n" }) {
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
