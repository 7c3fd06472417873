import Reactor
import SIPCore

/// The basics of OpenSIPS 3.6's `nathelper` module on a request: `nat_uac_test(flags)`,
/// `fix_nated_contact([uri_params])`, `fix_nated_register()` and `add_rcv_param([flag])`. The registrar
/// stores a contact's `received` address only when the script asked for it (``RequestContext/registerReceived``,
/// set by `fix_nated_register()` or from the registrar's `received_avp`).
extension ProxyCore {
    /// The tests of `nat_uac_test(flags)` (nathelper's numbering).
    public struct NATTests: OptionSet, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        /// 1: the Contact host is a private address (RFC 1918, RFC 6598).
        public static let privateContact = NATTests(rawValue: 1)
        /// 2: the top Via's host is not the source IP.
        public static let viaAddressDiffers = NATTests(rawValue: 2)
        /// 4: the top Via's host is a private address.
        public static let privateVia = NATTests(rawValue: 4)
        /// 8: the SDP's connection address (`c=`) is a private address.
        public static let privateSDP = NATTests(rawValue: 8)
        /// 16: the source port is not the top Via's port (5060 when it names none).
        public static let viaPortDiffers = NATTests(rawValue: 16)
        /// 32: the Contact host is not the source IP.
        public static let contactAddressDiffers = NATTests(rawValue: 32)
        /// 64: the Contact port is not the source port.
        public static let contactPortDiffers = NATTests(rawValue: 64)
    }

    /// `nat_uac_test(flags)`: 1 when any of the requested tests finds a NAT, else -1.
    public func natUACTest(_ context: RequestContext, tests: NATTests) -> Int32 {
        Self.natUACTest(context.message, source: context.source, tests: tests)
    }

    /// `nat_uac_test(flags)` in an onreply_route: the tests on the reply and where it came from.
    public func natUACTest(_ reply: ReplyContext, tests: NATTests) -> Int32 {
        Self.natUACTest(reply.message, source: reply.source, tests: tests)
    }

    static func natUACTest(_ message: SIPMessage, source: SocketAddress, tests: NATTests) -> Int32 {
        let contact = (try? message.contacts())?.first?.uri.sipURI
        let via = try? message.topVia()
        if tests.contains(.privateContact), let contact, Self.isPrivateAddress(String(contact.bareHost)) { return 1 }
        if tests.contains(.viaAddressDiffers), let via, Self.bare(via.host) != source.ip { return 1 }
        if tests.contains(.privateVia), let via, Self.isPrivateAddress(Self.bare(via.host)) { return 1 }
        if tests.contains(.privateSDP), Self.sdpHasPrivateAddress(message.body) { return 1 }
        if tests.contains(.viaPortDiffers), let via, (via.port ?? 5060) != source.port { return 1 }
        if tests.contains(.contactAddressDiffers), let contact, String(contact.bareHost) != source.ip { return 1 }
        if tests.contains(.contactPortDiffers), let contact, (contact.port ?? 5060) != source.port { return 1 }
        return -1
    }

    /// `sip:IP:PORT` of the request's source (`;transport=tcp` or `tls` over a stream socket): what
    /// `fix_nated_register()` records as the contacts' `received`.
    public func sourceURI(_ context: RequestContext) -> String {
        let source = context.source
        let address = source.family == .ipv6 ? "[\(source.ip)]" : source.ip
        let transport = settings.transport(at: context.socketIndex)
        return "sip:\(address):\(source.port)" + (transport.isReliable ? ";transport=\(transport.rawValue)" : "")
    }

    /// `fix_nated_register()`: the contacts a following `save()` stores get the source as `received`
    /// (requests for them are sent there). 1 for a REGISTER, -1 otherwise.
    public func fixNatedRegister(_ context: RequestContext) -> Int32 {
        guard context.message.method == .register else { return -1 }
        context.registerReceived = sourceURI(context)
        return 1
    }

    /// `fix_nated_contact([uri_params])`: the first Contact's host and port become the source's (and
    /// `uri_params`, e.g. `;nat=yes`, is appended to its URI). 1 done, -1 no Contact to fix.
    public func fixNatedContact(_ context: RequestContext, uriParameters: String? = nil) -> Int32 {
        Self.fixNatedContact(&context.message, source: context.source, uriParameters: uriParameters)
    }

    /// `fix_nated_contact([uri_params])` in an onreply_route: the reply's Contact.
    public func fixNatedContact(_ reply: ReplyContext, uriParameters: String? = nil) -> Int32 {
        Self.fixNatedContact(&reply.message, source: reply.source, uriParameters: uriParameters)
    }

    static func fixNatedContact(_ message: inout SIPMessage, source: SocketAddress, uriParameters: String?) -> Int32 {
        guard !message.isWildcardContact, var contacts = try? message.contacts(),
              let first = contacts.first, var uri = first.uri.sipURI else { return -1 }
        uri.host = source.family == .ipv6 ? "[\(source.ip)]" : source.ip
        uri.port = source.port
        var text = uri.description
        if let uriParameters, !uriParameters.isEmpty {
            text += uriParameters.hasPrefix(";") ? uriParameters : ";" + uriParameters
        }
        contacts[0] = NameAddr(displayName: first.displayName, uri: text, parameters: first.parameters)
        message.setHeader(.contact, contacts.map(\.description).joined(separator: ", "))
        return 1
    }

    /// `add_rcv_param([flag])`: every Contact gets `received="sip:IP:PORT"` (flag 1: as a parameter of
    /// the Contact URI, unquoted). 1 done, -1 no Contact.
    public func addReceivedParameter(_ context: RequestContext, inURI: Bool) -> Int32 {
        guard !context.message.isWildcardContact, let contacts = try? context.message.contacts(),
              !contacts.isEmpty else { return -1 }
        let received = sourceURI(context)
        let changed = contacts.map { contact -> NameAddr in
            var contact = contact
            if inURI {
                contact.uriText += ";received=\(received)"
            } else {
                contact.parameters.removeAll { $0.name.lowercased() == "received" }
                contact.parameters.append(SIPParameter(name: "received", value: "\"\(received)\""))
            }
            return contact
        }
        context.message.setHeader(.contact, changed.map(\.description).joined(separator: ", "))
        return 1
    }

    /// An IPv4 address in 10/8, 172.16/12, 192.168/16 (RFC 1918) or 100.64/10 (RFC 6598).
    static func isPrivateAddress(_ host: String) -> Bool {
        let parts = host.split(separator: ".")
        guard parts.count == 4 else { return false }
        let octets = parts.compactMap { UInt8($0) }
        guard octets.count == 4 else { return false }
        switch (octets[0], octets[1]) {
        case (10, _): return true
        case (172, 16...31): return true
        case (192, 168): return true
        case (100, 64...127): return true
        default: return false
        }
    }

    /// True when a `c=` line of the SDP body names a private IPv4 address.
    static func sdpHasPrivateAddress(_ body: ArraySlice<UInt8>) -> Bool {
        guard !body.isEmpty else { return false }
        for line in String(decoding: body, as: UTF8.self).split(whereSeparator: { $0 == "\r" || $0 == "\n" })
        where line.hasPrefix("c=") {
            if let address = line.split(separator: " ").last,
               isPrivateAddress(String(address.split(separator: "/").first ?? address)) { return true }
        }
        return false
    }

    private static func bare(_ host: String) -> String {
        host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
    }
}
