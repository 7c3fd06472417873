import Glibc
import Testing
@testable import Reactor

@Suite struct SocketAddressTests {
    @Test func ipv4RoundTrip() throws {
        let a = try #require(SocketAddress(ip: "192.0.2.10", port: 5060))
        #expect(a.family == .ipv4)
        #expect(a.ip == "192.0.2.10")
        #expect(a.port == 5060)
        #expect(a.description == "192.0.2.10:5060")
        #expect(SocketAddress("192.0.2.10:5060") == a)
        #expect(!a.isLoopback)
        #expect(SocketAddress(ip: "127.0.0.5", port: 1)!.isLoopback)
    }

    @Test func ipv6RoundTrip() throws {
        let a = try #require(SocketAddress(ip: "2001:db8::1", port: 5061))
        #expect(a.family == .ipv6)
        #expect(a.ip == "2001:db8::1")
        #expect(a.description == "[2001:db8::1]:5061")
        #expect(SocketAddress("[2001:db8::1]:5061") == a)
        #expect(SocketAddress(ip: "[::1]", port: 5)!.isLoopback)
        #expect(SocketAddress("::1", defaultPort: 5060) == SocketAddress(ip: "::1", port: 5060))
    }

    @Test func rejectsNonNumeric() {
        #expect(SocketAddress(ip: "example.com", port: 5060) == nil)
        #expect(SocketAddress(ip: "1.2.3.256", port: 5060) == nil)
        #expect(SocketAddress("1.2.3.4:99999") == nil)
        #expect(SocketAddress("1.2.3.4") == nil)
        #expect(SocketAddress("[::1") == nil)
    }

    @Test func hashableAndPortChange() {
        let a = SocketAddress(ip: "10.0.0.1", port: 1)!
        let b = SocketAddress(ip: "10.0.0.1", port: 2)!
        #expect(a != b)
        #expect(a.withPort(2) == b)
        #expect(Set([a, b, a.withPort(2)]).count == 2)
        #expect(SocketAddress(ip: "::ffff:10.0.0.1", port: 1) != a, "v4-mapped v6 is a different address")
    }

    @Test func sockaddrConversionRoundTrip() {
        for text in ["127.0.0.1:9", "[fe80::1:2]:65535"] {
            let a = SocketAddress(text)!
            let back = a.withSockAddr { ptr, len in
                SocketAddress(bytes: UnsafeRawBufferPointer(start: ptr, count: Int(len)), length: len)
            }
            #expect(back == a)
        }
    }
}
