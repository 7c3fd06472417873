import Reactor
@testable import TandemProxy
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
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Int {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return Int(truncatingIfNeeded: state & 0x7FFF_FFFF)
        }
        let alphabet = Array("0179.:[]afAF%x ".utf8)
        var inputs = Self.hosts
        for _ in 0..<20_000 {
            var bytes = Array(Self.hosts[next() % Self.hosts.count].utf8)
            for _ in 0...(next() % 3) {
                let b = alphabet[next() % alphabet.count]
                switch next() % 3 {
                case 0 where !bytes.isEmpty: bytes[next() % bytes.count] = b
                case 1: bytes.insert(b, at: next() % (bytes.count + 1))
                default: if !bytes.isEmpty { bytes.remove(at: next() % bytes.count) }
                }
            }
            inputs.append(String(decoding: bytes, as: UTF8.self))
        }
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
