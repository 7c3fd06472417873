import Reactor
@testable import TandemProxy
import TandemTestSupport
import Testing

/// `isMyself(host:port:)` finds a listen address by its own text before parsing the host; it answers
/// what the parsing check (`isMyselfParsing`) answers, on fixed hosts and on seeded mutations of them.
@Suite struct IsMyselfLookupTests {
    static let core = ProxyCore(
        settings: ProxySettings(listen: [SocketAddress(ip: "127.0.0.1", port: 15060)!, SocketAddress(ip: "::1", port: 5060)!,
                                         SocketAddress(ip: "10.0.0.7", port: 5060)!],
                                aliases: ["proxy.example", "Other.Example"]),
        router: RelayRouter())

    static let hosts = [
        "127.0.0.1", "[127.0.0.1]", "127.0.0.01", "127.0.0.1 ", "::1", "[::1]", "0:0:0:0:0:0:0:1", "[0::1]",
        "10.0.0.7", "10.0.0.70", "proxy.example", "PROXY.example", "other.example", "[::ffff:127.0.0.1]", "",
        "[", "[]", "1.2.3.4", "fe80::1%lo",
    ]

    @Test func lookupAgreesWithParsing() {
        let alphabet = Array("0179.:[]afAF%x ".utf8)
        let inputs = Self.hosts
            + CorpusMutations.make(Self.hosts, alphabet: alphabet, seed: 0x9E37_79B9_7F4A_7C15, count: 20_000)
                .map { String(decoding: $0, as: UTF8.self) }
        for host in inputs {
            for port: UInt16? in [nil, 5060, 15060, 15061] {
                var h = Substring(host)
                if h.hasPrefix("["), h.hasSuffix("]") { h = h.dropFirst().dropLast() }
                #expect(Self.core.isMyself(host: host, port: port) == Self.core.isMyselfParsing(h, port: port ?? 5060),
                        "\(host) \(String(describing: port))")
            }
        }
        #expect(Self.core.isMyself(host: "127.0.0.1", port: 15060))
        #expect(Self.core.isMyself(host: "[::1]", port: nil))
        #expect(!Self.core.isMyself(host: "127.0.0.1", port: 5060))
    }
}
